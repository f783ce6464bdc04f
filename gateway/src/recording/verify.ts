/**
 * Verifies a session record directory: the hash chain of events.jsonl, the
 * stream checkpoints, and (when sealed) the manifest, its signature and
 * every file it lists. Reports every problem it finds, naming the file and
 * line, rather than stopping at the first.
 */
import type { KeyObject } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { checkLine, genesis, sha256Hex } from './chain.js';
import {
  EVENTS_FILE,
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  RECORD_FORMAT,
  type RecordEvent,
  SIGNATURE_FILE,
  type StreamCheckpointData,
  type StreamOpenData,
} from './events.js';
import { type Manifest, verifyManifestSignature } from './manifest.js';

export type ProblemKind =
  | 'record_missing'
  | 'file_missing'
  | 'file_extra'
  | 'file_changed'
  | 'appended_after_seal'
  | 'line_malformed'
  | 'line_changed'
  | 'line_removed'
  | 'line_reordered'
  | 'line_duplicated'
  | 'chain_broken'
  | 'event_out_of_place'
  | 'signature_invalid'
  | 'manifest_changed'
  | 'manifest_invalid'
  | 'manifest_mismatch';

export interface Problem {
  kind: ProblemKind;
  file: string;
  /** 1-based line of the file, when the problem is about one. */
  line?: number;
  message: string;
}

export interface VerifyReport {
  dir: string;
  /** sealed: signed and intact; unsealed: no seal (a gateway crash or a live session) but intact; tampered: see problems. */
  status: 'sealed' | 'unsealed' | 'tampered';
  sessionId: string | null;
  /** Complete lines of events.jsonl. */
  events: number;
  /** Hash of the last complete line (what a later anchor can be compared with). */
  lastHash: string | null;
  /** session.end is present. */
  ended: boolean;
  /** An unsealed record's last line was cut short (a partial write): not counted, not tampering. */
  partialTail: { line: number; bytes: number } | null;
  problems: Problem[];
  /** Facts an auditor should know that are not problems (e.g. stream bytes after the last checkpoint). */
  notes: string[];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
/** Every event line starts like this (canonical key order): a partial write is a prefix of a line. */
const LINE_START = '{"data":';

interface Entry {
  line: number;
  event: RecordEvent;
  intact: boolean;
}

export async function verifyRecord(
  dir: string,
  publicKey: string | KeyObject,
): Promise<VerifyReport> {
  const report: VerifyReport = {
    dir,
    status: 'tampered',
    sessionId: null,
    events: 0,
    lastHash: null,
    ended: false,
    partialTail: null,
    problems: [],
    notes: [],
  };
  const problem = (kind: ProblemKind, file: string, message: string, line?: number) =>
    report.problems.push(
      line === undefined ? { kind, file, message } : { kind, file, line, message },
    );

  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    problem(
      'record_missing',
      dir,
      `cannot read the record directory (${(err as NodeJS.ErrnoException).code})`,
    );
    return report;
  }
  const present = new Set(names);
  const read = (name: string): Buffer | null => {
    try {
      return readFileSync(join(dir, name));
    } catch {
      return null;
    }
  };

  // ---- the seal ----
  const manifestBytes = read(MANIFEST_FILE);
  const jwsBytes = read(SIGNATURE_FILE);
  const sealedRecord = manifestBytes !== null || jwsBytes !== null;
  let manifestSource: Buffer | null = manifestBytes;
  if (jwsBytes !== null) {
    const v = await verifyManifestSignature(jwsBytes.toString('utf8'), publicKey);
    if (!v.ok) {
      problem(
        'signature_invalid',
        SIGNATURE_FILE,
        `the manifest signature does not verify with the given key: ${v.message}`,
      );
    } else {
      const signed = Buffer.from(v.payload);
      if (manifestBytes === null) {
        problem(
          'file_missing',
          MANIFEST_FILE,
          'manifest.json is missing (the signed copy in manifest.jws is used)',
        );
      } else if (!signed.equals(manifestBytes)) {
        problem(
          'manifest_changed',
          MANIFEST_FILE,
          'manifest.json differs from the manifest signed in manifest.jws (the signed one is used)',
        );
      }
      manifestSource = signed;
    }
  } else if (manifestBytes !== null) {
    problem(
      'file_missing',
      SIGNATURE_FILE,
      'manifest.json is present but its signature manifest.jws is missing',
    );
  }
  let manifest: Manifest | null = null;
  if (manifestSource !== null) {
    manifest = parseManifest(manifestSource);
    if (!manifest)
      problem('manifest_invalid', MANIFEST_FILE, 'the manifest is not a valid record manifest');
  }

