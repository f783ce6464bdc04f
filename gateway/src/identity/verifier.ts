/**
 * Verifies OIDC access tokens presented to Warden (database password, SSH
 * keyboard-interactive answer, HTTP bearer) and maps them to a policy
 * identity. Protocol-neutral: adapters call `verify(token)` and render a
 * WardenError in their own terms. Rules and configuration: ./README.md.
 */
import * as crypto from 'node:crypto';
import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  type JWTPayload,
  type JWTVerifyGetKey,
  errors as jose,
  jwtVerify,
} from 'jose';
import * as oidc from 'openid-client';
import { readSecret } from '../config/load.js';
import { messageOf, WardenError } from '../errors.js';
import type { Identity } from '../policy/input.js';
import { ExpiringCache } from './cache.js';
import { type Claims, clientIdOf, identityFrom } from './claims.js';
import { checkIdentityConfig, type IdentityConfig, isAllowedUrl } from './config.js';

/** The claims of a verified token that callers may keep and log; never the token itself. */
export interface TokenClaims {
  format: 'jwt' | 'opaque';
  iss: string;
  sub?: string;
  aud: readonly string[];
  exp: number;
  iat?: number;
  nbf?: number;
  jti?: string;
  client_id?: string;
  scope?: string;
}

/** Shared through the cache, so frozen at run time; copy before changing anything. */
export interface VerifiedToken {
  readonly identity: Readonly<Identity>;
  /** When the token expires, in ms since the epoch (its `exp`, without skew). */
  readonly expiresAt: number;
  readonly claims: Readonly<TokenClaims>;
}

/** Why a token was refused, in `WardenError.details.reason` (stable, for logs and tests). */
export type RefusalReason =
  | 'size'
  | 'malformed'
  | 'encrypted'
  | 'opaque_unsupported'
  | 'algorithm'
  | 'type'
  | 'signature'
  | 'unknown_key'
  | 'issuer'
  | 'audience'
  | 'expired'
  | 'not_yet_valid'
  | 'claims'
  | 'inactive'
  | 'sender_constrained'
  | 'identity_changed';

export interface VerifierOptions {
  /** The clock, in ms (tests). */
  now?: () => number;
  /** The introspection client secret, when the caller has already read it. */
  clientSecret?: string;
}

export interface VerifierStats {
  verified: number;
  cacheHits: number;
  introspections: number;
  refused: number;
}

interface Discovered {
  issuer: string;
  jwks: JWTVerifyGetKey;
  client: oidc.Configuration | undefined;
}

/** SHA-256 of the token, the cache key (one-shot crypto.hash where Node has it: ~2× faster). */
const sha256: (token: string) => string =
  typeof crypto.hash === 'function'
    ? (token) => crypto.hash('sha256', token, 'base64')
    : (token) => crypto.createHash('sha256').update(token).digest('base64');

type ProtectedHeader = ReturnType<typeof decodeProtectedHeader>;

/** Retry discovery at most this often while the IdP is failing. */
const DISCOVERY_RETRY_MS = 1000;
/** JWS compact serialisation: header.payload.signature, base64url. */
const JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const JWE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
/** What may appear in a bearer token at all (RFC 6750 b64token plus `~`). */
const TOKEN_CHARS = /^[A-Za-z0-9._~+/=-]+$/;

export function refused(
  code: 'identity.invalid_token' | 'identity.expired',
  message: string,
  reason: RefusalReason,
): WardenError {
  return new WardenError(code, message, { reason });
}

function unavailable(message: string, cause: unknown): WardenError {
  return new WardenError('identity.unavailable', message, { cause: messageOf(cause) });
}

