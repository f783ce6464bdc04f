/**
 * One error type with stable codes. Callers match on `code`, never on the
 * message; adapters render it in their protocol's terms.
 */
export type ErrorCode =
  | 'config.invalid'
  | 'config.secret_unavailable'
  | 'bundle.invalid'
  | 'bundle.signature'
  | 'bundle.fetch'
  | 'bundle.build'
  | 'policy.unavailable'
  | 'policy.evaluation'
  | 'opa.unavailable'
  | 'identity.invalid_token'
  | 'identity.expired'
  | 'identity.unavailable'
  | 'target.not_found'
  | 'target.forbidden'
  | 'target.unavailable'
  | 'record.unavailable'
  | 'record.invalid'
  | 'record.closed'
  | 'record.key';

export class WardenError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'WardenError';
    this.code = code;
    this.details = details;
  }
}

/** opa-wasm throws strings and plain objects; turn anything into a message. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}
