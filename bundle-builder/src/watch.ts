import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { messageOf } from '../../gateway/src/errors.js';
import { type BuildOptions, buildBundle } from './build.js';
import { remoteHead } from './git.js';

export interface WatchOptions extends Omit<BuildOptions, 'out' | 'logger'> {
  /** Bundle name: served as /bundles/<name>, written to <dir>/<name>.tar.gz. */
  name: string;
  dir: string;
  pollSeconds: number;
  logger: Logger;
  publish: (name: string, bytes: Buffer) => void;
}

/**
 * Rebuilds the bundle whenever the watched branch gains a commit: on a
 * timer, or at once when a push webhook calls `check()`. A commit whose
 * checks fail is logged and skipped; the last good bundle keeps being served.
 */
export class BundleWatch {
  readonly #options: WatchOptions;
  #lastSeen: string | null = null;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> = Promise.resolve();
  #pending = false;

  constructor(options: WatchOptions) {
    this.#options = options;
  }

  start(): Promise<void> {
    this.#timer = setInterval(() => void this.check(), this.#options.pollSeconds * 1000);
    return this.check();
  }

  stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    return this.#running;
  }

  /** Builds if the branch moved. Calls made while a build runs collapse into one more check. */
  check(): Promise<void> {
    if (this.#pending) return this.#running;
    this.#pending = true;
    this.#running = this.#running.then(async () => {
      this.#pending = false;
      await this.#checkOnce();
    });
    return this.#running;
  }

  async #checkOnce(): Promise<void> {
    const { logger, repo, ref, name, dir } = this.#options;
    try {
      const head = await remoteHead(repo, ref);
      if (!head || head === this.#lastSeen) return;
      this.#lastSeen = head;
      const out = join(dir, `${name}.tar.gz`);
      const result = await buildBundle({ ...this.#options, ref: head, out, logger });
      this.#options.publish(name, await readFile(out));
      logger.info({ name, revision: result.revision }, 'bundle rebuilt from new commit');
    } catch (err) {
      logger.error(
        { repo, ref, err: messageOf(err) },
        'bundle rebuild failed; still serving the last good bundle',
      );
    }
  }
}
