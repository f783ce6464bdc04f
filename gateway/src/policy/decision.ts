import type { GrantScope } from './input.js';

export type Action = 'allow' | 'deny' | 'review';

export interface Reason {
  code: string;
  message: string;
  statement?: number;
}

export interface ReviewRequest {
  scope: GrantScope;
  duration_seconds: number;
  max_duration_seconds: number;
}

/** What the core acts on: the policy's answer plus where it came from. */
export interface Decision {
  id: string;
  action: Action;
  reasons: Reason[];
  mask: { rules: string[] };
  grantsUsed: string[];
  review: ReviewRequest | null;
  /** The bundle revision (policy commit) that made the decision; null when there was none. */
  revision: string | null;
  evalNs: number;
}

const ACTIONS = new Set<string>(['allow', 'deny', 'review']);

/**
 * Reads the policy's result defensively: anything that is not a well-formed
 * decision object becomes a deny that says why.
 */
export function interpretResult(
  result: unknown,
  allMaskRules: readonly string[],
): Pick<Decision, 'action' | 'reasons' | 'mask' | 'grantsUsed' | 'review'> {
  const r = result as Record<string, unknown> | null | undefined;
  if (!r || typeof r !== 'object' || typeof r.action !== 'string' || !ACTIONS.has(r.action)) {
    return denial('policy.invalid_result', 'the policy returned no valid decision');
  }
  const reasons = Array.isArray(r.reasons)
    ? r.reasons.filter(
        (x): x is Reason => !!x && typeof x.code === 'string' && typeof x.message === 'string',
      )
    : [];
  // A decision that forgets its mask plan masks everything rather than nothing.
  const rules = (r.mask as { rules?: unknown } | undefined)?.rules ?? allMaskRules;
  const review = r.review as ReviewRequest | undefined;
  const action = r.action as Action;
  if (action === 'review' && !(review && typeof review === 'object' && review.scope)) {
    return denial('policy.invalid_result', 'the policy asked for a review without a grant scope');
  }
  return {
    action,
    reasons,
    mask: {
      rules: Array.isArray(rules) ? rules.filter((x): x is string => typeof x === 'string') : [],
    },
    grantsUsed: Array.isArray(r.grants_used)
      ? r.grants_used.filter((x): x is string => typeof x === 'string')
      : [],
    review: action === 'review' ? review! : null,
  };
}

export function denial(code: string, message: string) {
  return {
    action: 'deny' as const,
    reasons: [{ code, message }],
    mask: { rules: [] },
    grantsUsed: [],
    review: null,
  };
}
