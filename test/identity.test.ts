import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { WardenError } from '../gateway/src/errors.js';
import {
  checkIdentityConfig,
  type IdentityConfig,
  IdentityConfigSchema,
  IdentityVerifier,
  identityFrom,
  isExpired,
  type VerifierOptions,
} from '../gateway/src/identity/index.js';
import { validator } from '../gateway/src/validation.js';
import { AGENT_CLIENT, HUMAN_CLIENT, startTestIdp, type TestIdp } from './support/oidc-provider.js';

const validate = validator(IdentityConfigSchema);

function configFor(idp: TestIdp, extra: Record<string, unknown> = {}): IdentityConfig {
  const { introspection, ...rest } = extra;
  const raw = idp.identityConfig({ introspection: introspection !== undefined }, rest);
  if (introspection !== undefined)
    raw.introspection = { ...(raw.introspection as object), ...(introspection as object) };
  return validate(raw, 'identity');
}

function verifierFor(idp: TestIdp, extra: Record<string, unknown> = {}, options?: VerifierOptions) {
  return new IdentityVerifier(configFor(idp, extra), options);
}

/** Introspection configured (the provider's own secret reference), with overrides. */
const withIntrospection = (overrides: Record<string, unknown> = {}) => ({
  introspection: overrides,
});

/** Asserts a refusal with the code (and reason), and that nothing token-derived leaks. */
async function refuses(
  verifier: IdentityVerifier,
  token: string,
  code: string,
  reason?: string,
  message?: RegExp,
): Promise<WardenError> {
  let caught: unknown;
  try {
    await verifier.verify(token);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof WardenError, `expected a WardenError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (reason !== undefined) assert.equal(caught.details?.reason, reason, caught.message);
  if (message !== undefined) assert.match(caught.message, message);
  const shown = `${caught.message} ${JSON.stringify(caught.details ?? {})}`;
  for (const part of token.split('.')) if (part.length > 8) assert.ok(!shown.includes(part));
  return caught;
}

const nowSec = () => Math.floor(Date.now() / 1000);

describe('identity: configuration', () => {
  test('defaults are filled in', () => {
    const config = validate({ issuer: 'https://idp.example.com', audience: 'warden' }, 'identity');
    assert.deepEqual(config.algorithms, ['RS256', 'PS256', 'ES256', 'EdDSA']);
    assert.deepEqual(config.token_types, ['at+jwt']);
    assert.equal(config.clock_skew_seconds, 30);
    assert.equal(config.max_token_bytes, 16384);
    assert.equal(config.allow_insecure_http, false);
    assert.equal(config.claims.groups, 'groups');
    assert.equal(config.on_expiry, 'close');
    assert.equal(config.cache.max_entries, 10000);
    checkIdentityConfig(config);
  });

  test('none and HMAC algorithms cannot be configured', () => {
    for (const alg of ['none', 'HS256']) {
      assert.throws(
        () => validate({ issuer: 'https://i', audience: 'w', algorithms: [alg] }, 'identity'),
        /identity: algorithms\[0\]: expected one of/,
      );
    }
  });

  test('http issuers need the flag, and the flag only works for loopback', () => {
    const http = validate({ issuer: 'http://127.0.0.1:9', audience: 'w' }, 'identity');
    assert.throws(() => checkIdentityConfig(http), /needs allow_insecure_http/);
    const remote = validate(
      { issuer: 'http://idp.example.com', audience: 'w', allow_insecure_http: true },
      'identity',
    );
    assert.throws(() => new IdentityVerifier(remote), /honoured only for loopback/);
    for (const host of ['127.0.0.1:9', 'localhost:9', '[::1]:9']) {
      const ok = validate(
        { issuer: `http://${host}`, audience: 'w', allow_insecure_http: true },
        'identity',
      );
      checkIdentityConfig(ok);
    }
  });
});

