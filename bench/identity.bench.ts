/**
 * µs per access-token verification: a token seen for the first time (JWKS
 * key, signature, claims) and a repeat (the cache), beside the bare RS256
 * signature check of the same tokens with node:crypto, in the same run.
 *   node --import tsx bench/identity.bench.ts
 */
import { createPublicKey, verify } from 'node:crypto';
import { IdentityConfigSchema } from '../gateway/src/identity/config.js';
import { IdentityVerifier } from '../gateway/src/identity/verifier.js';
import { validator } from '../gateway/src/validation.js';
import { startTestIdp } from '../test/support/oidc-provider.js';

const N = 500;
const idp = await startTestIdp();
try {
  const v = new IdentityVerifier(validator(IdentityConfigSchema)(idp.identityConfig(), 'identity'));
  await v.verify(await idp.mint()); // discovery and JWKS
  const tokens = await Promise.all(Array.from({ length: N }, () => idp.mint()));
  const jwks = (await (await fetch(`${idp.issuer}/jwks`)).json()) as {
    keys: Record<string, unknown>[];
  };
  const key = createPublicKey({ key: jwks.keys[0] as never, format: 'jwk' });
  const time = async (fn: (t: string) => unknown, list: string[]) => {
    const start = process.hrtime.bigint();
    for (const t of list) await fn(t);
    return Number(process.hrtime.bigint() - start) / 1000 / list.length;
  };
  const bare = await time((t) => {
    const [h, p, sig] = t.split('.');
    return verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(sig!, 'base64url'));
  }, tokens);
  const cold = await time((t) => v.verify(t), tokens);
  const warm = await time(
    (t) => v.verify(t),
    Array.from({ length: 20_000 }, () => tokens[0]!),
  );
  console.log(
    `token verification, ${N} RS256 tokens: first time ${cold.toFixed(1)} µs, repeat (cache) ${warm.toFixed(2)} µs; ` +
      `baseline: bare RS256 signature check ${bare.toFixed(1)} µs (first time = ${(cold / bare).toFixed(1)}x baseline)`,
  );
} finally {
  await idp.stop();
}
