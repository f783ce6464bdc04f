import { randomInt } from 'node:crypto';

export interface CancelTarget {
  /** Sends the real CancelRequest upstream. */
  cancel(): Promise<void>;
}

/**
 * Clients get BackendKeyData of Warden's own making; a CancelRequest with
 * those keys is routed to the upstream backend of the right session, with the
 * upstream's real keys, which never leave the gateway.
 */
export class CancelKeys {
  readonly #sessions = new Map<number, { secretKey: number; target: CancelTarget }>();

  register(target: CancelTarget): { processId: number; secretKey: number } {
    let processId: number;
    do processId = randomInt(1, 2 ** 31 - 1);
    while (this.#sessions.has(processId));
    const secretKey = randomInt(0, 2 ** 31 - 1);
    this.#sessions.set(processId, { secretKey, target });
    return { processId, secretKey };
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
