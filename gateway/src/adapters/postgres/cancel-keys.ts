import { randomInt } from 'node:crypto';

export interface CancelTarget {
  /** Sends the real CancelRequest upstream. */
  cancel(): Promise<void>;
}

const WORKER_SHIFT = 24;

/**
 * Clients get BackendKeyData of Warden's own making; a CancelRequest with
 * those keys is routed to the upstream backend of the right session, with the
 * upstream's real keys, which never leave the gateway. The process id's top
 * byte names the gateway worker holding the session, since a CancelRequest
 * arrives on a new connection that any worker may accept.
 */
export class CancelKeys {
  readonly #sessions = new Map<number, { secretKey: number; target: CancelTarget }>();
  readonly #worker: number;

  constructor(worker = 0) {
    if (worker < 0 || worker > 126) throw new Error(`worker index ${worker} out of range`);
    this.#worker = worker;
  }

  register(target: CancelTarget): { processId: number; secretKey: number } {
    let processId: number;
    do processId = this.#worker * 2 ** WORKER_SHIFT + randomInt(1, 2 ** WORKER_SHIFT);
    while (this.#sessions.has(processId));
    const secretKey = randomInt(0, 2 ** 31 - 1);
    this.#sessions.set(processId, { secretKey, target });
    return { processId, secretKey };
  }

  /** The worker that issued a process id. */
  static ownerOf(processId: number): number {
    return processId >>> WORKER_SHIFT;
  }

  /** The session's target when both keys match; null otherwise (a wrong key is ignored, as PostgreSQL does). */
  find(processId: number, secretKey: Buffer): CancelTarget | null {
    const entry = this.#sessions.get(processId);
    if (!entry || secretKey.length !== 4 || secretKey.readInt32BE(0) !== entry.secretKey)
      return null;
    return entry.target;
  }

  remove(processId: number): void {
    this.#sessions.delete(processId);
  }
}