describe('identity: claims mapping', () => {
  const config = validate({ issuer: 'https://i', audience: 'w' }, 'identity');
  const map = (claims: Record<string, unknown>, c: IdentityConfig = config) =>
    identityFrom(claims, 'https://i', c);

  test('client-credentials shaped tokens are agents, others humans', () => {
    assert.equal(map({ sub: 'ci', client_id: 'ci' }).kind, 'agent');
    assert.equal(map({ sub: 'ci', azp: 'ci' }).kind, 'agent');
    assert.equal(map({ client_id: 'ci' }).kind, 'agent');
    assert.equal(map({ client_id: 'ci' }).subject, 'ci');
    assert.equal(map({ sub: 'alice', client_id: 'cli' }).kind, 'human');
    const listed = validate({ issuer: 'https://i', audience: 'w', agent_clients: ['bot'] }, 'x');
    assert.equal(map({ sub: 'f81d4fae', azp: 'bot' }, listed).kind, 'agent');
  });

  test('a configured kind claim decides; an unknown value refuses', () => {
    const c = validate(
      {
        issuer: 'https://i',
        audience: 'w',
        claims: { kind: 'idtyp', agent_values: ['app'], human_values: ['user'] },
      },
      'x',
    );
    assert.equal(map({ sub: 'x', client_id: 'x', idtyp: 'user' }, c).kind, 'human');
    assert.equal(map({ sub: 'alice', client_id: 'cli', idtyp: 'app' }, c).kind, 'agent');
    assert.equal(map({ sub: 'alice', client_id: 'cli' }, c).kind, 'human');
    assert.throws(
      () => map({ sub: 'alice', idtyp: 'robot' }, c),
      (e: WardenError) => e.code === 'identity.invalid_token' && e.details?.reason === 'claims',
    );
  });

  test('groups: arrays, separated strings, nested paths, dotted names', () => {
    assert.deepEqual(map({ sub: 'a', groups: ['x', 'y', 'x'] }).groups, ['x', 'y']);
    assert.deepEqual(map({ sub: 'a', groups: 'x y,z , w' }).groups, ['x', 'y', 'z', 'w']);
    assert.deepEqual(map({ sub: 'a' }).groups, []);
    const nested = validate(
      { issuer: 'https://i', audience: 'w', claims: { groups: 'realm_access.roles' } },
      'x',
    );
    assert.deepEqual(map({ sub: 'a', realm_access: { roles: ['dba'] } }, nested).groups, ['dba']);
    const dotted = validate(
      { issuer: 'https://i', audience: 'w', claims: { groups: 'https://example.com/groups' } },
      'x',
    );
    assert.deepEqual(map({ sub: 'a', 'https://example.com/groups': ['g'] }, dotted).groups, ['g']);
    for (const bad of [[1, 'x'], { a: 1 }, 42]) {
      assert.throws(() => map({ sub: 'a', groups: bad }), /groups claim is malformed/);
    }
  });
});

