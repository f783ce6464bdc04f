import type { Decision } from '../policy/decision.js';

/** The one line a client is shown for a decision that stops its command. */
export function verdictMessage(decision: Pick<Decision, 'action' | 'reasons' | 'id'>): string {
  const reasons = decision.reasons.map((r) => r.message).join('; ') || 'denied by policy';
  const prefix = decision.action === 'review' ? 'requires approval: ' : '';
  return `${prefix}${reasons} (decision ${decision.id})`;
}
