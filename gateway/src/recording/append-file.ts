/**
 * One append-only file of a record: created exclusively (O_EXCL, mode
 * 0600), written with O_APPEND and writeSync, so the bytes are in the OS
 * before a write returns; keeps a running SHA-256 and byte count of what it
 * wrote, which the seal and stream checkpoints use.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, constants, fsync, fsyncSync, openSync, writeSync } from 'node:fs';
import { WardenError } from '../errors.js';

export class AppendFile {
  readonly path: string;
  #fd: number | null;
  readonly #hash: Hash = createHash('sha256');
  #bytes = 0;
  /** Written since the last fsync began. */
  dirty = false;

  constructor(path: string) {
    this.path = path;
    try {
      this.#fd = openSync(
        path,
        constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_EXCL,
        0o600,
      );
    } catch (err) {
      throw unavailable(`cannot create ${path}`, err);
    }
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** SHA-256 (hex) of everything written so far. */
  digest(): string {
    return this.#hash.copy().digest('hex');
  }

  /** Appends all of `data` or throws `record.unavailable`. */
  write(data: string | Buffer): void {
    const fd = this.#fd;
    if (fd === null) throw new WardenError('record.closed', `${this.path} is closed`);
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    try {
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    } catch (err) {
      // What was written of this buffer stays (a partial line a verifier reports as such).
      this.#hash.update(buf.subarray(0, off));
      this.#bytes += off;
      throw unavailable(`cannot append to ${this.path}`, err);
    }
    this.#hash.update(buf);
    this.#bytes += buf.length;
    this.dirty = true;
  }

  fsyncNow(): void {
    if (this.#fd === null) return;
    try {
      fsyncSync(this.#fd);
    } catch (err) {
      throw unavailable(`cannot fsync ${this.path}`, err);
    }
  }

  /** fsync on the thread pool: the caller is never blocked on the disk. */
  fsyncAsync(): Promise<void> {
    const fd = this.#fd;
    if (fd === null) return Promise.resolve();
    return new Promise((resolve, reject) =>
      fsync(fd, (err) => (err ? reject(unavailable(`cannot fsync ${this.path}`, err)) : resolve())),
    );
  }

  close(): void {
    if (this.#fd === null) return;
    const fd = this.#fd;
    this.#fd = null;
    try {
      closeSync(fd);
    } catch (err) {
      throw unavailable(`cannot close ${this.path}`, err);
    }
  }
}

export function unavailable(message: string, err: unknown): WardenError {
  const code = (err as NodeJS.ErrnoException)?.code;
  return new WardenError(
    'record.unavailable',
    `session record unavailable: ${message}${code ? ` (${code})` : ''}`,
    code ? { errno: code } : undefined,
  );
}
