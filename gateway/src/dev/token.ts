import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WardenError } from '../errors.js';
import { type DevClient, requestDevToken } from './issuer.js';
import { AGENT_CLIENT, type DevState, devSettings, HUMAN_CLIENT, statePath } from './settings.js';

/**
 * `warden dev token [--human]`: a real access token from the running demo's
 * token issuer (client-credentials grant with the secret kept in the dev
 * state directory). Fails, saying so, when no demo is running.
 */
export async function devToken(kind: 'agent' | 'human'): Promise<string> {
  const settings = devSettings();
  const notRunning = () =>
    new WardenError(
      'identity.unavailable',
      `no dev gateway is running with its state in ${settings.dir} (start one with \`npm start\`)`,
    );
  let state: DevState;
  let clients: Record<string, DevClient>;
  try {
    state = JSON.parse(await readFile(statePath(settings), 'utf8')) as DevState;
    clients = JSON.parse(await readFile(join(settings.stateDir, 'clients.json'), 'utf8')) as Record<
      string,
      DevClient
    >;
  } catch {
    throw notRunning();
  }
  const client = clients[kind === 'human' ? HUMAN_CLIENT : AGENT_CLIENT];
  if (!client) throw notRunning();
  return requestDevToken(state.issuer, client);
}
