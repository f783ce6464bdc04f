/**
 * SessionRecordWriter: one session's record, append-only and hash-chained.
 *
 * Every append is a synchronous write: when a method returns, the event is
 * in the operating system (a SIGKILLed gateway loses nothing it
 * acknowledged). fsync runs on the thread pool at most every
 * `fsyncIntervalMs` (default 1000): an event reaches the disk within that
 * interval plus the time of at most two fsyncs, which is the bound an OS
 * crash or power loss can cost. `fsyncIntervalMs: 0` fsyncs every event
 * before returning. Any failure to write throws WardenError
 * 'record.unavailable' and the writer refuses everything after: a command
 * that cannot be recorded must not run.
 */
import { type KeyObject, randomUUID } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClientInfo } from '../core/types.js';
import { WardenError } from '../errors.js';
import type { Action, Reason } from '../policy/decision.js';
import type { Command, GrantScope, Identity } from '../policy/input.js';
import { AppendFile, unavailable } from './append-file.js';
import { canonicalJson, wellFormed } from './canonical.js';
import { encodeEvent, genesis } from './chain.js';
import {
  clientRecord,
  commandRecord,
  DEFAULT_MAX_RAW,
  EVENTS_FILE,
  type EventDataByType,
  type EventType,
  identityRecord,
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  RECORD_FORMAT,
  reasonsRecord,
  type SessionEndData,
  SIGNATURE_FILE,
  scopeRecord,
  targetRecord,
} from './events.js';
import { type Manifest, signManifest } from './manifest.js';

export const DEFAULT_FSYNC_INTERVAL_MS = 1000;
const SESSION_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const STREAM_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export interface SessionRecordOptions {
  /** The records root; a session's record is `<root>/<yyyy-mm-dd of start, UTC>/<session id>/`. */
  root: string;
  sessionId: string;
  identity: Identity;
  target: Parameters<typeof targetRecord>[0];
  client: ClientInfo;
  gateway: { id: string; version?: string | null };
  /** Policy bundle revision(s) in force at session start. */
  revisions: string[];
  /** Epoch ms; default now. */
  started?: number;
  fsyncIntervalMs?: number;
  maxRawChars?: number;
  /** Epoch ms; tests set it. */
  now?: () => number;
  /** A background fsync failed (the next append will also throw). */
  onError?: (err: WardenError) => void;
}

export interface DecisionInput {
  id: string;
  action: Action;
  reasons: readonly Reason[];
  revision: string | null;
  grantsUsed?: readonly string[];
  maskRules?: readonly string[];
  reviewScope?: GrantScope | null;
}

export interface ResultInput {
  durationMs: number;
  rows?: number | null;
  affected?: number | null;
  /** The error's code (SQLSTATE for SQL) and primary message; never its detail. */
  error?: { code?: string | null; message: string } | null;
}

export interface MaskingInput {
  rules: readonly string[];
  columns: readonly { column: string; rule: string; count: number }[];
}

export interface SealResult {
  dir: string;
  manifest: Manifest;
}

export function recordDir(root: string, sessionId: string, started: number): string {
  return join(root, new Date(started).toISOString().slice(0, 10), sessionId);
}