const normaliseTyp = (typ: string) => typ.toLowerCase().replace(/^application\//, '');

const audiences = (aud: unknown): string[] =>
  typeof aud === 'string'
    ? [aud]
    : Array.isArray(aud)
      ? aud.filter((a) => typeof a === 'string')
      : [];

const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export class IdentityVerifier {
  readonly config: IdentityConfig;
  readonly #now: () => number;
  readonly #skewMs: number;
  readonly #typs: Set<string>;
  readonly #cache: ExpiringCache<VerifiedToken>;
  readonly #inflight = new Map<string, Promise<VerifiedToken>>();
  readonly #clientSecret: string | undefined;
  #discovery: Promise<Discovered> | undefined;
  #discoveryFailedAt = Number.NEGATIVE_INFINITY;
  readonly #stats: VerifierStats = { verified: 0, cacheHits: 0, introspections: 0, refused: 0 };

  /** `config` must have passed the schema (defaults applied); throws config.invalid otherwise. */
  constructor(config: IdentityConfig, options: VerifierOptions = {}) {
    checkIdentityConfig(config);
    this.config = config;
    this.#now = options.now ?? Date.now;
    this.#skewMs = config.clock_skew_seconds * 1000;
    this.#typs = new Set(config.token_types.map(normaliseTyp));
    this.#cache = new ExpiringCache(config.cache.max_entries);
    this.#clientSecret = options.clientSecret;
  }

  get skewMs(): number {
    return this.#skewMs;
  }

  get stats(): Readonly<VerifierStats> {
    return { ...this.#stats };
  }

  /**
   * Discovers the issuer (and reads the introspection secret). Optional —
   * `verify` does it on first use — but lets startup report a misconfigured or
   * unreachable IdP early. Throws identity.unavailable.
   */
  async ready(): Promise<void> {
    await this.#discovered();
  }

  /**
   * Verifies a presented access token. Resolves with the identity or throws a
   * WardenError: identity.invalid_token, identity.expired (refused — the
   * message is safe to show the client, `details.reason` says why), or
   * identity.unavailable (the IdP could not be reached; fail closed).
   */
  verify(token: string): Promise<VerifiedToken> {
    // Fast path for a token seen before (a client reconnecting): hash, look up, done.
    if (
      typeof token === 'string' &&
      token.length > 0 &&
      token.length <= this.config.max_token_bytes
    ) {
      const key = sha256(token);
      const cached = this.#cache.get(key, this.#now());
      if (cached !== undefined) {
        this.#stats.cacheHits++;
        return Promise.resolve(cached);
      }
      return this.#guarded(token, key);
    }
    return this.#guarded(token, undefined);
  }

  /** Throws identity.expired once the session's token has expired (with this verifier's skew). */
  assertCurrent(verified: Pick<VerifiedToken, 'expiresAt'>, now = this.#now()): void {
    if (isExpired(verified, now, this.#skewMs))
      throw refused('identity.expired', 'token expired', 'expired');
  }

  /**
   * Verifies a fresh token for an existing session (`on_expiry: reauthenticate`):
   * it must map to the same subject, issuer and kind.
   */
  async reauthenticate(
    previous: Pick<VerifiedToken, 'identity'>,
    token: string,
  ): Promise<VerifiedToken> {
    const next = await this.verify(token);
    const a = previous.identity;
    const b = next.identity;
    if (a.subject !== b.subject || a.issuer !== b.issuer || a.kind !== b.kind)
      throw refused(
        'identity.invalid_token',
        'token belongs to a different identity',
        'identity_changed',
      );
    return next;
  }

  /** Forgets cached verification results (e.g. after a revocation event). */
  clearCache(): void {
    this.#cache.clear();
  }

  async #guarded(token: string, key: string | undefined): Promise<VerifiedToken> {
    try {
      return await this.#verify(token, key);
    } catch (err) {
      if (err instanceof WardenError) {
        if (err.code !== 'identity.unavailable') this.#stats.refused++;
        throw err;
      }
      // Not expected: fail closed, without echoing anything token-derived.
      throw unavailable('identity verification failed', err);
    }
  }

  /** `key` is the token's hash when the caller computed it (and missed the cache). */
  async #verify(token: string, key: string | undefined): Promise<VerifiedToken> {
    if (typeof token !== 'string' || token.length === 0)
      throw refused('identity.invalid_token', 'token is missing', 'malformed');
    // Length first, before looking at the content at all.
    if (token.length > this.config.max_token_bytes)
      throw refused('identity.invalid_token', 'token is too large', 'size');
    key ??= sha256(token);
    const pending = this.#inflight.get(key);
    if (pending !== undefined) return pending;
    // Only tokens that passed every check are cached, so a cache hit needs none of these.
    if (!TOKEN_CHARS.test(token))
      throw refused('identity.invalid_token', 'token is malformed', 'malformed');

    const now = this.#now();
    const work = this.#verifyCold(token).then((result) => {
      this.#stats.verified++;
      this.#cache.set(key, result, this.#cacheUntil(result, now), this.#now());
      return result;
    });
    this.#inflight.set(key, work);
    try {
      return await work;
    } finally {
      this.#inflight.delete(key);
    }
  }

  /** A JWT is reused until exp (+ skew, as verification itself allows), at most cache.max_seconds. */
  #cacheUntil(result: VerifiedToken, now: number): number {
    const cap =
      result.claims.format === 'jwt'
        ? this.config.cache.max_seconds
        : Math.min(this.config.cache.max_seconds, this.config.introspection?.cache_seconds ?? 0);
    const expiry = result.expiresAt + (result.claims.format === 'jwt' ? this.#skewMs : 0);
    return Math.min(expiry, now + cap * 1000);
  }

  /**
   * A JWS whose header decodes is verified locally as a JWT. Anything else
   * (opaque strings, JWE, JWS-shaped strings without a JSON header) goes to
   * introspection when it is configured — the issuer knows its own formats —
   * and is refused otherwise.
   */
  async #verifyCold(token: string): Promise<VerifiedToken> {
    let header: ProtectedHeader | undefined;
    if (JWS.test(token)) {
      try {
        header = decodeProtectedHeader(token);
      } catch {
        header = undefined;
      }
      if (header !== undefined) return this.#verifyJwt(token, header);
    }
    if (this.config.introspection !== undefined) return this.#introspect(token);
    if (JWE.test(token))
      throw refused('identity.invalid_token', 'encrypted tokens are not supported', 'encrypted');
    if (JWS.test(token)) throw refused('identity.invalid_token', 'token is malformed', 'malformed');
    throw refused('identity.invalid_token', 'token is not a JWT', 'opaque_unsupported');
  }

  async #verifyJwt(token: string, header: ProtectedHeader): Promise<VerifiedToken> {
    // Cheap header checks before any key lookup, so junk never triggers a JWKS refresh.
    if (
      typeof header.alg !== 'string' ||
      !(this.config.algorithms as string[]).includes(header.alg)
    )
      throw refused(
        'identity.invalid_token',
        'token signing algorithm is not allowed',
        'algorithm',
      );
    if (typeof header.typ !== 'string' || !this.#typs.has(normaliseTyp(header.typ)))
      throw refused('identity.invalid_token', 'token type is not an access token', 'type');
    if (header.kid !== undefined && typeof header.kid !== 'string')
      throw refused('identity.invalid_token', 'token is malformed', 'malformed');

    const discovered = await this.#discovered();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, discovered.jwks, {
        algorithms: this.config.algorithms,
        issuer: discovered.issuer,
        audience: this.config.audience,
        clockTolerance: this.config.clock_skew_seconds,
        currentDate: new Date(this.#now()),
        requiredClaims: ['exp'],
      }));
    } catch (err) {
      throw this.#joseError(err);
    }
    return this.#result(payload as Claims, 'jwt', discovered.issuer);
  }

  async #introspect(token: string): Promise<VerifiedToken> {
    const discovered = await this.#discovered();
    this.#stats.introspections++;
    let response: oidc.IntrospectionResponse;
    try {
      response = await oidc.tokenIntrospection(discovered.client!, token, {
        token_type_hint: 'access_token',
      });
    } catch (err) {
      throw unavailable('identity provider is unavailable', err);
    }
    if (response.active !== true)
      throw refused('identity.invalid_token', 'token is not active', 'inactive');
    if (response.iss !== undefined && response.iss !== discovered.issuer)
      throw refused('identity.invalid_token', 'token issuer is not trusted', 'issuer');
    if (!audiences(response.aud).includes(this.config.audience))
      throw refused('identity.invalid_token', this.#audienceMessage(), 'audience');
    if (response.token_type !== undefined && response.token_type.toLowerCase() !== 'bearer')
      throw refused(
        'identity.invalid_token',
        'sender-constrained tokens are not supported',
        'sender_constrained',
      );
    const now = this.#now();
    const exp = num(response.exp);
    if (exp === undefined) throw refused('identity.invalid_token', 'token has no expiry', 'claims');
    if (exp * 1000 <= now - this.#skewMs)
      throw refused('identity.expired', 'token expired', 'expired');
    const nbf = num(response.nbf);
    if (nbf !== undefined && nbf * 1000 > now + this.#skewMs)
      throw refused('identity.invalid_token', 'token is not valid yet', 'not_yet_valid');
    return this.#result(response as Claims, 'opaque', discovered.issuer);
  }

  #result(claims: Claims, format: TokenClaims['format'], issuer: string): VerifiedToken {
    if (claims.cnf !== undefined)
      throw refused(
        'identity.invalid_token',
        'sender-constrained tokens are not supported',
        'sender_constrained',
      );
    const exp = num(claims.exp);
    if (exp === undefined) throw refused('identity.invalid_token', 'token has no expiry', 'claims');
    const identity = identityFrom(claims, issuer, this.config);
    const subset: TokenClaims = { format, iss: issuer, aud: audiences(claims.aud), exp };
    const sub = str(claims.sub);
    if (sub !== undefined) subset.sub = sub;
    const iat = num(claims.iat);
    if (iat !== undefined) subset.iat = iat;
    const nbf = num(claims.nbf);
    if (nbf !== undefined) subset.nbf = nbf;
    const jti = str(claims.jti);
    if (jti !== undefined) subset.jti = jti;
    const clientId = clientIdOf(claims);
    if (clientId !== undefined) subset.client_id = clientId;
    const scope = str(claims.scope);
    if (scope !== undefined) subset.scope = scope;
    // Results are shared through the cache: make them immutable.
    Object.freeze(identity.groups);
    Object.freeze(subset.aud);
    return Object.freeze({
      identity: Object.freeze(identity),
      expiresAt: exp * 1000,
      claims: Object.freeze(subset),
    });
  }

  #audienceMessage(): string {
    return `token audience does not include ${this.config.audience}`;
  }

  /** jose's errors → WardenErrors with client-safe messages (never the claims jose attaches). */
  #joseError(err: unknown): WardenError {
    if (err instanceof WardenError) return err;
    if (err instanceof jose.JWTExpired)
      return refused('identity.expired', 'token expired', 'expired');
    if (err instanceof jose.JWTClaimValidationFailed) {
      switch (err.claim) {
        case 'iss':
          return refused('identity.invalid_token', 'token issuer is not trusted', 'issuer');
        case 'aud':
          return refused('identity.invalid_token', this.#audienceMessage(), 'audience');
        case 'nbf':
          return refused('identity.invalid_token', 'token is not valid yet', 'not_yet_valid');
        case 'exp':
          return refused('identity.invalid_token', 'token has no valid expiry', 'claims');
        default:
          return refused('identity.invalid_token', `token claim ${err.claim} is invalid`, 'claims');
      }
    }
    if (err instanceof jose.JWSSignatureVerificationFailed)
      return refused('identity.invalid_token', 'token signature is invalid', 'signature');
    if (err instanceof jose.JOSEAlgNotAllowed || err instanceof jose.JOSENotSupported)
      return refused(
        'identity.invalid_token',
        'token signing algorithm is not allowed',
        'algorithm',
      );
    if (err instanceof jose.JWKSNoMatchingKey || err instanceof jose.JWKSMultipleMatchingKeys)
      return refused('identity.invalid_token', 'token signing key is not known', 'unknown_key');
    if (err instanceof jose.JWSInvalid || err instanceof jose.JWTInvalid)
      return refused('identity.invalid_token', 'token is malformed', 'malformed');
    // JWKS fetch problems: timeout, network, non-200, unparsable or invalid key set.
    return unavailable('identity provider keys are unavailable', err);
  }

  #discovered(): Promise<Discovered> {
    if (this.#discovery === undefined) {
      // Real time, not the injectable clock: this paces network retries.
      if (Date.now() - this.#discoveryFailedAt < DISCOVERY_RETRY_MS)
        return Promise.reject(unavailable('identity provider is unavailable', 'retrying shortly'));
      this.#discovery = this.#discover().catch((err: unknown) => {
        this.#discovery = undefined;
        this.#discoveryFailedAt = Date.now();
        throw err instanceof WardenError && err.code === 'identity.unavailable'
          ? err
          : unavailable('identity provider is unavailable', err);
      });
    }
    return this.#discovery;
  }

  async #discover(): Promise<Discovered> {
    const c = this.config;
    const introspection = c.introspection;
    let clientAuth: oidc.ClientAuth = oidc.None();
    if (introspection !== undefined) {
      const secret =
        this.#clientSecret ??
        (await readSecret(introspection.client_secret, 'identity.introspection.client_secret'));
      clientAuth =
        introspection.auth_method === 'client_secret_post'
          ? oidc.ClientSecretPost(secret)
          : oidc.ClientSecretBasic(secret);
    }
    const issuerUrl = new URL(c.issuer);
    const insecure = issuerUrl.protocol === 'http:';
    let client: oidc.Configuration;
    try {
      client = await oidc.discovery(
        issuerUrl,
        introspection?.client_id ?? c.audience,
        undefined,
        clientAuth,
        {
          timeout: c.timeout_seconds,
          ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}),
        },
      );
    } catch (err) {
      throw unavailable('identity provider is unavailable', err);
    }
    const meta = client.serverMetadata();
    const endpoint = (name: string, value: string | undefined): URL => {
      let url: URL;
      try {
        url = new URL(value ?? '');
      } catch {
        throw unavailable('identity provider is misconfigured', `discovery has no valid ${name}`);
      }
      if (!isAllowedUrl(url, c))
        throw unavailable(
          'identity provider is misconfigured',
          `${name} ${url.origin} is not https`,
        );
      return url;
    };
    const jwks = createRemoteJWKSet(endpoint('jwks_uri', meta.jwks_uri), {
      timeoutDuration: Math.ceil(c.timeout_seconds * 1000),
      cooldownDuration: c.jwks.refresh_cooldown_seconds * 1000,
      cacheMaxAge: c.jwks.max_age_seconds * 1000,
    });
    if (introspection !== undefined)
      endpoint('introspection_endpoint', meta.introspection_endpoint);
    return { issuer: meta.issuer, jwks, client: introspection ? client : undefined };
  }
}

/** Whether a session's token has expired at `now` (ms), allowing `skewMs` of clock skew. */
export function isExpired(
  verified: Pick<VerifiedToken, 'expiresAt'>,
  now = Date.now(),
  skewMs = 0,
): boolean {
  return now >= verified.expiresAt + skewMs;
}

/** Milliseconds until the token expires (negative once it has); for scheduling a session's end. */
export function msUntilExpiry(
  verified: Pick<VerifiedToken, 'expiresAt'>,
  now = Date.now(),
): number {
  return verified.expiresAt - now;
}
