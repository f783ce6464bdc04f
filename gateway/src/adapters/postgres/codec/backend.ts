/**
 * Encoders for the server→client messages Warden writes itself.
 * https://www.postgresql.org/docs/current/protocol-message-formats.html
 */

function message(type: string, body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + body.length);
  out[0] = type.charCodeAt(0);
  out.writeInt32BE(4 + body.length, 1);
  body.copy(out, 5);
  return out;
}

const cstring = (s: string) => Buffer.from(`${s}\0`, 'utf8');

function int32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeInt32BE(n);
  return b;
}

/** AuthenticationOk. */
export const authenticationOk = () => message('R', int32(0));

/** AuthenticationCleartextPassword: asks for the password (the access token). */
export const authenticationCleartextPassword = () => message('R', int32(3));

export const parameterStatus = (name: string, value: string) =>
  message('S', Buffer.concat([cstring(name), cstring(value)]));

export const backendKeyData = (processId: number, secretKey: number) =>
  message('K', Buffer.concat([int32(processId), int32(secretKey)]));

export type TransactionStatus = 'I' | 'T' | 'E';

export const readyForQuery = (status: TransactionStatus) => message('Z', Buffer.from(status));

/** NegotiateProtocolVersion: the newest minor version supported and the options not recognised. */
export function negotiateProtocolVersion(minor: number, unsupported: string[]): Buffer {
  return message(
    'v',
    Buffer.concat([int32(minor), int32(unsupported.length), ...unsupported.map(cstring)]),
  );
}

export interface ErrorFields {
  severity: 'ERROR' | 'FATAL' | 'NOTICE' | 'WARNING';
  /** SQLSTATE, e.g. 42501 insufficient_privilege. */
  code: string;
  message: string;
  detail?: string;
  hint?: string;
}

function fields(f: ErrorFields): Buffer {
  const parts = [
    Buffer.from('S'),
    cstring(f.severity),
    Buffer.from('V'),
    cstring(f.severity),
    Buffer.from('C'),
    cstring(f.code),
    Buffer.from('M'),
    cstring(f.message),
  ];
  if (f.detail) parts.push(Buffer.from('D'), cstring(f.detail));
  if (f.hint) parts.push(Buffer.from('H'), cstring(f.hint));
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** ErrorResponse. https://www.postgresql.org/docs/current/protocol-error-fields.html */
export const errorResponse = (f: ErrorFields) => message('E', fields(f));

/** The single byte answering SSLRequest/GSSENCRequest: 'S' to go ahead with TLS, 'N' to refuse. */
export const SSL_ACCEPT = Buffer.from('S');
export const SSL_REFUSE = Buffer.from('N');
