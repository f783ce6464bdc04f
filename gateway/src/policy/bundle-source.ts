import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { messageOf, WardenError } from '../errors.js';
import { type BundleFiles, MAX_BUNDLE_BYTES, readBundlePath, readTarGz } from './bundle-files.js';
import type { PolicyEngine } from './engine.js';

interface Fetched {
  files: BundleFiles;
  etag: string | null;
}

export type BundleSource =
  | { kind: 'path'; path: string; pollSeconds: number }
  | {
      kind: 'http';
      url: string;
      pollSeconds: number;
      longPollSeconds: number;
      headers: Record<string, string>;
    };

/**
 * Keeps the engine on the newest good bundle from one source: a file or
 * directory (re-read when its content changes) or a bundle server speaking
 * OPA's bundle protocol (ETag / If-None-Match, optional long polling).
 */
export class BundleWatcher {
  readonly #engine: PolicyEngine;
  readonly #source: BundleSource;
  readonly #logger: Logger;
  readonly #abort = new AbortController();
  #etag: string | null = null;
  #loop: Promise<void> | null = null;

  constructor(engine: PolicyEngine, source: BundleSource, logger: Logger) {
    this.#engine = engine;
    this.#source = source;
    this.#logger = logger.child({ component: 'bundle-watcher' });
  }

  get origin(): string {
    return this.#source.kind === 'path' ? this.#source.path : this.#source.url;
  }

  /** Loads once (a failure leaves the engine denying everything), then keeps watching. */
  async start(): Promise<void> {
    await this.poll(false);
    this.#loop = this.#watch();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
  }

  async #watch(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      const longPolling =
        this.#source.kind === 'http' && this.#source.longPollSeconds > 0 && this.#etag !== null;
      if (!longPolling) {
        try {
          await sleep(this.#source.pollSeconds * 1000, undefined, { signal });
        } catch {
          return;
        }
      }
      const ok = await this.poll(longPolling);
      if (!ok && longPolling) {
        try {
          await sleep(this.#source.pollSeconds * 1000, undefined, { signal });
        } catch {
          return;
        }
      }
    }
  }

  /** One fetch-and-activate round. Returns false when the source could not be read or the bundle was bad. */
  async poll(longPoll: boolean): Promise<boolean> {
    try {
      const fetched =
        this.#source.kind === 'path' ? await this.#readPath() : await this.#fetch(longPoll);
      if (!fetched) return true;
      // Remembered even when the bundle is bad: an unchanged bad bundle is not fetched again and again.
      this.#etag = fetched.etag;
      await this.#engine.activate(fetched.files, this.origin);
      return true;
    } catch (err) {
      if (this.#abort.signal.aborted) return true;
      if (!(err instanceof WardenError && err.code.startsWith('bundle.'))) {
        this.#logger.warn(
          { origin: this.origin, err: messageOf(err) },
          'policy bundle source unavailable',
        );
      }
      return false;
    }
  }

  async #readPath(): Promise<Fetched | null> {
    const files = await readBundlePath((this.#source as { path: string }).path);
    const digest = createHash('sha256');
    for (const [name, content] of [...files].sort(([a], [b]) => (a < b ? -1 : 1)))
      digest.update(name).update(content);
    const etag = digest.digest('hex');
    return etag === this.#etag ? null : { files, etag };
  }

  async #fetch(longPoll: boolean): Promise<Fetched | null> {
    const source = this.#source as Extract<BundleSource, { kind: 'http' }>;
    const headers: Record<string, string> = { ...source.headers };
    if (this.#etag) headers['if-none-match'] = this.#etag;
    if (longPoll) headers.prefer = `wait=${source.longPollSeconds}`;
    const timeout = AbortSignal.timeout((source.longPollSeconds + 30) * 1000);
    const response = await fetch(source.url, {
      headers,
      signal: AbortSignal.any([this.#abort.signal, timeout]),
    });
    if (response.status === 304) return null;
    if (response.status !== 200) {
      throw new WardenError(
        'bundle.fetch',
        `bundle server answered ${response.status} for ${source.url}`,
      );
    }
    const length = Number(response.headers.get('content-length') ?? 0);
    if (length > MAX_BUNDLE_BYTES) throw new WardenError('bundle.invalid', 'bundle is too large');
    return {
      files: await readTarGz(Buffer.from(await response.arrayBuffer())),
      etag: response.headers.get('etag'),
    };
  }
}
