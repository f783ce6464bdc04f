/**
 * What a session record holds: one event type per thing that happens, each
 * built by an explicit projection that copies only the fields it names, so
 * a token, a target password or a result value can never reach a record by
 * being a property of something the caller passed.
 */
import type { ClientInfo, ResolvedTarget } from '../core/types.js';
import type { Action, Reason } from '../policy/decision.js';
import type { Command, GrantScope, Identity } from '../policy/input.js';
import { wellFormed } from './canonical.js';

/** Written in session.start; a verifier refuses formats it does not know. */
export const RECORD_FORMAT = 'warden.session-record/1';
export const MANIFEST_FORMAT = 'warden.session-record.manifest/1';
export const EVENTS_FILE = 'events.jsonl';
export const MANIFEST_FILE = 'manifest.json';
export const SIGNATURE_FILE = 'manifest.jws';

/** raw command text longer than this (UTF-16 units) is cut, and the event says so. */
export const DEFAULT_MAX_RAW = 64 * 1024;

export interface IdentityRecord {
  subject: string;
  groups: string[];
  kind: 'agent' | 'human';
  issuer: string;
}

/** The target as policy sees it plus where it points; never its credentials. */
export interface TargetRecord {
  name: string;
  protocol: string;
  labels: Record<string, string>;
  host: string | null;
  port: number | null;
  database: string | null;
}

export interface ClientRecord {
  address: string;
  protocol: string;
  tls: boolean;
  /** The user name the client gave (not trusted: identity comes from the token). */
  user: string | null;
}

export interface SessionStartData {
  format: typeof RECORD_FORMAT;
  session: { id: string; started: string };
  identity: IdentityRecord;
  target: TargetRecord;
  client: ClientRecord;
  gateway: { id: string; version: string | null };
  /** Policy bundle revisions in force when the session opened (a later change adds a `revision` event). */
  revisions: string[];
}

export interface StatementRecord {
  index: number;
  node: string;
  verb: string;
  category: string;
  writes: boolean;
  fingerprint: string;
  tables: { qualified: string; access: 'read' | 'write' }[];
}

export interface CommandData {
  /** The command text as the analyzer produced it: secrets already removed. */
  raw: string;
  /** Present and true when `raw` was cut to the writer's limit. */
  raw_truncated?: true;
  fingerprint: string;
  actions: string[];
  objects: string[];
  protocol: 'sql' | 'shell' | 'other';
  statements?: StatementRecord[];
  parse_error?: string;
  /** Shell: the programs run, in order (their arguments are in `raw`). */
  programs?: string[];
  interactive?: boolean;
}

/** `command` in decision, result and masking events is the seq of the command event. */
export interface DecisionData {
  command: number;
  id: string;
  action: Action;
  reasons: Reason[];
  /** The bundle revision that decided; null when there was no policy (a deny). */
  revision: string | null;
  grants_used: string[];
  mask_rules: string[];
  review_scope?: GrantScope;
}

export interface ResultData {
  command: number;
  duration_ms: number;
  /** Rows returned to the client (null: not a row-returning command or unknown). */
  rows: number | null;
  /** Rows inserted, updated, deleted... (null: unknown or none). */
  affected: number | null;
  /** The primary message only: never DETAIL or HINT, which may quote values. */
  error: { code: string | null; message: string } | null;
}

export interface MaskingData {
  command: number;
  rules: string[];
  /** Per column and rule, how many values were masked. Never a value. */
  columns: { column: string; rule: string; count: number }[];
}

export interface SessionEndData {
  reason: string;
  ended: string;
  counts: {
    commands: number;
    allowed: number;
    denied: number;
    review: number;
    errors: number;
    masked_values: number;
  };
}

export interface RevisionData {
  revisions: string[];
}

/** A stream is a second file beside events.jsonl (e.g. a terminal's asciicast). */
export interface StreamOpenData {
  name: string;
  file: string;
  /** e.g. `asciicast-v2`. */
  format: string;
}

/** The stream's first `bytes` bytes hash to `sha256`: binds the stream into the chain. */
export interface StreamCheckpointData {
  name: string;
  file: string;
  bytes: number;
  sha256: string;
}

export interface EventDataByType {
  'session.start': SessionStartData;
  revision: RevisionData;
  command: CommandData;
  decision: DecisionData;
  result: ResultData;
  masking: MaskingData;
  'stream.open': StreamOpenData;
  'stream.checkpoint': StreamCheckpointData;
  'stream.close': StreamCheckpointData;
  'session.end': SessionEndData;
}

export type EventType = keyof EventDataByType;
export const EVENT_TYPES: readonly EventType[] = [
  'session.start',
  'revision',
  'command',
  'decision',
  'result',
  'masking',
  'stream.open',
  'stream.checkpoint',
  'stream.close',
  'session.end',
];

/** One line of events.jsonl. */
export interface RecordEvent<T extends EventType = EventType> {
  seq: number;
  time: string;
  type: T;
  data: EventDataByType[T];
  prev: string;
  hash: string;
}

// ---- projections: the only way caller objects enter a record ----

export function identityRecord(i: Identity): IdentityRecord {
  return {
    subject: i.subject,
    groups: [...i.groups],
    kind: i.kind,
    issuer: i.issuer,
  };
}

export function targetRecord(
  t: Pick<ResolvedTarget, 'name' | 'protocol' | 'labels'> & Partial<ResolvedTarget>,
): TargetRecord {
  return {
    name: t.name,
    protocol: t.protocol,
    labels: { ...t.labels },
    host: t.host ?? null,
    port: t.port ?? null,
    database: t.database ?? null,
  };
}

export function clientRecord(c: ClientInfo): ClientRecord {
  return { address: c.address, protocol: c.protocol, tls: c.tls, user: c.user };
}

export function commandRecord(c: Command, maxRaw = DEFAULT_MAX_RAW): CommandData {
  const cut = c.raw.length > maxRaw;
  const out: CommandData = {
    raw: wellFormed(cut ? c.raw.slice(0, maxRaw) : c.raw),
    fingerprint: c.fingerprint,
    actions: [...c.actions],
    objects: c.objects.map(wellFormed),
    protocol: c.sql ? 'sql' : c.shell ? 'shell' : 'other',
  };
  if (cut) out.raw_truncated = true;
  if (c.sql) {
    out.statements = c.sql.statements.map((s) => ({
      index: s.index,
      node: s.node,
      verb: s.verb,
      category: s.category,
      writes: s.writes,
      fingerprint: s.fingerprint,
      tables: s.tables.map((t) => ({ qualified: wellFormed(t.qualified), access: t.access })),
    }));
    if (typeof c.sql.parse_error === 'string') out.parse_error = wellFormed(c.sql.parse_error);
  } else if (c.shell) {
    out.programs = c.shell.commands.map((x) => wellFormed(x.program));
    out.interactive = c.shell.interactive;
    if (typeof c.shell.parse_error === 'string') out.parse_error = wellFormed(c.shell.parse_error);
  }
  return out;
}

export function reasonsRecord(reasons: readonly Reason[]): Reason[] {
  return reasons.map((r) =>
    r.statement === undefined
      ? { code: r.code, message: wellFormed(r.message) }
      : { code: r.code, message: wellFormed(r.message), statement: r.statement },
  );
}

export function scopeRecord(s: GrantScope): GrantScope {
  switch (s.kind) {
    case 'target':
      return { kind: 'target' };
    case 'fingerprint':
    case 'once':
      return { kind: s.kind, fingerprints: [...s.fingerprints] };
    case 'statement':
      return { kind: 'statement', verbs: [...s.verbs], tables: [...s.tables] };
  }
}