describe('identity: JWT access tokens from a real OpenID Provider', () => {
  let idp: TestIdp;
  let verifier: IdentityVerifier;
  before(async () => {
    idp = await startTestIdp();
    verifier = verifierFor(idp);
    await verifier.ready();
  });
  after(() => idp.stop());

  test('a client_credentials token maps to an agent with its groups', async () => {
    const token = await idp.agentToken();
    const result = await verifier.verify(token);
    assert.deepEqual(result.identity, {
      subject: AGENT_CLIENT,
      groups: ['agents', 'ci'],
      kind: 'agent',
      issuer: idp.issuer,
    });
    assert.equal(result.claims.format, 'jwt');
    assert.equal(result.claims.client_id, AGENT_CLIENT);
    assert.deepEqual(result.claims.aud, ['urn:warden']);
    assert.equal(result.expiresAt, result.claims.exp * 1000);
    assert.ok(result.expiresAt > Date.now());
    assert.ok(!JSON.stringify(result).includes(token.split('.')[2]!));
  });

  test('a human token maps to a human', async () => {
    const token = await idp.humanToken('alice', ['engineers', 'oncall']);
    const result = await verifier.verify(token);
    assert.deepEqual(result.identity, {
      subject: 'alice',
      groups: ['engineers', 'oncall'],
      kind: 'human',
      issuer: idp.issuer,
    });
    assert.equal(result.claims.client_id, HUMAN_CLIENT);
  });

  test('precisely minted tokens with the real key verify', async () => {
    const result = await verifier.verify(
      await idp.mint({ claims: { sub: 'bob', client_id: 'cli', groups: 'a, b' } }),
    );
    assert.equal(result.identity.kind, 'human');
    assert.deepEqual(result.identity.groups, ['a', 'b']);
  });

  test('forgeries are refused with stable codes', async () => {
    await refuses(
      verifier,
      await idp.forge.wrongKey(),
      'identity.invalid_token',
      'signature',
      /^token signature is invalid$/,
    );
    await refuses(verifier, idp.forge.algNone(), 'identity.invalid_token', 'algorithm');
    await refuses(verifier, idp.forge.hs256WithPublicKey(), 'identity.invalid_token', 'algorithm');
    const [h, p, s] = (await idp.agentToken()).split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const tampered = Buffer.from(JSON.stringify({ ...payload, sub: 'root' })).toString('base64url');
    await refuses(verifier, `${h}.${tampered}.${s}`, 'identity.invalid_token', 'signature');
    await refuses(
      verifier,
      await idp.mint({ claims: { iss: 'http://127.0.0.1:1' } }),
      'identity.invalid_token',
      'issuer',
    );
    await refuses(
      verifier,
      await idp.mint({ claims: { aud: ['urn:other', 'urn:else'] } }),
      'identity.invalid_token',
      'audience',
      /^token audience does not include urn:warden$/,
    );
    await refuses(
      verifier,
      await idp.mint({ claims: { exp: undefined } }),
      'identity.invalid_token',
      'claims',
    );
    await refuses(
      verifier,
      await idp.mint({ header: { typ: 'JWT' } }),
      'identity.invalid_token',
      'type',
    );
    await refuses(
      verifier,
      await idp.mint({ header: { typ: undefined } }),
      'identity.invalid_token',
      'type',
    );
    await refuses(
      verifier,
      await idp.mint({ claims: { cnf: { jkt: 'abc' } } }),
      'identity.invalid_token',
      'sender_constrained',
    );
  });

  test('expiry and not-before honour the clock skew', async () => {
    await refuses(
      verifier,
      await idp.mint({ claims: { exp: nowSec() - 60 } }),
      'identity.expired',
      'expired',
      /^token expired$/,
    );
    const withinSkew = await verifier.verify(await idp.mint({ claims: { exp: nowSec() - 10 } }));
    assert.equal(withinSkew.identity.subject, AGENT_CLIENT);
    await refuses(
      verifier,
      await idp.mint({ claims: { nbf: nowSec() + 120 } }),
      'identity.invalid_token',
      'not_yet_valid',
    );
    await verifier.verify(await idp.mint({ claims: { nbf: nowSec() + 10 } }));
    const strict = verifierFor(idp, { clock_skew_seconds: 0 });
    await refuses(strict, await idp.mint({ claims: { exp: nowSec() - 10 } }), 'identity.expired');
  });

  test('typ JWT is accepted when configured', async () => {
    const lenient = verifierFor(idp, { token_types: ['at+jwt', 'JWT'] });
    await lenient.verify(await idp.mint({ header: { typ: 'JWT' } }));
    await lenient.verify(await idp.mint({ header: { typ: 'application/at+jwt' } }));
  });

  test('an algorithm outside the configured list is refused before any key lookup', async () => {
    const es = verifierFor(idp, { algorithms: ['ES256'] });
    const before = idp.requests.jwks;
    await refuses(es, await idp.agentToken(), 'identity.invalid_token', 'algorithm');
    assert.equal(idp.requests.jwks, before);
  });

  test('oversized tokens are refused without parsing or fetching', async () => {
    const small = verifierFor(idp, { max_token_bytes: 1024 });
    const token = await idp.mint({ claims: { padding: 'x'.repeat(2000) } });
    const before = { ...idp.requests };
    await refuses(small, token, 'identity.invalid_token', 'size', /too large/);
    await refuses(verifier, 'a'.repeat(16385), 'identity.invalid_token', 'size');
    assert.deepEqual(idp.requests, before);
  });

  test('an unknown kid refreshes the key set once per cooldown, then fails', async () => {
    const v = verifierFor(idp, { jwks: { refresh_cooldown_seconds: 0.5 } });
    await v.verify(await idp.agentToken());
    const fetched = idp.requests.jwks;
    // Minted up front so the cooldown window below is not spent signing.
    const unknown = await Promise.all([1, 2, 3].map(() => idp.mint({ key: 'foreign' })));
    await sleep(600);
    await refuses(
      v,
      unknown[0]!,
      'identity.invalid_token',
      'unknown_key',
      /^token signing key is not known$/,
    );
    assert.equal(idp.requests.jwks, fetched + 1, 'one refresh');
    await refuses(v, unknown[1]!, 'identity.invalid_token', 'unknown_key');
    await refuses(v, unknown[2]!, 'identity.invalid_token', 'unknown_key');
    assert.equal(idp.requests.jwks, fetched + 1, 'no refresh while cooling down');
  });

  test('a verified token is cached; a repeat costs no signature check', async () => {
    const v = verifierFor(idp);
    const token = await idp.agentToken();
    const first = await v.verify(token);
    const second = await v.verify(token);
    assert.deepEqual(second, first);
    assert.equal(v.stats.cacheHits, 1);
    assert.equal(v.stats.verified, 1);
  });

  test('session expiry helpers', async () => {
    let now = Date.now();
    const v = verifierFor(idp, {}, { now: () => now });
    const exp = nowSec() + 60;
    const token = await idp.mint({ claims: { exp } });
    const result = await v.verify(token);
    assert.equal(result.expiresAt, exp * 1000);
    v.assertCurrent(result);
    assert.equal(isExpired(result, exp * 1000 - 1), false);
    assert.equal(isExpired(result, exp * 1000), true);
    now = exp * 1000 + 31_000;
    assert.throws(
      () => v.assertCurrent(result),
      (e: WardenError) => e.code === 'identity.expired',
    );
    // The cached result does not outlive the token either.
    await refuses(v, token, 'identity.expired');
    assert.equal(v.stats.cacheHits, 0);
  });

  test('reauthentication must present the same identity', async () => {
    const first = await verifier.verify(await idp.agentToken());
    const again = await verifier.reauthenticate(first, await idp.agentToken());
    assert.deepEqual(again.identity, first.identity);
    await assert.rejects(
      verifier.reauthenticate(first, await idp.humanToken('mallory')),
      (e: WardenError) =>
        e.code === 'identity.invalid_token' && e.details?.reason === 'identity_changed',
    );
  });

  test('opaque tokens are refused when introspection is not configured', async () => {
    await refuses(
      verifier,
      await idp.opaqueToken(),
      'identity.invalid_token',
      'opaque_unsupported',
    );
  });

  test('property: arbitrary strings never verify and only raise WardenErrors', async () => {
    const b64 = fc.stringMatching(/^[A-Za-z0-9_-]{0,60}$/);
    const header = fc
      .record({
        alg: fc.constantFrom('RS256', 'ES256', 'none', 'HS256', 'PS256'),
        typ: fc.constantFrom('at+jwt', 'JWT'),
        kid: fc.oneof(fc.constant(idp.signingKey.kid), fc.string()),
      })
      .map((h) => Buffer.from(JSON.stringify(h)).toString('base64url'));
    const token = fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary' }),
      fc.tuple(b64, b64, b64).map((parts) => parts.join('.')),
      fc.tuple(header, b64, b64).map((parts) => parts.join('.')),
      fc
        .tuple(header, fc.json(), b64)
        .map(([h, p, s]) => `${h}.${Buffer.from(p).toString('base64url')}.${s}`),
    );
    await fc.assert(
      fc.asyncProperty(token, async (t) => {
        try {
          await verifier.verify(t);
        } catch (err) {
          assert.ok(err instanceof WardenError, String(err));
          assert.equal(err.code, 'identity.invalid_token', err.message);
          return;
        }
        assert.fail('an arbitrary string verified');
      }),
      { numRuns: 400 },
    );
  });
});