  // ---- events.jsonl ----
  const events = read(EVENTS_FILE);
  const entries: Entry[] = [];
  let completeLines = 0;
  if (events === null) {
    problem('file_missing', EVENTS_FILE, 'events.jsonl is missing');
  } else {
    let start = 0;
    let lineNo = 0;
    while (start < events.length) {
      const nl = events.indexOf(0x0a, start);
      lineNo++;
      if (nl === -1) {
        const tail = events.subarray(start);
        // A sealed record's manifest covers these bytes (reported there); unsealed: a partial write,
        // unless the bytes cannot be the start of an event line.
        if (!sealedRecord) {
          const text = tail.toString('latin1');
          const plausible = text.startsWith(LINE_START) || LINE_START.startsWith(text);
          if (plausible) report.partialTail = { line: lineNo, bytes: tail.length };
          else
            problem(
              'line_malformed',
              EVENTS_FILE,
              `${tail.length} bytes after the last line that are not the start of an event`,
              lineNo,
            );
        } else if (!manifest) {
          problem(
            'line_malformed',
            EVENTS_FILE,
            `${tail.length} bytes after the last complete line`,
            lineNo,
          );
        }
        break;
      }
      completeLines++;
      let text: string;
      try {
        text = utf8.decode(events.subarray(start, nl));
      } catch {
        problem('line_malformed', EVENTS_FILE, 'not valid UTF-8', lineNo);
        start = nl + 1;
        continue;
      }
      const c = checkLine(text);
      if (c.ok) entries.push({ line: lineNo, event: c.event, intact: true });
      else {
        if (c.problem === 'malformed') problem('line_malformed', EVENTS_FILE, c.detail, lineNo);
        else problem('line_changed', EVENTS_FILE, `changed bytes: ${c.detail}`, lineNo);
        if (c.event) entries.push({ line: lineNo, event: c.event, intact: false });
      }
      start = nl + 1;
    }
    report.events = completeLines;
  }

  // ---- the chain ----
  const first = entries.find((e) => e.event.seq === 0)?.event;
  const startId =
    first?.type === 'session.start'
      ? (first.data as { session?: { id?: unknown } }).session?.id
      : undefined;
  const sessionId = manifest?.session_id ?? (typeof startId === 'string' ? startId : basename(dir));
  report.sessionId = sessionId;
  if (manifest && typeof startId === 'string' && startId !== manifest.session_id)
    problem(
      'manifest_mismatch',
      MANIFEST_FILE,
      `the manifest is for session ${manifest.session_id}, the events for ${startId}`,
    );
  checkChain(entries, genesis(sessionId), problem);
  if (first && first.type === 'session.start') {
    const format = (first.data as { format?: unknown }).format;
    if (format !== RECORD_FORMAT)
      problem('line_malformed', EVENTS_FILE, `unknown record format ${String(format)}`, 1);
  }
  const last = entries[entries.length - 1];
  report.lastHash = last ? last.event.hash : null;
  const endIndex = entries.findIndex((e) => e.event.type === 'session.end');
  report.ended = endIndex !== -1;

