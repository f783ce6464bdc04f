/**
 * Attributes each upstream message to the frontend message it answers, so
 * the proxy knows which ErrorResponse was caused by a denied statement it
 * replaced, and when the server is discarding messages until Sync.
 * https://www.postgresql.org/docs/current/protocol-flow.html
 */

/** `ref` names the recorded command whose outcome the answer reports (null: nothing to report). */
export type Pending =
  | { kind: 'query'; denial: string | null; ref?: number | null } // simple Query: answered up to ReadyForQuery
  | { kind: 'parse'; denial: string | null } // ParseComplete or an error
  | { kind: 'bind' } // BindComplete
  | { kind: 'describe'; target: 'S' | 'P' } // [ParameterDescription] RowDescription | NoData
  | { kind: 'execute'; ref?: number | null } // CommandComplete | EmptyQueryResponse | PortalSuspended
  | { kind: 'close' } // CloseComplete
  | { kind: 'sync' }; // ReadyForQuery

/** How a command went, as the server answered it. */
export interface Outcome {
  durationMs: number;
  /** DataRows sent to the client. */
  rows: number;
  /** Rows inserted, updated, deleted, merged or copied, from CommandComplete tags (null: none). */
  affected: number | null;
  /** SQLSTATE of the error that ended it, if any. */
  errorCode: string | null;
}

interface Measuring {
  ref: number;
  started: number;
  rows: number;
  affected: number | null;
  errorCode: string | null;
}

const AFFECTING = /^(?:INSERT \d+|UPDATE|DELETE|MERGE|COPY) (\d+)$/;

/** What to do with one upstream message. */
export type Disposition =
  | { kind: 'forward' }
  /** Replace this ErrorResponse with the denial of the statement that caused it. */
  | { kind: 'deny'; message: string }
  /** ReadyForQuery: the transaction status now. */
  | { kind: 'ready'; status: number };

const FORWARD: Disposition = { kind: 'forward' };

const EXTENDED = new Set(['parse', 'bind', 'describe', 'execute', 'close']);

export class ResponseTracker {
  readonly #queue: Pending[] = [];
  /** After an error in an extended-protocol batch the server ignores everything until Sync. */
  #skippingUntilSync = false;
  readonly #onComplete: ((ref: number, outcome: Outcome) => void) | null;
  /** The recorded command the head of the queue is answering, while it is being answered. */
  #measuring: Measuring | null = null;
  readonly #startedAt = new Map<Pending, number>();

  constructor(onComplete: ((ref: number, outcome: Outcome) => void) | null = null) {
    this.#onComplete = onComplete;
  }

  get outstanding(): number {
    return this.#queue.length;
  }

  expect(p: Pending): void {
    if (this.#skippingUntilSync && EXTENDED.has(p.kind)) return;
    if (p.kind === 'sync') this.#skippingUntilSync = false;
    if (this.#onComplete && 'ref' in p && typeof p.ref === 'number')
      this.#startedAt.set(p, performance.now());
    this.#queue.push(p);
  }

  /** Starts measuring the head when it is a recorded command not yet being measured. */
  #measure(head: Pending | undefined): Measuring | null {
    if (!head || !('ref' in head) || typeof head.ref !== 'number') return null;
    if (this.#measuring?.ref !== head.ref) {
      const started = this.#startedAt.get(head) ?? performance.now();
      this.#measuring = { ref: head.ref, started, rows: 0, affected: null, errorCode: null };
    }
    return this.#measuring;
  }

  #finish(head: Pending): void {
    this.#startedAt.delete(head);
    const m = this.#measuring;
    if (!m || !('ref' in head) || head.ref !== m.ref) return;
    this.#measuring = null;
    const { rows, affected, errorCode } = m;
    this.#onComplete?.(m.ref, {
      durationMs: performance.now() - m.started,
      rows,
      affected,
      errorCode,
    });
  }

  /** Classifies one upstream message by its type byte and updates what is still awaited. */
  receive(type: number, body: Buffer): Disposition {
    const head = this.#queue[0];
    const measuring = this.#onComplete ? this.#measure(head) : null;
    switch (type) {
      case 0x44: // D DataRow
        if (measuring) measuring.rows++;
        return FORWARD;
      case 0x45: // E ErrorResponse
        if (measuring) measuring.errorCode = sqlstate(body);
        return this.#error(head);
      case 0x5a: {
        // Z ReadyForQuery: ends a Query or a Sync
        while (this.#queue.length > 0) {
          const p = this.#queue.shift()!;
          this.#finish(p);
          if (p.kind === 'query' || p.kind === 'sync') break;
        }
        return { kind: 'ready', status: body[0] ?? 0x49 };
      }
      case 0x31: // 1 ParseComplete
        if (head?.kind === 'parse') this.#queue.shift();
        return FORWARD;
      case 0x32: // 2 BindComplete
        if (head?.kind === 'bind') this.#queue.shift();
        return FORWARD;
      case 0x33: // 3 CloseComplete
        if (head?.kind === 'close') this.#queue.shift();
        return FORWARD;
      case 0x54: // T RowDescription
      case 0x6e: // n NoData
        if (head?.kind === 'describe') this.#queue.shift();
        return FORWARD;
      case 0x43: // C CommandComplete
      case 0x49: // I EmptyQueryResponse
      case 0x73: // s PortalSuspended
        if (measuring && type === 0x43) {
          const n = AFFECTING.exec(body.toString('utf8', 0, Math.max(0, body.length - 1)))?.[1];
          if (n !== undefined) measuring.affected = (measuring.affected ?? 0) + Number(n);
        }
        if (head?.kind === 'execute') this.#finish(this.#queue.shift()!);
        return FORWARD;
      default:
        // DataRow, ParameterDescription, COPY traffic, and the asynchronous
        // NoticeResponse, NotificationResponse and ParameterStatus.
        return FORWARD;
    }
  }

  #error(head: Pending | undefined): Disposition {
    if (!head) return FORWARD;
    if (head.kind === 'query') {
      if (head.denial === null) return FORWARD;
      const message = head.denial;
      head.denial = null;
      return { kind: 'deny', message };
    }
    if (head.kind === 'sync') return FORWARD;
    // Extended protocol: the failing message and everything up to Sync are answered no further.
    const denial = head.kind === 'parse' ? head.denial : null;
    const sync = this.#queue.findIndex((p) => p.kind === 'sync');
    const dropped = sync < 0 ? this.#queue.splice(0) : this.#queue.splice(0, sync);
    if (sync < 0) this.#skippingUntilSync = true;
    for (const p of dropped) this.#finish(p);
    return denial === null ? FORWARD : { kind: 'deny', message: denial };
  }
}

/** The SQLSTATE (field C) of an ErrorResponse body. */
function sqlstate(body: Buffer): string | null {
  for (let i = 0; i < body.length && body[i] !== 0; ) {
    const end = body.indexOf(0, i + 1);
    if (end < 0) return null;
    if (body[i] === 0x43) return body.toString('utf8', i + 1, end);
    i = end + 1;
  }
  return null;
}
