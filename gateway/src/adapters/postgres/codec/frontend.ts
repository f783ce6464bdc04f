import { FrameError } from './frames.js';
import { BodyReader } from './reader.js';

/**
 * Decoders for the client→server messages Warden reads.
 * https://www.postgresql.org/docs/current/protocol-message-formats.html
 * Messages Warden only forwards are not decoded.
 */

export const PROTOCOL_3_0 = 196608;
export const SSL_REQUEST = 80877103;
export const GSSENC_REQUEST = 80877104;
export const CANCEL_REQUEST = 80877102;

export enum Frontend {
  Bind = 0x42, // B
  Close = 0x43, // C
  Describe = 0x44, // D
  Execute = 0x45, // E
  FunctionCall = 0x46, // F
  Flush = 0x48, // H
  Parse = 0x50, // P
  Query = 0x51, // Q
  Sync = 0x53, // S
  Terminate = 0x58, // X
  CopyDone = 0x63, // c
  CopyData = 0x64, // d
  CopyFail = 0x66, // f
  Password = 0x70, // p
}

export type StartupPhase =
  | { kind: 'ssl' }
  | { kind: 'gssenc' }
  | { kind: 'cancel'; processId: number; secretKey: Buffer }
  | { kind: 'startup'; major: number; minor: number; parameters: Map<string, string> };

/** Decodes an untyped startup-phase message body (after the length). */
export function decodeStartup(body: Buffer): StartupPhase {
  const r = new BodyReader(body);
  const code = r.int32();
  if (code === SSL_REQUEST) return { kind: 'ssl' };
  if (code === GSSENC_REQUEST) return { kind: 'gssenc' };
  if (code === CANCEL_REQUEST) {
    const processId = r.int32();
    return { kind: 'cancel', processId, secretKey: Buffer.from(r.bytes(r.remaining)) };
  }
  const major = code >>> 16;
  const minor = code & 0xffff;
  if (major !== 3) throw new FrameError(`unsupported frontend protocol ${major}.${minor}`);
  const parameters = new Map<string, string>();
  for (;;) {
    const key = r.cstring();
    if (key === '') break;
    parameters.set(key, r.cstring());
  }
  return { kind: 'startup', major, minor, parameters };
}

export function decodeQuery(body: Buffer): string {
  return new BodyReader(body).cstring();
}

export interface ParseMessage {
  name: string;
  query: string;
}

export function decodeParse(body: Buffer): ParseMessage {
  const r = new BodyReader(body);
  return { name: r.cstring(), query: r.cstring() };
}

export interface BindMessage {
  portal: string;
  statement: string;
}

export function decodeBind(body: Buffer): BindMessage {
  const r = new BodyReader(body);
  return { portal: r.cstring(), statement: r.cstring() };
}

/** Describe and Close: 'S' for a statement, 'P' for a portal. */
export function decodeTarget(body: Buffer): { kind: 'S' | 'P'; name: string } {
  const r = new BodyReader(body);
  const kind = String.fromCharCode(r.byte());
  if (kind !== 'S' && kind !== 'P') throw new FrameError(`invalid Describe/Close target ${kind}`);
  return { kind, name: r.cstring() };
}

export function decodeExecute(body: Buffer): { portal: string; maxRows: number } {
  const r = new BodyReader(body);
  return { portal: r.cstring(), maxRows: r.int32() };
}

/** PasswordMessage: the cleartext password (here, the client's access token). */
export function decodePassword(body: Buffer): string {
  return new BodyReader(body).cstring();
}
