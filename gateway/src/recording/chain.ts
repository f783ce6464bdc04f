/**
 * The hash chain of events.jsonl (README.md in this folder is the
 * specification an auditor follows):
 *
 *   line      = canonical({seq, time, type, data, prev, hash}) + "\n"
 *   hash      = hex(SHA-256(utf8(prev) ‖ utf8(canonical({seq, time, type, data, prev}))))
 *   prev      = the previous line's hash; for seq 0, genesis(session id)
 *   genesis   = hex(SHA-256(utf8("warden.session-record/1:genesis:" + session id)))
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical.js';
import { EVENT_TYPES, type EventDataByType, type EventType, type RecordEvent } from './events.js';

const GENESIS_PREFIX = 'warden.session-record/1:genesis:';
const HEX64 = /^[0-9a-f]{64}$/;

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function genesis(sessionId: string): string {
  return sha256Hex(GENESIS_PREFIX + sessionId);
}

/** The hash of an event from its parts (`data` already canonical JSON text). */
function hashOf(prev: string, body: string): string {
  return createHash('sha256').update(prev).update(body).digest('hex');
}

function body(seq: number, time: string, type: string, dataJson: string, prev: string): string {
  return `{"data":${dataJson},"prev":"${prev}","seq":${seq},"time":${JSON.stringify(time)},"type":${JSON.stringify(type)}}`;
}

/** Encodes one event as its line (with the trailing newline) and returns its hash. */
export function encodeEvent<T extends EventType>(
  seq: number,
  time: string,
  type: T,
  data: EventDataByType[T],
  prev: string,
): { line: string; hash: string } {
  const dataJson = canonicalJson(data);
  const hash = hashOf(prev, body(seq, time, type, dataJson, prev));
  // The same canonical object with "hash" in its sorted place (between "data" and "prev").
  const line = `{"data":${dataJson},"hash":"${hash}","prev":"${prev}","seq":${seq},"time":${JSON.stringify(time)},"type":${JSON.stringify(type)}}\n`;
  return { line, hash };
}

export type LineCheck =
  | { ok: true; event: RecordEvent }
  | {
      ok: false;
      problem: 'malformed' | 'not_canonical' | 'hash_mismatch';
      detail: string;
      event?: RecordEvent;
    };

/**
 * Checks one line (without its newline) on its own: it parses, it is
 * canonical, its fields have the right shapes, and its hash is the hash of
 * its content. Whether it follows its predecessor is the caller's question.
 */
export function checkLine(text: string): LineCheck {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'malformed', detail: 'not JSON' };
  }
  const e = parsed as Partial<RecordEvent> & Record<string, unknown>;
  if (
    !e ||
    typeof e !== 'object' ||
    Array.isArray(e) ||
    !Number.isSafeInteger(e.seq) ||
    (e.seq as number) < 0 ||
    typeof e.time !== 'string' ||
    typeof e.type !== 'string' ||
    !(EVENT_TYPES as readonly string[]).includes(e.type) ||
    !e.data ||
    typeof e.data !== 'object' ||
    typeof e.prev !== 'string' ||
    !HEX64.test(e.prev) ||
    typeof e.hash !== 'string' ||
    !HEX64.test(e.hash) ||
    Object.keys(e).length !== 6
  ) {
    return { ok: false, problem: 'malformed', detail: 'not a record event' };
  }
  const event = e as RecordEvent;
  let canonical: string;
  try {
    canonical = canonicalJson(event);
  } catch (err) {
    return { ok: false, problem: 'malformed', detail: (err as Error).message };
  }
  const { hash, ...rest } = event;
  const expected = hashOf(event.prev, canonicalJson(rest));
  if (expected !== hash)
    return {
      ok: false,
      problem: 'hash_mismatch',
      detail: 'content does not match its hash',
      event,
    };
  if (canonical !== text)
    return {
      ok: false,
      problem: 'not_canonical',
      detail: 'bytes differ from the canonical form',
      event,
    };
  return { ok: true, event };
}
