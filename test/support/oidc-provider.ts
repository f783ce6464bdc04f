/**
 * A real OpenID Provider (`oidc-provider`) running in-process on
 * http://127.0.0.1:<random port>, for tests of anything that accepts OIDC
 * access tokens (the identity module, protocol adapters).
 *
 *   const idp = await startTestIdp();
 *   const token = await idp.agentToken();          // real client_credentials grant → JWT (at+jwt)
 *   const opaque = await idp.opaqueToken();         // real client_credentials grant → opaque
 *   const human = await idp.humanToken('alice');    // issued through the provider's AccessToken model
 *   const forged = await idp.mint({ claims: { aud: 'other' } }); // precisely shaped, real key
 *   const config = idp.identityConfig({ introspection: true });  // raw `identity:` section
 *   ...
 *   await idp.stop();
 *
 * The provider's signing keys are generated here (not by the provider), so
 * `mint` can sign with the very key the JWKS publishes — valid, expired,
 * not-yet-valid tokens — while `forge` builds the classic attacks (foreign key
 * with the same kid, `alg: none`, HS256 keyed with the public key).
 *
 * Verifier configuration for these tokens (`idp.identityConfig()`): issuer
 * `idp.issuer`, audience `idp.audience` (`urn:warden`),
 * `allow_insecure_http: true`; introspection with `idp.introspector` (client
 * `warden`), its secret referenced through an environment variable the
 * provider sets while it runs.
 *
 * Clients: `agent-ci` (JWT access tokens, groups agents+ci), `agent-opaque`
 * (opaque access tokens, groups agents), `warden` (may introspect and revoke
 * anything), `warden-cli` (the client of human tokens). Access tokens live
 * `accessTokenTTL` seconds (default 300).
 *
 * `rotateKeys()` replaces the provider behind the same server (same issuer
 * and port; the in-memory token store is shared) with one whose JWKS starts
 * with a new key.
 *
 * Counters in `idp.requests` record the endpoints hit, so tests can assert on
 * JWKS refreshes and introspection caching; `idp.outage()` makes the server
 * drop or refuse connections without losing its port.
 */
import { createHmac, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type JWK, SignJWT } from 'jose';
import { clientCredentialsClient, quietly } from '../../gateway/src/dev/provider-support.js';

export const AUDIENCE = 'urn:warden';
export const SCOPE = 'warden:connect';
export const AGENT_CLIENT = 'agent-ci';
export const OPAQUE_CLIENT = 'agent-opaque';
export const HUMAN_CLIENT = 'warden-cli';
export const INTROSPECTOR_CLIENT = 'warden';

/** The slice of `oidc-provider` used here (the package ships no type declarations). */
interface OidcModel {
  save(): Promise<string>;
}
interface OidcProvider {
  issuer: string;
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  Client: { find(id: string): Promise<unknown> };
  Grant: new (init: {
    accountId: string;
    clientId: string;
  }) => OidcModel & {
    addResourceScope(resource: string, scope: string): void;
  };
  AccessToken: new (init: Record<string, unknown>) => OidcModel & { resourceServer: unknown };
  ResourceServer: new (identifier: string, info: ResourceServerInfo) => unknown;
}
interface OidcModule {
  default: new (issuer: string, configuration: Record<string, unknown>) => OidcProvider;
  errors: { InvalidTarget: new () => Error };
}
interface ResourceServerInfo {
  audience: string;
  scope: string;
  accessTokenTTL: number;
  accessTokenFormat: 'jwt' | 'opaque';
  jwt?: { sign: { alg: string } };
}
interface TokenLike {
  kind: string;
  clientId: string;
  accountId?: string;
}

export interface SigningKey {
  kid: string;
  alg: 'RS256';
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The private JWK (with kid, alg, use) as given to the provider. */
  privateJwk: JWK;
  publicJwk: JWK;
}

export interface TestIdpOptions {
  /** Groups put in the tokens of each client (client-credentials tokens). */
  clientGroups?: Record<string, string[]>;
  /** Lifetime of access tokens issued at the token endpoint, in seconds (default 300). */
  accessTokenTTL?: number;
}