export class SessionRecordWriter {
  readonly dir: string;
  readonly sessionId: string;
  readonly #o: SessionRecordOptions;
  readonly #events: AppendFile;
  readonly #streams = new Map<string, RecordStream>();
  readonly #now: () => number;
  readonly #interval: number;
  readonly #started: number;
  #revisions: string[];
  #seq = 0;
  #prev: string;
  #failed: WardenError | null = null;
  #ended: string | null = null;
  #sealed = false;
  // fsync scheduling
  #timer: NodeJS.Timeout | null = null;
  #inflight: Promise<void> | null = null;
  #dirtySince = 0;
  readonly #counts: SessionEndData['counts'] = {
    commands: 0,
    allowed: 0,
    denied: 0,
    review: 0,
    errors: 0,
    masked_values: 0,
  };

  private constructor(o: SessionRecordOptions) {
    if (!SESSION_ID.test(o.sessionId))
      throw new WardenError('record.invalid', `unusable session id for a record: ${o.sessionId}`);
    this.#o = o;
    this.sessionId = o.sessionId;
    this.#now = o.now ?? Date.now;
    this.#interval = o.fsyncIntervalMs ?? DEFAULT_FSYNC_INTERVAL_MS;
    this.#started = o.started ?? this.#now();
    this.#revisions = [...o.revisions];
    this.#prev = genesis(o.sessionId);
    this.dir = recordDir(o.root, o.sessionId, this.#started);
    try {
      mkdirSync(join(this.dir, '..'), { recursive: true, mode: 0o700 });
      mkdirSync(this.dir, { mode: 0o700 });
    } catch (err) {
      throw unavailable(`cannot create ${this.dir}`, err);
    }
    this.#events = new AppendFile(join(this.dir, EVENTS_FILE));
  }

  /** Creates the record and writes session.start; throws `record.unavailable` when it cannot. */
  static open(o: SessionRecordOptions): SessionRecordWriter {
    const w = new SessionRecordWriter(o);
    w.#append('session.start', {
      format: RECORD_FORMAT,
      session: { id: o.sessionId, started: new Date(w.#started).toISOString() },
      identity: identityRecord(o.identity),
      target: targetRecord(o.target),
      client: clientRecord(o.client),
      gateway: { id: o.gateway.id, version: o.gateway.version ?? null },
      revisions: [...o.revisions],
    });
    return w;
  }

  get eventCount(): number {
    return this.#seq;
  }

  get lastHash(): string {
    return this.#prev;
  }

  get sealed(): boolean {
    return this.#sealed;
  }

  /** Records a command before it is judged and forwarded; returns its seq, which later events cite. */
  command(command: Command): number {
    const seq = this.#append(
      'command',
      commandRecord(command, this.#o.maxRawChars ?? DEFAULT_MAX_RAW),
    );
    this.#counts.commands++;
    return seq;
  }

  decision(command: number, d: DecisionInput): number {
    const seq = this.#append('decision', {
      command,
      id: d.id,
      action: d.action,
      reasons: reasonsRecord(d.reasons),
      revision: d.revision,
      grants_used: [...(d.grantsUsed ?? [])],
      mask_rules: [...(d.maskRules ?? [])],
      review_scope: d.reviewScope ? scopeRecord(d.reviewScope) : undefined,
    });
    if (d.action === 'allow') this.#counts.allowed++;
    else if (d.action === 'deny') this.#counts.denied++;
    else this.#counts.review++;
    return seq;
  }

  result(command: number, r: ResultInput): number {
    const seq = this.#append('result', {
      command,
      duration_ms: r.durationMs,
      rows: r.rows ?? null,
      affected: r.affected ?? null,
      error: r.error ? { code: r.error.code ?? null, message: wellFormed(r.error.message) } : null,
    });
    if (r.error) this.#counts.errors++;
    return seq;
  }

  masking(command: number, m: MaskingInput): number {
    const columns = m.columns.map((c) => ({
      column: wellFormed(c.column),
      rule: c.rule,
      count: c.count,
    }));
    const seq = this.#append('masking', { command, rules: [...m.rules], columns });
    for (const c of columns) this.#counts.masked_values += c.count;
    return seq;
  }

  /** The policy bundle changed during the session. */
  revision(revisions: readonly string[]): number {
    this.#revisions = [...new Set([...this.#revisions, ...revisions])];
    return this.#append('revision', { revisions: [...revisions] });
  }

  /**
   * Adds a stream file beside events.jsonl (a terminal's asciicast, say).
   * Its bytes are bound into the chain by checkpoints and by its close, and
   * into the manifest at the seal.
   */
  openStream(name: string, format: string, extension: string): RecordStream {
    if (!STREAM_NAME.test(name) || this.#streams.has(name))
      throw new WardenError('record.invalid', `unusable or duplicate stream name ${name}`);
    const file = `${name}.${extension}`;
    if (file === EVENTS_FILE || file === MANIFEST_FILE || file === SIGNATURE_FILE)
      throw new WardenError('record.invalid', `reserved stream file name ${file}`);
    this.#usable();
    const stream = new RecordStream(this, name, file, new AppendFile(join(this.dir, file)));
    this.#streams.set(name, stream);
    this.#append('stream.open', { name, file, format });
    return stream;
  }

  /** @internal used by RecordStream */
  streamWritten(s: RecordStream): void {
    if (this.#interval <= 0) s.file_.fsyncNow();
    else this.#scheduleFsync();
  }

  /** @internal used by RecordStream */
  streamCheckpoint(s: RecordStream, type: 'stream.checkpoint' | 'stream.close'): number {
    return this.#append(type, { name: s.name, file: s.file, bytes: s.bytes, sha256: s.digest() });
  }

  /** Writes session.end (closing open streams first); idempotent. Sealing ends the session too. */
  end(reason: string): void {
    if (this.#ended !== null) return;
    for (const s of this.#streams.values()) s.close();
    const ended = new Date(this.#now()).toISOString();
    this.#append('session.end', { reason: wellFormed(reason), ended, counts: { ...this.#counts } });
    this.#ended = ended;
  }

  /**
   * Ends the session if needed, fsyncs and closes every file, and writes
   * manifest.json and manifest.jws signed with `key` (PEM or KeyObject,
   * Ed25519 or EC P-256).
   */
  async seal(
    key: string | KeyObject,
    options: { reason?: string; kid?: string } = {},
  ): Promise<SealResult> {
    if (this.#sealed) throw new WardenError('record.closed', `record ${this.sessionId} is sealed`);
    this.end(options.reason ?? 'closed');
    await this.#quiesce();
    const files = [this.#events, ...[...this.#streams.values()].map((s) => s.file_)];
    for (const f of files) {
      f.fsyncNow();
      f.close();
    }
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      session_id: this.sessionId,
      gateway_id: this.#o.gateway.id,
      started: new Date(this.#started).toISOString(),
      ended: this.#ended!,
      sealed_at: new Date(this.#now()).toISOString(),
      revisions: this.#revisions,
      event_count: this.#seq,
      last_hash: this.#prev,
      files: files
        .map((f) => ({
          name: f.path.slice(this.dir.length + 1),
          bytes: f.bytes,
          sha256: f.digest(),
        }))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    };
    const bytes = Buffer.from(`${canonicalJson(manifest)}\n`, 'utf8');
    const jws = await signManifest(bytes, key, options.kid);
    try {
      writeDurably(join(this.dir, MANIFEST_FILE), bytes);
      writeDurably(join(this.dir, SIGNATURE_FILE), Buffer.from(`${jws}\n`, 'utf8'));
      fsyncDir(this.dir);
    } catch (err) {
      throw unavailable(`cannot write the manifest of ${this.dir}`, err);
    }
    this.#sealed = true;
    return { dir: this.dir, manifest };
  }

  /**
   * Closes the files without sealing (no key available, shutting down):
   * the record stays verifiable as unsealed.
   */
  async close(): Promise<void> {
    if (this.#sealed) return;
    await this.#quiesce();
    for (const f of [this.#events, ...[...this.#streams.values()].map((s) => s.file_)]) {
      try {
        f.fsyncNow();
      } catch {
        // closing anyway
      }
      f.close();
    }
    this.#sealed = true;
  }

  #usable(): void {
    if (this.#failed) throw this.#failed;
    if (this.#sealed) throw new WardenError('record.closed', `record ${this.sessionId} is closed`);
    if (this.#ended !== null)
      throw new WardenError('record.closed', `session ${this.sessionId} has ended`);
  }

  #append<T extends EventType>(type: T, data: EventDataByType[T]): number {
    this.#usable();
    const seq = this.#seq;
    let encoded: { line: string; hash: string };
    try {
      encoded = encodeEvent(seq, new Date(this.#now()).toISOString(), type, data, this.#prev);
    } catch (err) {
      throw new WardenError(
        'record.invalid',
        `cannot encode a ${type} event: ${(err as Error).message}`,
      );
    }
    try {
      this.#events.write(encoded.line);
      if (this.#interval <= 0) this.#events.fsyncNow();
    } catch (err) {
      this.#failed = err as WardenError;
      throw err;
    }
    this.#seq = seq + 1;
    this.#prev = encoded.hash;
    this.#scheduleFsync();
    return seq;
  }

  #scheduleFsync(): void {
    if (this.#interval <= 0) return;
    if (this.#timer !== null || this.#inflight !== null) return;
    if (this.#dirtySince === 0) this.#dirtySince = this.#now();
    const wait = Math.max(0, this.#dirtySince + this.#interval - this.#now());
    this.#timer = setTimeout(() => this.#flush(), wait);
    this.#timer.unref();
  }

  #streamsDirty(): boolean {
    for (const s of this.#streams.values()) if (s.file_.dirty) return true;
    return false;
  }

  #flush(): void {
    this.#timer = null;
    const files = [this.#events, ...[...this.#streams.values()].map((s) => s.file_)].filter(
      (f) => f.dirty,
    );
    this.#dirtySince = 0;
    if (files.length === 0) return;
    for (const f of files) f.dirty = false;
    this.#inflight = Promise.all(files.map((f) => f.fsyncAsync()))
      .then(
        () => undefined,
        (err: WardenError) => {
          this.#failed ??= err;
          this.#o.onError?.(err);
        },
      )
      .finally(() => {
        this.#inflight = null;
        if (!this.#failed && !this.#sealed && (this.#events.dirty || this.#streamsDirty()))
          this.#scheduleFsync();
      });
  }

  /** Stops the fsync timer and waits for an fsync in flight, so files can be closed. */
  async #quiesce(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    while (this.#inflight) await this.#inflight;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}

/** A stream beside events.jsonl: raw appends, bound into the chain by checkpoints. */
export class RecordStream {
  readonly name: string;
  readonly file: string;
  /** @internal */
  readonly file_: AppendFile;
  readonly #writer: SessionRecordWriter;
  #closed = false;

  constructor(writer: SessionRecordWriter, name: string, file: string, f: AppendFile) {
    this.#writer = writer;
    this.name = name;
    this.file = file;
    this.file_ = f;
  }

  get bytes(): number {
    return this.file_.bytes;
  }

  digest(): string {
    return this.file_.digest();
  }

  /** Appends bytes to the stream (synchronously, like events). */
  write(data: string | Buffer): void {
    if (this.#closed) throw new WardenError('record.closed', `stream ${this.name} is closed`);
    this.file_.write(data);
    this.#writer.streamWritten(this);
  }

  /** Writes a stream.checkpoint event: the stream's bytes so far are now chained. */
  checkpoint(): number {
    return this.#writer.streamCheckpoint(this, 'stream.checkpoint');
  }

  /** Writes stream.close; the file itself is closed at the seal. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#writer.streamCheckpoint(this, 'stream.close');
    this.#closed = true;
  }
}

function writeDurably(path: string, bytes: Buffer): void {
  const tmp = `${path}.${randomUUID()}.tmp`;
  writeFileSync(tmp, bytes, { mode: 0o600, flag: 'wx' });
  const fd = openSync(tmp, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
