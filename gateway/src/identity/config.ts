import { type Static, Type } from '@sinclair/typebox';
import { WardenError } from '../errors.js';
import { ASYMMETRIC_JWS_ALGORITHMS } from '../jose-algorithms.js';
import { oneOf } from '../validation.js';

/**
 * Signature algorithms an access token may use. Only asymmetric ones: `none`
 * and the HMAC family (HS*) are not even expressible, so a token keyed with
 * the issuer's public key (the key-confusion attack) can never verify.
 */
export const TOKEN_ALGORITHMS = [...ASYMMETRIC_JWS_ALGORITHMS, 'EdDSA', 'Ed25519'] as const;
export type TokenAlgorithm = (typeof TOKEN_ALGORITHMS)[number];

export const ON_EXPIRY = ['close', 'reauthenticate'] as const;
export type OnExpiry = (typeof ON_EXPIRY)[number];

/*
 * The same shape as config/schema.ts's SecretRef (and accepted by readSecret).
 * Declared here rather than imported so that schema.ts can embed this module's
 * schema without an import cycle.
 */
const SecretRefSchema = Type.Union(
  [
    Type.Object({ env: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
    Type.Object({ file: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
  ],
  { description: 'a secret reference: { env: NAME } or { file: path }' },
);

const claimName = (fallback?: string) =>
  Type.String({
    minLength: 1,
    ...(fallback === undefined ? {} : { default: fallback }),
    description: 'a claim name, or a dotted path into nested claims (realm_access.roles)',
  });

/**
 * The `identity:` section of the gateway configuration: which OpenID Provider
 * issues the access tokens agents and humans present, how they are checked,
 * and how their claims become a policy `Identity`. See ./README.md.
 */
export const IdentityConfigSchema = Type.Object(
  {
    issuer: Type.String({
      pattern: '^https?://[^\\s]+$',
      description:
        'the issuer identifier; discovery reads <issuer>/.well-known/openid-configuration',
    }),
    audience: Type.String({
      minLength: 1,
      description: "the value the token's aud must contain (Warden's resource indicator)",
    }),
    allow_insecure_http: Type.Boolean({
      default: false,
      description: 'accept an http:// issuer; honoured only for loopback hosts (tests, local IdPs)',
    }),
    algorithms: Type.Array(oneOf(TOKEN_ALGORITHMS), {
      minItems: 1,
      uniqueItems: true,
      default: ['RS256', 'PS256', 'ES256', 'EdDSA'],
    }),
    token_types: Type.Array(Type.String({ minLength: 1 }), {
      minItems: 1,
      uniqueItems: true,
      default: ['at+jwt'],
      description: 'accepted JWT typ header values (RFC 9068 at+jwt; some IdPs send JWT)',
    }),
    clock_skew_seconds: Type.Integer({ minimum: 0, maximum: 300, default: 30 }),
    max_token_bytes: Type.Integer({ minimum: 256, maximum: 1_048_576, default: 16_384 }),
    timeout_seconds: Type.Number({
      exclusiveMinimum: 0,
      maximum: 60,
      default: 5,
      description: 'per request to the IdP (discovery, JWKS, introspection)',
    }),
    jwks: Type.Object(
      {
        refresh_cooldown_seconds: Type.Number({
          minimum: 0,
          maximum: 3600,
          default: 30,
          description: 'an unknown kid refetches the key set at most once per this interval',
        }),
        max_age_seconds: Type.Number({ minimum: 1, maximum: 86_400, default: 600 }),
      },
      { additionalProperties: false, default: {} },
    ),
    introspection: Type.Optional(
      Type.Object(
        {
          client_id: Type.String({ minLength: 1 }),
          client_secret: SecretRefSchema,
          auth_method: oneOf(['client_secret_basic', 'client_secret_post'] as const, {
            default: 'client_secret_basic',
          }),
          cache_seconds: Type.Integer({
            minimum: 0,
            maximum: 300,
            default: 30,
            description: 'how long an active introspection result is reused (never past exp)',
          }),
        },
        {
          additionalProperties: false,
          description: 'opaque (non-JWT) tokens are checked at the RFC 7662 endpoint',
        },
      ),
    ),
    claims: Type.Object(
      {
        subject: claimName('sub'),
        groups: claimName('groups'),
        kind: Type.Optional(claimName()),
        agent_values: Type.Array(Type.String({ minLength: 1 }), { default: ['agent'] }),
        human_values: Type.Array(Type.String({ minLength: 1 }), { default: ['human'] }),
      },
      { additionalProperties: false, default: {} },
    ),
    agent_clients: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description: 'client ids whose tokens are always agents',
    }),
    cache: Type.Object(
      {
        max_entries: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 10_000 }),
        max_seconds: Type.Integer({
          minimum: 0,
          maximum: 86_400,
          default: 300,
          description: 'a verified JWT is reused until its exp, but at most this long',
        }),
      },
      { additionalProperties: false, default: {} },
    ),
    on_expiry: oneOf(ON_EXPIRY, {
      default: 'close',
      description:
        "when a session's token expires: 'close' ends it; 'reauthenticate' refuses new commands until the client presents a fresh token for the same identity",
    }),
  },
  { additionalProperties: false },
);

export type IdentityConfig = Static<typeof IdentityConfigSchema>;

/** Hosts for which `allow_insecure_http` is honoured. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(?:\.\d{1,3}){3}$/.test(h);
}

/** Whether `url` may be fetched under this configuration (https, or loopback http when allowed). */
export function isAllowedUrl(
  url: URL,
  config: Pick<IdentityConfig, 'allow_insecure_http'>,
): boolean {
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && config.allow_insecure_http && isLoopbackHost(url.hostname);
}

/**
 * Checks what the schema cannot: the issuer's scheme against
 * `allow_insecure_http`. Call after schema validation; `where` prefixes messages.
 */
export function checkIdentityConfig(config: IdentityConfig, where = 'identity'): void {
  let url: URL;
  try {
    url = new URL(config.issuer);
  } catch {
    throw new WardenError(
      'config.invalid',
      `${where}.issuer: expected a URL, got "${config.issuer}"`,
    );
  }
  if (url.protocol === 'http:' && !config.allow_insecure_http)
    throw new WardenError(
      'config.invalid',
      `${where}.issuer: an http:// issuer needs allow_insecure_http: true (loopback hosts only)`,
    );
  if (!isAllowedUrl(url, config))
    throw new WardenError(
      'config.invalid',
      `${where}.allow_insecure_http: honoured only for loopback issuers, not ${url.hostname}`,
    );
  if (url.search || url.hash)
    throw new WardenError('config.invalid', `${where}.issuer: must not have a query or fragment`);
}
