/** The protocol-neutral identity module: OIDC access token → policy Identity. See ./README.md. */
export { ExpiringCache } from './cache.js';
export { type Claims, claimAt, clientIdOf, groupsFrom, identityFrom, kindOf } from './claims.js';
export {
  checkIdentityConfig,
  type IdentityConfig,
  IdentityConfigSchema,
  isLoopbackHost,
  ON_EXPIRY,
  type OnExpiry,
  TOKEN_ALGORITHMS,
  type TokenAlgorithm,
} from './config.js';
export {
  IdentityVerifier,
  isExpired,
  msUntilExpiry,
  type RefusalReason,
  type TokenClaims,
  type VerifiedToken,
  type VerifierOptions,
  type VerifierStats,
} from './verifier.js';
