import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { WardenError } from '../errors.js';
import { PROJECT_ROOT } from '../paths.js';

/**
 * Where `warden start --dev` keeps its state and which ports it uses.
 * Everything has a default; environment variables override it (tests use
 * them to run a private demo on free ports in a temporary directory).
 */
export interface DevSettings {
  /** Root of the dev state: keys, bundles, decision log (`WARDEN_DEV_DIR`, default `<repo>/.warden`). */
  dir: string;
  /** The demo's own secrets and certificate: `<dir>/dev`. */
  stateDir: string;
  /** The development token issuer, http://127.0.0.1:<port> (`WARDEN_DEV_ISSUER_PORT`, 8190). */
  issuerPort: number;
  /** Warden's PostgreSQL endpoint (`WARDEN_DEV_PG_PORT`, 6432). */
  endpointPort: number;
  /** The admin API (`WARDEN_DEV_ADMIN_PORT`, 8181). */
  adminPort: number;
  /** The embedded demo database (`WARDEN_DEV_DB_PORT`, 0: any free port). */
  databasePort: number;
}

export const AUDIENCE = 'urn:warden';
export const AGENT_CLIENT = 'demo-agent';
export const HUMAN_CLIENT = 'demo-human';
/** The claim that tells the dev issuer's agent tokens from its human ones. */
export const KIND_CLAIM = 'warden_kind';

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new WardenError('config.invalid', `${name}: expected a port number, got "${raw}"`);
  return n;
}

export function devSettings(env: NodeJS.ProcessEnv = process.env): DevSettings {
  const dir = env.WARDEN_DEV_DIR ? resolve(env.WARDEN_DEV_DIR) : join(PROJECT_ROOT, '.warden');
  return {
    dir,
    stateDir: join(dir, 'dev'),
    issuerPort: port(env, 'WARDEN_DEV_ISSUER_PORT', 8190),
    endpointPort: port(env, 'WARDEN_DEV_PG_PORT', 6432),
    adminPort: port(env, 'WARDEN_DEV_ADMIN_PORT', 8181),
    databasePort: port(env, 'WARDEN_DEV_DB_PORT', 0),
  };
}

/** What a running dev gateway tells the `warden dev token` command (`<stateDir>/running.json`). */
export interface DevState {
  pid: number;
  issuer: string;
  endpoint: { host: string; port: number };
  targets: string[];
}

export const statePath = (s: DevSettings) => join(s.stateDir, 'running.json');

/**
 * Reads a private file, or creates it (mode 0600, in a 0700 directory) with
 * `make()` the first time. Used for keys and client secrets that must
 * survive restarts.
 */
export async function privateFile(
  path: string,
  make: () => string | Promise<string>,
): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const value = await make();
  await writeFile(path, value, { mode: 0o600, flag: 'wx' }).catch(async (err) => {
    // Another process created it first: use theirs.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  });
  await chmod(path, 0o600);
  return readFile(path, 'utf8');
}