describe('identity: key rotation', () => {
  let idp: TestIdp;
  before(async () => {
    idp = await startTestIdp();
  });
  after(() => idp.stop());

  test('a new signing key at the provider is picked up', async () => {
    const v = verifierFor(idp, { jwks: { refresh_cooldown_seconds: 0.2 } });
    const old = await idp.agentToken();
    await v.verify(old);
    const fetched = idp.requests.jwks;
    const oldKey = idp.signingKey;
    const oldKid = oldKey.kid;
    const next = await idp.rotateKeys();
    assert.notEqual(next.kid, oldKid);
    await sleep(250);
    const fresh = await idp.agentToken();
    assert.equal(
      JSON.parse(Buffer.from(fresh.split('.')[0]!, 'base64url').toString()).kid,
      next.kid,
    );
    const result = await v.verify(fresh);
    assert.equal(result.identity.subject, AGENT_CLIENT);
    assert.equal(idp.requests.jwks, fetched + 1);
    // The previous key is still published, so its tokens still verify (uncached).
    await verifierFor(idp).verify(await idp.mint({ key: oldKey }));
    await idp.rotateKeys({ dropOld: true });
    const dropped = verifierFor(idp);
    await refuses(
      dropped,
      await idp.mint({ key: oldKey }),
      'identity.invalid_token',
      'unknown_key',
    );
  });
});

