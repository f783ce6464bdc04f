import { FrameError } from './frames.js';

/** Reads the fields of one message body, failing cleanly on truncation. */
export class BodyReader {
  #offset = 0;
  readonly #body: Buffer;

  constructor(body: Buffer) {
    this.#body = body;
  }

  get remaining(): number {
    return this.#body.length - this.#offset;
  }

  byte(): number {
    this.#need(1);
    return this.#body[this.#offset++]!;
  }

  int16(): number {
    this.#need(2);
    const v = this.#body.readInt16BE(this.#offset);
    this.#offset += 2;
    return v;
  }

  int32(): number {
    this.#need(4);
    const v = this.#body.readInt32BE(this.#offset);
    this.#offset += 4;
    return v;
  }

  /** A NUL-terminated UTF-8 string. */
  cstring(): string {
    const end = this.#body.indexOf(0, this.#offset);
    if (end < 0) throw new FrameError('unterminated string in message');
    const s = this.#body.toString('utf8', this.#offset, end);
    this.#offset = end + 1;
    return s;
  }

  bytes(n: number): Buffer {
    this.#need(n);
    const v = this.#body.subarray(this.#offset, this.#offset + n);
    this.#offset += n;
    return v;
  }

  #need(n: number): void {
    if (this.#offset + n > this.#body.length) throw new FrameError('message is truncated');
  }
}