export interface MintOptions {
  /** Claims merged over `defaultClaims()`; a claim set to `undefined` is removed. */
  claims?: Record<string, unknown>;
  /** Header parameters merged over `{ alg: 'RS256', typ: 'at+jwt', kid }`; `undefined` removes one. */
  header?: Record<string, unknown>;
  /**
   * The signing key: `'current'` (published, the default), `'foreign'` (a key
   * that is not published, with its own kid unless `header.kid` says otherwise),
   * or an explicit key.
   */
  key?: 'current' | 'foreign' | SigningKey;
}

export interface RequestCounts {
  discovery: number;
  jwks: number;
  token: number;
  introspection: number;
  revocation: number;
}

export interface TestIdp {
  /** The issuer identifier, e.g. http://127.0.0.1:41234 (no trailing slash). */
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUri: string;
  readonly agent: { clientId: string; clientSecret: string };
  readonly opaqueAgent: { clientId: string; clientSecret: string };
  /** A client allowed to introspect and revoke any token (for resource servers). */
  readonly introspector: { clientId: string; clientSecret: string };
  /** The key the provider currently signs with (the first in its JWKS). */
  readonly signingKey: SigningKey;
  readonly requests: RequestCounts;
  /** A client_credentials grant at the token endpoint; the JWT access token for `urn:warden`. */
  agentToken(client?: { clientId: string; clientSecret: string }): Promise<string>;
  /** A client_credentials grant whose access token is opaque (validated by introspection only). */
  opaqueToken(): Promise<string>;
  /** A JWT access token for a human account (`sub` = account), issued by the provider's own model. */
  humanToken(account: string, groups?: string[]): Promise<string>;
  /** Revokes a token at the revocation endpoint. */
  revoke(token: string): Promise<void>;
  /** Claims of a valid agent access token as the provider would issue them. */
  defaultClaims(): Record<string, unknown>;
  /** A JWS compact token with exactly the given shape (see MintOptions). */
  mint(options?: MintOptions): Promise<string>;
  /** Classic forgeries of an otherwise valid token. */
  forge: {
    /** Signed by a key that is not published, but with the published kid. */
    wrongKey(claims?: Record<string, unknown>): Promise<string>;
    /** `alg: none` with an empty signature. */
    algNone(claims?: Record<string, unknown>): string;
    /** HS256 keyed with the published public key (PEM text), the key-confusion attack. */
    hs256WithPublicKey(claims?: Record<string, unknown>): string;
  };
  /** Generates a new signing key; the provider signs with it from now on. The old key stays published unless `dropOld`. */
  rotateKeys(options?: { dropOld?: boolean }): Promise<SigningKey>;
  /**
   * The raw `identity:` configuration section for verifying this provider's
   * tokens (validate it with IdentityConfigSchema); `extra` is merged over it.
   */
  identityConfig(
    options?: { introspection?: boolean },
    extra?: Record<string, unknown>,
  ): Record<string, unknown>;
  /** Simulates an outage: `'reset'` destroys connections, a number answers that HTTP status, `null` ends it. */
  outage(mode: 'reset' | number | null): void;
  stop(): Promise<void>;
}

const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

/** An RSA signing key with a kid, in the shapes both the provider and jose want. */
export function generateSigningKey(kid = `k-${randomBytes(6).toString('hex')}`): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const meta = { kid, alg: 'RS256', use: 'sig' } as const;
  return {
    kid,
    alg: 'RS256',
    privateKey,
    publicKey,
    privateJwk: { ...privateKey.export({ format: 'jwk' }), ...meta } as JWK,
    publicJwk: { ...publicKey.export({ format: 'jwk' }), ...meta } as JWK,
  };
}

