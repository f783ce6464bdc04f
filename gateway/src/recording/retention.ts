import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';

const DAY_MS = 86_400_000;

/**
 * Removes the records of sessions that started more than `days` days ago
 * (whole `<root>/<yyyy-mm-dd>` folders, by their UTC date). Returns the
 * folders removed.
 */
export async function pruneRecords(
  root: string,
  days: number,
  now = Date.now(),
): Promise<string[]> {
  const cutoff = new Date(now - days * DAY_MS).toISOString().slice(0, 10);
  const removed: string[] = [];
  for (const day of await readdir(root).catch(() => [] as string[])) {
    if (/^\d{4}-\d{2}-\d{2}$/.test(day) && day < cutoff) {
      await rm(join(root, day), { recursive: true, force: true });
      removed.push(day);
    }
  }
  return removed;
}

/** Prunes now and then every hour until stopped. */
export function keepRecordsFor(root: string, days: number, logger: Logger): () => void {
  const run = () =>
    pruneRecords(root, days).then(
      (removed) =>
        removed.length > 0 &&
        logger.info({ removed, days }, 'session records past retention removed'),
      (err: Error) => logger.error({ err: err.message }, 'cannot prune session records'),
    );
  void run();
  const timer = setInterval(run, 3_600_000).unref();
  return () => clearInterval(timer);
}
