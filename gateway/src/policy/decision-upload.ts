import { gzipSync } from 'node:zlib';
import type { Logger } from 'pino';

export interface DecisionUploadOptions {
  /** The endpoint that accepts OPA decision-log batches (`POST`, gzip-compressed JSON array). */
  url: string;
  headers: Record<string, string>;
  intervalMs: number;
  /** Events kept while the endpoint is unreachable; beyond this the oldest are dropped (and counted). */
  maxBuffered: number;
  logger: Logger;
}

const MAX_BACKOFF_MS = 30_000;

/**
 * Sends decision-log events to a remote collector in OPA's decision-log
 * upload format (https://www.openpolicyagent.org/docs/latest/management-decision-logs/),
 * in order, in batches, retrying with backoff while the collector is down.
 * The local decision log remains the complete copy.
 */
export class DecisionUploader {
  readonly #o: DecisionUploadOptions;
  #queue: string[] = [];
  #dropped = 0;
  #sending: Promise<void> | null = null;
  #failures = 0;
  #timer: NodeJS.Timeout;

  constructor(options: DecisionUploadOptions) {
    this.#o = options;
    this.#timer = setTimeout(() => this.#tick(), options.intervalMs).unref();
  }

  /** Queues one event (its JSON text). */
  add(eventJson: string): void {
    this.#queue.push(eventJson);
    if (this.#queue.length > this.#o.maxBuffered) {
      this.#queue.shift();
      this.#dropped++;
    }
  }

  get pending(): number {
    return this.#queue.length;
  }

  /** Sends what is queued now; resolves when the attempt ends (true: delivered). */
  async flush(): Promise<boolean> {
    while (this.#sending) await this.#sending;
    if (this.#queue.length === 0) return true;
    const batch = this.#queue;
    this.#queue = [];
    let ok = false;
    this.#sending = this.#post(batch).then(
      () => {
        ok = true;
        this.#failures = 0;
      },
      (err: Error) => {
        this.#queue = [...batch, ...this.#queue].slice(-this.#o.maxBuffered);
        this.#failures++;
        this.#o.logger.warn(
          { err: err.message, pending: this.#queue.length },
          'decision-log upload failed; will retry',
        );
      },
    );
    await this.#sending;
    this.#sending = null;
    if (this.#dropped > 0) {
      this.#o.logger.error(
        { dropped: this.#dropped },
        'decision-log upload buffer overflowed: events dropped (the local log has them)',
      );
      this.#dropped = 0;
    }
    return ok;
  }

  stop(): Promise<boolean> {
    clearTimeout(this.#timer);
    return this.flush();
  }

  #tick(): void {
    void this.flush().finally(() => {
      const delay = Math.min(MAX_BACKOFF_MS, this.#o.intervalMs * 2 ** this.#failures);
      this.#timer = setTimeout(() => this.#tick(), delay).unref();
    });
  }

  async #post(batch: string[]): Promise<void> {
    const response = await fetch(this.#o.url, {
      method: 'POST',
      headers: {
        ...this.#o.headers,
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      },
      body: gzipSync(`[${batch.join(',')}]`),
      signal: AbortSignal.timeout(30_000),
    });
    await response.arrayBuffer().catch(() => undefined);
    if (response.status < 200 || response.status > 299)
      throw new Error(`collector answered ${response.status}`);
  }
}