function unsigned(header: Record<string, unknown>, claims: Record<string, unknown>): string {
  return `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
}

function withoutUndefined(obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined));
}

/** Starts the provider; call `stop()` when done. */
export async function startTestIdp(options: TestIdpOptions = {}): Promise<TestIdp> {
  // A computed specifier keeps TypeScript from looking for declarations the package does not ship.
  const specifier: string = 'oidc-provider';
  const oidc = await quietly(async () => (await import(specifier)) as OidcModule);
  const Provider = oidc.default;
  const accessTokenTTL = options.accessTokenTTL ?? 300;
  const clientGroups: Record<string, string[]> = {
    [AGENT_CLIENT]: ['agents', 'ci'],
    [OPAQUE_CLIENT]: ['agents'],
    ...options.clientGroups,
  };
  const accountGroups = new Map<string, string[]>();
  const secret = () => randomBytes(24).toString('base64url');
  const agent = { clientId: AGENT_CLIENT, clientSecret: secret() };
  const opaqueAgent = { clientId: OPAQUE_CLIENT, clientSecret: secret() };
  const introspector = { clientId: INTROSPECTOR_CLIENT, clientSecret: secret() };
  const secretEnv = `WARDEN_TEST_IDP_SECRET_${randomBytes(4).toString('hex').toUpperCase()}`;
  process.env[secretEnv] = introspector.clientSecret;

  const requests: RequestCounts = {
    discovery: 0,
    jwks: 0,
    token: 0,
    introspection: 0,
    revocation: 0,
  };
  let outage: 'reset' | number | null = null;
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/.well-known/openid-configuration') requests.discovery++;
    else if (path === '/jwks') requests.jwks++;
    else if (path === '/token') requests.token++;
    else if (path === '/token/introspection') requests.introspection++;
    else if (path === '/token/revocation') requests.revocation++;
    if (outage === 'reset') {
      req.socket.destroy();
      return;
    }
    if (typeof outage === 'number') {
      res.writeHead(outage, { 'content-type': 'text/plain' }).end('unavailable');
      return;
    }
    handler!(req, res);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const resourceServer = (clientId: string | undefined): ResourceServerInfo => ({
    audience: AUDIENCE,
    scope: SCOPE,
    accessTokenTTL,
    accessTokenFormat: clientId === OPAQUE_CLIENT ? 'opaque' : 'jwt',
    jwt: { sign: { alg: 'RS256' } },
  });

  const clients: Record<string, unknown>[] = [
    { ...agent, scope: SCOPE },
    { ...opaqueAgent, scope: SCOPE },
    { ...introspector, scope: undefined },
  ].map((c) => clientCredentialsClient(c.clientId, c.clientSecret, c.scope));
  clients.push({
    client_id: HUMAN_CLIENT,
    client_secret: secret(),
    grant_types: ['authorization_code'],
    response_types: ['code'],
    redirect_uris: ['http://127.0.0.1/callback'],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: `openid ${SCOPE}`,
  });

  let keys: SigningKey[] = [generateSigningKey()];
  let provider!: OidcProvider;

  const build = () => {
    provider = quietly(
      () =>
        new Provider(issuer, {
          clients,
          jwks: { keys: keys.map((k) => k.privateJwk) },
          cookies: { keys: [secret()] },
          scopes: ['openid', SCOPE],
          ttl: { AccessToken: accessTokenTTL, ClientCredentials: accessTokenTTL, Grant: 3600 },
          findAccount: async (_ctx: unknown, id: string) => ({
            accountId: id,
            claims: async () => ({ sub: id }),
          }),
          extraTokenClaims: async (_ctx: unknown, token: TokenLike) => {
            const groups = token.accountId
              ? accountGroups.get(token.accountId)
              : clientGroups[token.clientId];
            return groups ? { groups } : undefined;
          },
          features: {
            devInteractions: { enabled: false },
            clientCredentials: { enabled: true },
            introspection: {
              enabled: true,
              allowedPolicy: async (_ctx: unknown, client: { clientId: string }) =>
                client.clientId === INTROSPECTOR_CLIENT,
            },
            revocation: {
              enabled: true,
              allowedPolicy: async (_ctx: unknown, client: { clientId: string }) =>
                client.clientId === INTROSPECTOR_CLIENT,
            },
            resourceIndicators: {
              enabled: true,
              defaultResource: async () => AUDIENCE,
              useGrantedResource: async () => true,
              getResourceServerInfo: async (
                _ctx: unknown,
                indicator: string,
                client: { clientId: string },
              ) => {
                if (indicator !== AUDIENCE) throw new oidc.errors.InvalidTarget();
                return resourceServer(client.clientId);
              },
            },
          },
        }),
    );
    handler = provider.callback();
  };
  build();

  const basic = (c: { clientId: string; clientSecret: string }) =>
    `Basic ${Buffer.from(`${encodeURIComponent(c.clientId)}:${encodeURIComponent(c.clientSecret)}`).toString('base64')}`;

  const clientCredentials = async (client: { clientId: string; clientSecret: string }) => {
    const res = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: {
        authorization: basic(client),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        resource: AUDIENCE,
        scope: SCOPE,
      }),
    });
    const body = (await res.json()) as { access_token?: string; error?: string };
    if (!res.ok || !body.access_token)
      throw new Error(`token endpoint: ${res.status} ${body.error ?? ''}`);
    return body.access_token;
  };

  const defaultClaims = () => {
    const now = Math.floor(Date.now() / 1000);
    return {
      iss: issuer,
      sub: AGENT_CLIENT,
      aud: AUDIENCE,
      client_id: AGENT_CLIENT,
      scope: SCOPE,
      groups: clientGroups[AGENT_CLIENT],
      jti: randomBytes(12).toString('base64url'),
      iat: now,
      exp: now + accessTokenTTL,
    };
  };

  let foreign: SigningKey | undefined;
  const foreignKey = () => {
    foreign ??= generateSigningKey();
    return foreign;
  };
  const mint = async (o: MintOptions = {}) => {
    const key =
      o.key === 'foreign'
        ? foreignKey()
        : o.key === undefined || o.key === 'current'
          ? keys[0]!
          : o.key;
    const header = withoutUndefined({ alg: key.alg, typ: 'at+jwt', kid: key.kid, ...o.header });
    const claims = withoutUndefined({ ...defaultClaims(), ...o.claims });
    // SignJWT sets only what it is told; the header is taken as given.
    return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(key.privateKey);
  };

  return {
    issuer,
    audience: AUDIENCE,
    jwksUri: `${issuer}/jwks`,
    agent,
    opaqueAgent,
    introspector,
    get signingKey() {
      return keys[0]!;
    },
    requests,
    agentToken: (client = agent) => clientCredentials(client),
    opaqueToken: () => clientCredentials(opaqueAgent),
    async humanToken(account, groups = ['engineers']) {
      accountGroups.set(account, groups);
      const grant = new provider.Grant({ accountId: account, clientId: HUMAN_CLIENT });
      grant.addResourceScope(AUDIENCE, SCOPE);
      const grantId = await grant.save();
      const token = new provider.AccessToken({
        accountId: account,
        client: await provider.Client.find(HUMAN_CLIENT),
        grantId,
        gty: 'authorization_code',
        scope: SCOPE,
      });
      token.resourceServer = new provider.ResourceServer(AUDIENCE, resourceServer(HUMAN_CLIENT));
      return token.save();
    },
    async revoke(token) {
      const res = await fetch(`${issuer}/token/revocation`, {
        method: 'POST',
        headers: {
          authorization: basic(introspector),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token }),
      });
      if (!res.ok) throw new Error(`revocation endpoint: ${res.status}`);
    },
    defaultClaims,
    mint,
    forge: {
      wrongKey: (claims) => mint({ claims, key: 'foreign', header: { kid: keys[0]!.kid } }),
      algNone: (claims) =>
        `${unsigned({ alg: 'none', typ: 'at+jwt', kid: keys[0]!.kid }, { ...defaultClaims(), ...claims })}.`,
      hs256WithPublicKey(claims) {
        const input = unsigned(
          { alg: 'HS256', typ: 'at+jwt', kid: keys[0]!.kid },
          { ...defaultClaims(), ...claims },
        );
        const pem = keys[0]!.publicKey.export({ type: 'spki', format: 'pem' });
        return `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
      },
    },
    async rotateKeys({ dropOld = false } = {}) {
      const next = generateSigningKey();
      keys = dropOld ? [next] : [next, ...keys];
      build();
      return next;
    },
    identityConfig(o = {}, extra = {}) {
      return {
        issuer,
        audience: AUDIENCE,
        allow_insecure_http: true,
        ...(o.introspection
          ? {
              introspection: {
                client_id: introspector.clientId,
                client_secret: { env: secretEnv },
              },
            }
          : {}),
        ...extra,
      };
    },
    outage(mode) {
      outage = mode;
    },
    async stop() {
      delete process.env[secretEnv];
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
  };
}
