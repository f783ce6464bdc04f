import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';

/**
 * One gateway process per core. The primary forks workers that each run the
 * whole gateway and share its listening sockets (node:cluster hands new
 * connections to workers in turn), restarts a worker that dies, and relays
 * messages addressed to a given worker (e.g. a PostgreSQL CancelRequest that
 * reached a worker other than the one holding the session).
 */

export interface WorkerMessage {
  warden: 'to-worker';
  worker: number;
  type: string;
  payload: unknown;
}

/** This process's worker index (0 when not clustered). */
export const workerIndex = Number(process.env.WARDEN_WORKER_INDEX ?? 0);

export const isClusterWorker = cluster.isWorker && process.env.WARDEN_WORKER_INDEX !== undefined;

export function workerCount(setting: number | 'auto'): number {
  return setting === 'auto' ? availableParallelism() : Math.max(1, setting);
}

/** Sends a message to worker `worker` through the primary; false when there is no cluster. */
export function sendToWorker(worker: number, type: string, payload: unknown): boolean {
  if (!isClusterWorker || !process.send) return false;
  const message: WorkerMessage = { warden: 'to-worker', worker, type, payload };
  process.send(message);
  return true;
}

/** Handles messages of one type sent to this worker. */
export function onWorkerMessage(type: string, handler: (payload: unknown) => void): void {
  if (!isClusterWorker) return;
  process.on('message', (m: Partial<WorkerMessage>) => {
    if (m?.warden === 'to-worker' && m.type === type) handler(m.payload);
  });
}

/** Runs `count` workers (this process is the primary) until SIGINT/SIGTERM. */
export function runPrimary(count: number, logger: Logger): void {
  const workers = new Map<number, ReturnType<typeof cluster.fork>>();
  let stopping = false;
  const fork = (index: number) => {
    const worker = cluster.fork({ WARDEN_WORKER_INDEX: String(index) });
    workers.set(index, worker);
    worker.on('message', (m: Partial<WorkerMessage>) => {
      if (m?.warden === 'to-worker' && typeof m.worker === 'number') workers.get(m.worker)?.send(m);
    });
    worker.on('exit', (code, signal) => {
      workers.delete(index);
      if (stopping) return;
      logger.error({ worker: index, code, signal }, 'gateway worker died; starting another');
      setTimeout(() => fork(index), 1000).unref();
    });
  };
  for (let i = 0; i < count; i++) fork(i);
  logger.info({ workers: count }, 'gateway workers started');
  const stop = () => {
    stopping = true;
    for (const w of workers.values()) w.process.kill('SIGTERM');
    let left = workers.size;
    if (left === 0) process.exit(0);
    for (const w of workers.values()) w.once('exit', () => --left === 0 && process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
