/**
 * Splits a PostgreSQL byte stream into whole messages.
 * https://www.postgresql.org/docs/current/protocol-overview.html#PROTOCOL-MESSAGE-CONCEPTS
 *
 * A typed message is one type byte, then an Int32 length that counts itself
 * and the body. The startup phase's messages (StartupMessage, SSLRequest,
 * GSSENCRequest, CancelRequest) have no type byte.
 */
export class FrameError extends Error {
  override readonly name = 'FrameError';
}

export interface Frame {
  /** The type byte; 0 for an untyped startup-phase message. */
  type: number;
  /** The message body (after the length). A view into the received bytes. */
  body: Buffer;
  /** The whole message as received, for forwarding unchanged. */
  raw: Buffer;
}

const EMPTY = Buffer.alloc(0);

export class FrameReader {
  #buffer: Buffer = EMPTY;
  #typed: boolean;
  readonly #maxLength: number;

  /** `typed` false reads untyped startup-phase messages until switched with expectTyped(). */
  constructor(maxLength: number, typed = true) {
    this.#maxLength = maxLength;
    this.#typed = typed;
  }

  expectTyped(): void {
    this.#typed = true;
  }

  /** Bytes held that do not yet make a whole message. */
  get pending(): number {
    return this.#buffer.length;
  }

  push(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
  }

  /** The next whole message, or null until more bytes arrive. Throws FrameError on a malformed length. */
  next(): Frame | null {
    const b = this.#buffer;
    const header = this.#typed ? 5 : 4;
    if (b.length < header) return null;
    const length = b.readInt32BE(header - 4);
    if (length < 4 || length > this.#maxLength) {
      throw new FrameError(`invalid message length ${length}`);
    }
    const total = length + header - 4;
    if (b.length < total) return null;
    const raw = b.subarray(0, total);
    this.#buffer = b.length === total ? EMPTY : b.subarray(total);
    return { type: this.#typed ? b[0]! : 0, body: raw.subarray(header), raw };
  }

  /** Everything not yet returned as a message (used when the stream changes hands, e.g. a TLS upgrade). */
  drain(): Buffer {
    const rest = this.#buffer;
    this.#buffer = EMPTY;
    return rest;
  }
}