  // ---- streams ----
  const streams = new Map<
    string,
    { open: StreamOpenData; line: number; last: StreamCheckpointData | null; closed: boolean }
  >();
  for (const { event, line } of entries) {
    if (event.type === 'stream.open') {
      const d = event.data as StreamOpenData;
      streams.set(d.file, { open: d, line, last: null, closed: false });
    } else if (event.type === 'stream.checkpoint' || event.type === 'stream.close') {
      const d = event.data as StreamCheckpointData;
      const s = streams.get(d.file);
      if (!s)
        problem(
          'event_out_of_place',
          EVENTS_FILE,
          `checkpoint of a stream never opened (${d.file})`,
          line,
        );
      else {
        s.last = d;
        if (event.type === 'stream.close') s.closed = true;
      }
    }
  }
  for (const [file, s] of streams) {
    const bytes = read(file);
    if (bytes === null) {
      problem(
        'file_missing',
        file,
        `stream ${s.open.name} (opened at events.jsonl line ${s.line}) is missing`,
      );
      continue;
    }
    const cp = s.last;
    if (!cp) {
      if (bytes.length > 0)
        report.notes.push(`${file}: ${bytes.length} bytes not yet chained by a checkpoint`);
      continue;
    }
    if (bytes.length < cp.bytes || sha256Hex(bytes.subarray(0, cp.bytes)) !== cp.sha256) {
      problem(
        'file_changed',
        file,
        `the first ${cp.bytes} bytes do not match the chained checkpoint`,
      );
    } else if (bytes.length > cp.bytes) {
      if (s.closed)
        problem(
          'appended_after_seal',
          file,
          `${bytes.length - cp.bytes} bytes after the stream was closed`,
        );
      else
        report.notes.push(
          `${file}: ${bytes.length - cp.bytes} bytes after the last checkpoint are not chained`,
        );
    }
  }

  // ---- the manifest against the files ----
  if (manifest) {
    if (completeLines > manifest.event_count) {
      problem(
        'appended_after_seal',
        EVENTS_FILE,
        `${completeLines - manifest.event_count} line(s) after the ${manifest.event_count} sealed events (from line ${manifest.event_count + 1})`,
        manifest.event_count + 1,
      );
    } else if (completeLines < manifest.event_count) {
      problem(
        'line_removed',
        EVENTS_FILE,
        `the manifest seals ${manifest.event_count} events; ${completeLines} complete lines are present`,
      );
    }
    const sealedLast = entries.find((e) => e.event.seq === manifest.event_count - 1);
    if (!sealedLast || sealedLast.event.hash !== manifest.last_hash)
      problem(
        'manifest_mismatch',
        EVENTS_FILE,
        `no event with seq ${manifest.event_count - 1} has the sealed last hash ${manifest.last_hash}`,
      );
    const listed = new Set<string>();
    for (const f of manifest.files) {
      listed.add(f.name);
      const bytes = f.name.includes('/') || f.name.startsWith('.') ? null : read(f.name);
      if (bytes === null) {
        if (f.name !== EVENTS_FILE || events !== null)
          problem('file_missing', f.name, 'listed in the manifest but missing');
        continue;
      }
      if (bytes.length === f.bytes && sha256Hex(bytes) === f.sha256) continue;
      if (bytes.length > f.bytes && sha256Hex(bytes.subarray(0, f.bytes)) === f.sha256) {
        if (!(f.name === EVENTS_FILE && completeLines > manifest.event_count))
          problem(
            'appended_after_seal',
            f.name,
            `${bytes.length - f.bytes} bytes appended after the sealed ${f.bytes} bytes`,
          );
      } else {
        problem(
          'file_changed',
          f.name,
          `SHA-256 or size differs from the manifest (${bytes.length} bytes, sealed ${f.bytes})`,
        );
      }
    }
    if (!listed.has(EVENTS_FILE))
      problem('manifest_invalid', MANIFEST_FILE, 'the manifest does not list events.jsonl');
    for (const name of present) {
      if (name === MANIFEST_FILE || name === SIGNATURE_FILE || listed.has(name)) continue;
      problem('file_extra', name, 'present but not listed in the manifest');
    }
    if (!report.ended)
      problem('manifest_mismatch', EVENTS_FILE, 'sealed, but there is no session.end event');
  } else {
    for (const name of present) {
      if (
        name === EVENTS_FILE ||
        name === MANIFEST_FILE ||
        name === SIGNATURE_FILE ||
        streams.has(name)
      )
        continue;
      if (/^manifest\.(json|jws)\.[0-9a-f-]+\.tmp$/.test(name)) {
        report.notes.push(`${name}: a manifest being written when the gateway stopped`);
        continue;
      }
      problem('file_extra', name, 'not part of the record');
    }
    if (report.ended)
      report.notes.push('session.end is present: the gateway stopped while sealing');
  }

