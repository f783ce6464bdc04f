import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { WardenError } from '../errors.js';
import { clientCredentialsClient, quietly } from './provider-support.js';
import { AGENT_CLIENT, AUDIENCE, HUMAN_CLIENT, KIND_CLAIM, privateFile } from './settings.js';

/**
 * The development token issuer: a real OpenID Provider (`oidc-provider`) on
 * http://127.0.0.1:<port>, started inside `warden start --dev`. The gateway
 * verifies its tokens exactly as it would a production IdP's: discovery,
 * JWKS, and the JWT access-token checks.
 *
 * - `demo-agent` (client credentials): JWT access tokens (at+jwt) for
 *   `urn:warden`, `groups: ["agents"]`, `warden_kind: "agent"`.
 * - `demo-human` (client credentials, standing in for a person who would log
 *   in interactively at a real IdP): `groups: ["engineers"]`,
 *   `warden_kind: "human"`.
 *
 * The signing key and the client secrets are made on first run and kept in
 * `stateDir` (mode 0600), so tokens and secrets survive restarts.
 */

export const TOKEN_TTL_SECONDS = 3600;
const SCOPE = 'warden:connect';

interface OidcModule {
  default: new (
    issuer: string,
    configuration: Record<string, unknown>,
  ) => { callback(): (req: IncomingMessage, res: ServerResponse) => void };
  errors: { InvalidTarget: new () => Error };
}

const CLIENT_CLAIMS: Record<string, { groups: string[]; [KIND_CLAIM]: string }> = {
  [AGENT_CLIENT]: { groups: ['agents'], [KIND_CLAIM]: 'agent' },
  [HUMAN_CLIENT]: { groups: ['engineers'], [KIND_CLAIM]: 'human' },
};

export interface DevClient {
  clientId: string;
  clientSecret: string;
}

/** The client secrets of the dev issuer (made on first use, kept in `stateDir/clients.json`). */
export async function devClients(stateDir: string): Promise<Record<string, DevClient>> {
  const text = await privateFile(join(stateDir, 'clients.json'), () =>
    JSON.stringify(
      Object.fromEntries(
        Object.keys(CLIENT_CLAIMS).map((id) => [
          id,
          { clientId: id, clientSecret: randomBytes(32).toString('base64url') },
        ]),
      ),
      null,
      2,
    ),
  );
  return JSON.parse(text) as Record<string, DevClient>;
}

async function signingJwk(stateDir: string): Promise<Record<string, unknown>> {
  const text = await privateFile(join(stateDir, 'issuer-signing-key.json'), () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const kid = `dev-${randomBytes(6).toString('hex')}`;
    return JSON.stringify({
      ...privateKey.export({ format: 'jwk' }),
      kid,
      alg: 'RS256',
      use: 'sig',
    });
  });
  return JSON.parse(text) as Record<string, unknown>;
}

export interface DevIssuer {
  /** http://127.0.0.1:<port> */
  readonly issuer: string;
  close(): Promise<void>;
}

export async function startDevIssuer(options: {
  port: number;
  stateDir: string;
  logger: Logger;
}): Promise<DevIssuer> {
  const [clients, jwk] = await Promise.all([
    devClients(options.stateDir),
    signingJwk(options.stateDir),
  ]);
  // A computed specifier keeps TypeScript from looking for declarations the package does not ship.
  const specifier: string = 'oidc-provider';
  const oidc = await quietly(async () => (await import(specifier)) as OidcModule);

  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => handler!(req, res));
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new WardenError(
          'config.invalid',
          `the dev token issuer cannot listen on 127.0.0.1:${options.port}: ${err.code ?? err.message}` +
            (err.code === 'EADDRINUSE'
              ? ' (is another `warden start --dev` running? set WARDEN_DEV_ISSUER_PORT to use another port)'
              : ''),
        ),
      ),
    );
    server.listen(options.port, '127.0.0.1', resolve);
  });
  const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  const provider = await quietly(
    () =>
      new oidc.default(issuer, {
        clients: Object.values(clients).map((c) =>
          clientCredentialsClient(c.clientId, c.clientSecret, SCOPE),
        ),
        jwks: { keys: [jwk] },
        cookies: { keys: [randomBytes(32).toString('base64url')] },
        scopes: [SCOPE],
        ttl: { ClientCredentials: TOKEN_TTL_SECONDS },
        extraTokenClaims: async (_ctx: unknown, token: { clientId: string }) =>
          CLIENT_CLAIMS[token.clientId],
        features: {
          devInteractions: { enabled: false },
          clientCredentials: { enabled: true },
          introspection: { enabled: false },
          revocation: { enabled: false },
          resourceIndicators: {
            enabled: true,
            defaultResource: async () => AUDIENCE,
            useGrantedResource: async () => true,
            getResourceServerInfo: async (_ctx: unknown, indicator: string) => {
              if (indicator !== AUDIENCE) throw new oidc.errors.InvalidTarget();
              return {
                audience: AUDIENCE,
                scope: SCOPE,
                accessTokenTTL: TOKEN_TTL_SECONDS,
                accessTokenFormat: 'jwt',
                jwt: { sign: { alg: 'RS256' } },
              };
            },
          },
        },
      }),
  );
  handler = provider.callback();
  options.logger.info({ issuer, clients: Object.keys(clients) }, 'dev token issuer listening');

  return {
    issuer,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

/**
 * A token from the dev issuer by the client-credentials grant: discovery
 * for the token endpoint, then a POST authenticated with the client secret.
 */
export async function requestDevToken(issuer: string, client: DevClient): Promise<string> {
  const fail = (why: string) =>
    new WardenError(
      'identity.unavailable',
      `cannot get a token from the dev issuer ${issuer}: ${why} (is \`npm start\` running?)`,
    );
  let tokenEndpoint: string;
  try {
    const res = await fetch(`${issuer}/.well-known/openid-configuration`);
    if (!res.ok) throw fail(`discovery answered ${res.status}`);
    tokenEndpoint = ((await res.json()) as { token_endpoint: string }).token_endpoint;
  } catch (err) {
    if (err instanceof WardenError) throw err;
    throw fail((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message);
  }
  const basic = Buffer.from(
    `${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`,
  ).toString('base64');
  const res = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: {
      authorization: `Basic ${basic}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      resource: AUDIENCE,
      scope: SCOPE,
    }),
  });
  const body = (await res.json().catch(() => ({}))) as {
    access_token?: string;
    error?: string;
    error_description?: string;
  };
  if (!res.ok || !body.access_token)
    throw fail(
      `token endpoint answered ${res.status} ${body.error ?? ''} ${body.error_description ?? ''}`.trim(),
    );
  return body.access_token;
}