describe('identity: opaque tokens by introspection', () => {
  let idp: TestIdp;
  before(async () => {
    idp = await startTestIdp();
  });
  after(() => idp.stop());

  test('an active opaque token maps to its client and is cached briefly', async () => {
    const v = verifierFor(idp, withIntrospection());
    const token = await idp.opaqueToken();
    const before = idp.requests.introspection;
    const result = await v.verify(token);
    assert.deepEqual(result.identity, {
      subject: 'agent-opaque',
      groups: ['agents'],
      kind: 'agent',
      issuer: idp.issuer,
    });
    assert.equal(result.claims.format, 'opaque');
    assert.ok(result.expiresAt > Date.now());
    await v.verify(token);
    await v.verify(token);
    assert.equal(idp.requests.introspection, before + 1);
  });

  test('concurrent checks of one token share one introspection', async () => {
    const v = verifierFor(idp, withIntrospection());
    const token = await idp.opaqueToken();
    const before = idp.requests.introspection;
    await Promise.all([v.verify(token), v.verify(token), v.verify(token)]);
    assert.equal(idp.requests.introspection, before + 1);
  });

  test('revoked and unknown tokens are inactive', async () => {
    const v = verifierFor(idp, withIntrospection({ cache_seconds: 0 }));
    const token = await idp.opaqueToken();
    await v.verify(token);
    await idp.revoke(token);
    await refuses(v, token, 'identity.invalid_token', 'inactive', /^token is not active$/);
    await refuses(v, 'not-a-token-the-idp-issued', 'identity.invalid_token', 'inactive');
  });

  test('JWTs still verify locally when introspection is configured', async () => {
    const v = verifierFor(idp, withIntrospection());
    const before = idp.requests.introspection;
    await v.verify(await idp.agentToken());
    assert.equal(idp.requests.introspection, before);
  });

  test('wrong introspection credentials fail closed', async () => {
    const v = verifierFor(idp, withIntrospection(), { clientSecret: 'wrong' });
    const err = await refuses(v, await idp.opaqueToken(), 'identity.unavailable');
    assert.ok(!err.message.includes('wrong'));
  });

  test('a missing secret fails closed', async () => {
    const v = verifierFor(idp, {
      introspection: {
        client_id: 'warden',
        client_secret: { env: 'WARDEN_TEST_NOT_SET_ANYWHERE' },
      },
    });
    await assert.rejects(v.ready(), (e: WardenError) => e.code === 'identity.unavailable');
  });
});

describe('identity: IdP unavailable', () => {
  let idp: TestIdp;
  before(async () => {
    idp = await startTestIdp();
  });
  after(() => idp.stop());

  test('discovery failures fail closed and recover', async () => {
    const token = await idp.agentToken();
    idp.outage('reset');
    const v = verifierFor(idp);
    await refuses(
      v,
      token,
      'identity.unavailable',
      undefined,
      /^identity provider is unavailable$/,
    );
    idp.outage(503);
    await sleep(1100);
    await refuses(v, token, 'identity.unavailable');
    idp.outage(null);
    await sleep(1100);
    assert.equal((await v.verify(token)).identity.kind, 'agent');
  });

  test('JWKS and introspection failures fail closed', async () => {
    const v = verifierFor(idp, { ...withIntrospection(), jwks: { refresh_cooldown_seconds: 0 } });
    await v.ready();
    const jwt = await idp.agentToken();
    const opaque = await idp.opaqueToken();
    idp.outage('reset');
    await refuses(v, jwt, 'identity.unavailable', undefined, /keys are unavailable/);
    await refuses(v, opaque, 'identity.unavailable');
    idp.outage(500);
    await refuses(v, jwt, 'identity.unavailable');
    idp.outage(null);
    await v.verify(jwt);
  });

  test('a stopped provider fails closed', async () => {
    const gone = await startTestIdp();
    const token = await gone.agentToken();
    const v = verifierFor(gone);
    await gone.stop();
    await refuses(v, token, 'identity.unavailable');
  });
});

describe('identity: repeated verification', () => {
  let idp: TestIdp;
  before(async () => {
    idp = await startTestIdp();
  });
  after(() => idp.stop());

  test('a token verified once is served from the cache: no further key or introspection requests', async () => {
    const v = verifierFor(idp, withIntrospection());
    const jwt = await idp.mint();
    const opaque = await idp.opaqueToken();
    const first = await v.verify(jwt);
    await v.verify(opaque);
    const requests = { ...idp.requests };
    const hits = v.stats.cacheHits;
    for (let i = 0; i < 50; i++) {
      assert.equal((await v.verify(jwt)).identity.subject, first.identity.subject);
      await v.verify(opaque);
    }
    assert.equal(v.stats.cacheHits - hits, 100);
    assert.deepEqual(idp.requests, requests, 'the IdP was not asked again');
  });
});