  if (report.problems.length === 0) report.status = manifest ? 'sealed' : 'unsealed';
  return report;
}

function checkChain(
  entries: Entry[],
  genesisHash: string,
  problem: (kind: ProblemKind, file: string, message: string, line?: number) => void,
): void {
  const bySeq = new Map<number, Entry>();
  let maxSeen = -1;
  for (const e of entries) {
    const seq = e.event.seq;
    const dup = bySeq.get(seq);
    if (dup) {
      problem(
        'line_duplicated',
        EVENTS_FILE,
        `seq ${seq} again (first at line ${dup.line})`,
        e.line,
      );
      continue;
    }
    bySeq.set(seq, e);
    if (seq < maxSeen)
      problem(
        'line_reordered',
        EVENTS_FILE,
        `seq ${seq} comes after seq ${maxSeen}: lines were reordered`,
        e.line,
      );
    maxSeen = Math.max(maxSeen, seq);
  }
  // Missing sequence numbers: lines removed.
  let gapStart: number | null = null;
  for (let s = 0; s <= maxSeen + 1; s++) {
    if (s <= maxSeen && !bySeq.has(s)) {
      gapStart ??= s;
      continue;
    }
    if (gapStart !== null) {
      const at = bySeq.get(s);
      problem(
        'line_removed',
        EVENTS_FILE,
        `seq ${gapStart === s - 1 ? gapStart : `${gapStart}..${s - 1}`} missing: line(s) removed`,
        at?.line,
      );
      gapStart = null;
    }
  }
  // Links: each event names its predecessor's hash.
  for (const [seq, e] of bySeq) {
    const expected = seq === 0 ? genesisHash : bySeq.get(seq - 1)?.event.hash;
    if (expected === undefined) continue; // a gap, reported above
    if (e.event.prev !== expected)
      problem(
        'chain_broken',
        EVENTS_FILE,
        seq === 0
          ? 'the first event does not start from the genesis hash of this session'
          : `prev does not match the hash of seq ${seq - 1}: a line was replaced, removed or inserted`,
        e.line,
      );
  }
  // Order of kinds: session.start first, session.end last, nothing after it.
  for (const e of entries) {
    if ((e.event.seq === 0) !== (e.event.type === 'session.start'))
      problem('event_out_of_place', EVENTS_FILE, `${e.event.type} at seq ${e.event.seq}`, e.line);
  }
  const end = entries.find((e) => e.event.type === 'session.end');
  if (end)
    for (const e of entries)
      if (e.event.seq > end.event.seq)
        problem('event_out_of_place', EVENTS_FILE, `seq ${e.event.seq} after session.end`, e.line);
}

function parseManifest(bytes: Buffer): Manifest | null {
  let m: Partial<Manifest>;
  try {
    m = JSON.parse(utf8.decode(bytes)) as Partial<Manifest>;
  } catch {
    return null;
  }
  if (
    !m ||
    m.format !== MANIFEST_FORMAT ||
    typeof m.session_id !== 'string' ||
    !Number.isSafeInteger(m.event_count) ||
    typeof m.last_hash !== 'string' ||
    !Array.isArray(m.files) ||
    !m.files.every(
      (f) =>
        f &&
        typeof f.name === 'string' &&
        Number.isSafeInteger(f.bytes) &&
        typeof f.sha256 === 'string',
    )
  )
    return null;
  return m as Manifest;
}
