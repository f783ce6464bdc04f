import type { Socket } from 'node:net';

/**
 * Collects outgoing messages and writes them in as few calls as possible:
 * messages that sit next to each other in the buffer they arrived in are
 * written as one slice, so a stream of rows is forwarded without copying.
 */
export class OutputBatch {
  readonly #parts: Buffer[] = [];

  add(buf: Buffer): void {
    const last = this.#parts[this.#parts.length - 1];
    if (last && last.buffer === buf.buffer && last.byteOffset + last.length === buf.byteOffset) {
      this.#parts[this.#parts.length - 1] = Buffer.from(
        last.buffer,
        last.byteOffset,
        last.length + buf.length,
      );
    } else {
      this.#parts.push(buf);
    }
  }

  /** Writes what was collected; returns false when the socket wants the writer to wait for 'drain'. */
  flush(socket: Socket): boolean {
    if (this.#parts.length === 0) return true;
    let ok = true;
    if (this.#parts.length === 1) ok = socket.write(this.#parts[0]!);
    else {
      socket.cork();
      for (const p of this.#parts) ok = socket.write(p) && ok;
      socket.uncork();
    }
    this.#parts.length = 0;
    return ok;
  }
}
