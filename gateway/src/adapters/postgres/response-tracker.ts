/**
 * Attributes each upstream message to the frontend message it answers, so
 * the proxy knows which ErrorResponse was caused by a denied statement it
 * replaced, and when the server is discarding messages until Sync.
 * https://www.postgresql.org/docs/current/protocol-flow.html
 */

export type Pending =
  | { kind: 'query'; denial: string | null } // simple Query: answered up to ReadyForQuery
  | { kind: 'parse'; denial: string | null } // ParseComplete or an error
  | { kind: 'bind' } // BindComplete
  | { kind: 'describe'; target: 'S' | 'P' } // [ParameterDescription] RowDescription | NoData
  | { kind: 'execute' } // CommandComplete | EmptyQueryResponse | PortalSuspended
  | { kind: 'close' } // CloseComplete
  | { kind: 'sync' }; // ReadyForQuery

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

  get outstanding(): number {
    return this.#queue.length;
  }

  expect(p: Pending): void {
    if (this.#skippingUntilSync && EXTENDED.has(p.kind)) return;
    if (p.kind === 'sync') this.#skippingUntilSync = false;
    this.#queue.push(p);
  }

  /** Classifies one upstream message by its type byte and updates what is still awaited. */
  receive(type: number, body: Buffer): Disposition {
    const head = this.#queue[0];
    switch (type) {
      case 0x45: // E ErrorResponse
        return this.#error(head);
      case 0x5a: {
        // Z ReadyForQuery: ends a Query or a Sync
        while (this.#queue.length > 0) {
          const p = this.#queue.shift()!;
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
        if (head?.kind === 'execute') this.#queue.shift();
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
    if (sync < 0) {
      this.#queue.length = 0;
      this.#skippingUntilSync = true;
    } else {
      this.#queue.splice(0, sync);
    }
    return denial === null ? FORWARD : { kind: 'deny', message: denial };
  }
}
