import { WardenError } from '../errors.js';
import type { Identity } from '../policy/input.js';
import type { IdentityConfig } from './config.js';

export type Claims = Record<string, unknown>;

/** More groups than this is refused rather than truncated (truncation could drop a deny-group). */
export const MAX_GROUPS = 1024;

/**
 * The claim at `path`: a top-level claim of that exact name if there is one
 * (names may contain dots, e.g. `https://example.com/groups`), otherwise the
 * dotted path walked through nested objects (`realm_access.roles`).
 */
export function claimAt(claims: Claims, path: string): unknown {
  if (Object.hasOwn(claims, path)) return claims[path];
  if (!path.includes('.')) return undefined;
  let node: unknown = claims;
  for (const part of path.split('.')) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
    if (!Object.hasOwn(node, part)) return undefined;
    node = (node as Claims)[part];
  }
  return node;
}

function invalidClaims(message: string): WardenError {
  return new WardenError('identity.invalid_token', message, { reason: 'claims' });
}

/**
 * Groups from a claim value: absent → none; an array of strings; or one
 * string of names separated by spaces and/or commas. Anything else (numbers,
 * objects, mixed arrays) refuses the token: silently dropping members could
 * drop a group a policy denies on.
 */
export function groupsFrom(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  let names: string[];
  if (typeof value === 'string') {
    names = value.split(/[\s,]+/);
  } else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
    names = (value as string[]).map((v) => v.trim());
  } else {
    throw invalidClaims('token groups claim is malformed');
  }
  const groups = [...new Set(names.filter((n) => n.length > 0))];
  if (groups.length > MAX_GROUPS) throw invalidClaims('token has too many groups');
  return groups;
}

const stringClaim = (claims: Claims, name: string): string | undefined => {
  const v = claims[name];
  return typeof v === 'string' && v.length > 0 ? v : undefined;
};

/** The OAuth client the token was issued to: `client_id` (RFC 9068/7662), else `azp` (OIDC). */
export function clientIdOf(claims: Claims): string | undefined {
  return stringClaim(claims, 'client_id') ?? stringClaim(claims, 'azp');
}

type MappingConfig = Pick<IdentityConfig, 'claims' | 'agent_clients'>;

/**
 * Agent or human, first rule that applies:
 *
 * 1. `claims.kind` is configured and the token carries that claim: a value in
 *    `agent_values` → agent, in `human_values` → human, anything else refuses
 *    the token (an IdP/Warden mismatch should surface, not guess).
 * 2. The token's client (`client_id`, else `azp`) is listed in `agent_clients` → agent.
 * 3. The token has no human subject: no `sub`, or `sub` equals the client id
 *    or `azp` (what a client_credentials grant yields at most IdPs) → agent.
 * 4. Otherwise → human.
 */
export function kindOf(claims: Claims, config: MappingConfig): Identity['kind'] {
  const kindClaim = config.claims.kind;
  if (kindClaim !== undefined) {
    const value = claimAt(claims, kindClaim);
    if (value !== undefined) {
      if (typeof value === 'string' && config.claims.agent_values.includes(value)) return 'agent';
      if (typeof value === 'string' && config.claims.human_values.includes(value)) return 'human';
      throw invalidClaims('token kind claim has an unrecognised value');
    }
  }
  const clientId = clientIdOf(claims);
  if (clientId !== undefined && config.agent_clients.includes(clientId)) return 'agent';
  const sub = stringClaim(claims, 'sub');
  if (sub === undefined) return 'agent';
  if (sub === stringClaim(claims, 'client_id') || sub === stringClaim(claims, 'azp'))
    return 'agent';
  return 'human';
}

/**
 * The policy identity of verified claims. The subject is the configured claim
 * (default `sub`); a token without one falls back to its client id (opaque
 * client-credentials tokens are often introspected without `sub`).
 */
export function identityFrom(claims: Claims, issuer: string, config: MappingConfig): Identity {
  const configured = claimAt(claims, config.claims.subject);
  let subject: string | undefined;
  if (typeof configured === 'string' && configured.length > 0) subject = configured;
  else if (configured === undefined) subject = clientIdOf(claims);
  if (subject === undefined) throw invalidClaims('token has no usable subject');
  return {
    subject,
    groups: groupsFrom(claimAt(claims, config.claims.groups)),
    kind: kindOf(claims, config),
    issuer,
  };
}
