import { createHash } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { verify } from '@octokit/webhooks-methods';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { httpLogger } from '../../gateway/src/log.js';

export const LONG_POLL_CONTENT_TYPE = 'application/vnd.openpolicyagent.bundles';

export interface BundleServerOptions {
  /** Directory holding `<name>.tar.gz` bundles. */
  dir: string;
  logger: Logger;
  /** Upper bound on `Prefer: wait=N`. */
  maxWaitSeconds?: number;
  /** GitHub push webhook: verified with this secret, then `onPush(branch)` is called. */
  webhook?: { secret: string; onPush: (ref: string) => void };
}

interface Published {
  bytes: Buffer;
  etag: string;
  mtimeMs: number;
}

/**
 * Serves bundles over OPA's bundle HTTP protocol
 * (https://www.openpolicyagent.org/docs/latest/management-bundles/): strong
 * ETags, 304 for If-None-Match, and long polling with `Prefer: wait=N`.
 */
export class BundleServer {
  readonly app: FastifyInstance;
  readonly #dir: string;
  readonly #cache = new Map<string, Published>();
  readonly #changes = new EventEmitter().setMaxListeners(0);
  readonly #maxWait: number;

  constructor(options: BundleServerOptions) {
    this.#dir = options.dir;
    this.#maxWait = options.maxWaitSeconds ?? 300;
    this.app = Fastify({ loggerInstance: httpLogger(options.logger, 'bundle-server') });

    this.app.get<{ Params: { name: string } }>('/bundles/:name', async (request, reply) => {
      const name = request.params.name.replace(/\.tar\.gz$/, '');
      if (!/^[A-Za-z0-9_.-]+$/.test(name)) return reply.code(400).send({ code: 'invalid_name' });
      let current = await this.#load(name);
      if (!current)
        return reply
          .code(404)
          .send({ code: 'bundle_not_found', message: `no bundle named ${name}` });
      const wait = parseWait(String(request.headers.prefer ?? ''));
      const longPoll = wait !== null;
      const unchanged = (p: Published | null) => !!p && request.headers['if-none-match'] === p.etag;
      if (unchanged(current) && longPoll && wait > 0) {
        current = await this.#waitForChange(name, Math.min(wait, this.#maxWait), request.raw);
      }
      reply.header('cache-control', 'no-cache');
      if (longPoll) reply.header('content-type', LONG_POLL_CONTENT_TYPE);
      if (!current) return reply.code(404).send();
      reply.header('etag', current.etag);
      if (unchanged(current)) return reply.code(304).send();
      if (!longPoll) reply.header('content-type', 'application/gzip');
      return reply.send(current.bytes);
    });

    this.app.get('/health', async () => ({ ok: true }));

    const webhook = options.webhook;
    if (webhook) {
      this.app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) =>
        done(null, body),
      );
      this.app.post('/webhooks/github', async (request, reply) => {
        const signature = String(request.headers['x-hub-signature-256'] ?? '');
        const body = String(request.body ?? '');
        if (!signature || !(await verify(webhook.secret, body, signature).catch(() => false))) {
          return reply.code(401).send({ code: 'bad_signature' });
        }
        if (request.headers['x-github-event'] === 'push') {
          const ref = (JSON.parse(body) as { ref?: string }).ref ?? '';
          webhook.onPush(ref.replace(/^refs\/(heads|tags)\//, ''));
        }
        return reply.code(202).send({ ok: true });
      });
    }
  }

  /** Replaces a bundle in memory and wakes long-polling clients. */
  publish(name: string, bytes: Buffer): void {
    this.#cache.set(name, { bytes, etag: etagOf(bytes), mtimeMs: Date.now() });
    this.#changes.emit(name);
  }

  async #load(name: string): Promise<Published | null> {
    const path = join(this.#dir, `${name}.tar.gz`);
    const info = await stat(path).catch(() => null);
    const cached = this.#cache.get(name);
    if (!info) return cached ?? null;
    if (cached && cached.mtimeMs >= info.mtimeMs) return cached;
    const bytes = await readFile(path);
    const published = { bytes, etag: etagOf(bytes), mtimeMs: info.mtimeMs };
    if (!cached || cached.etag !== published.etag) {
      this.#cache.set(name, published);
      if (cached) this.#changes.emit(name);
    }
    return this.#cache.get(name)!;
  }

  async #waitForChange(
    name: string,
    seconds: number,
    socket: NodeJS.EventEmitter,
  ): Promise<Published | null> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), seconds * 1000);
    const poll = setInterval(() => void this.#load(name), 1000);
    socket.once('close', () => abort.abort());
    try {
      await once(this.#changes, name, { signal: abort.signal });
    } catch {
      // timed out or the client went away: answer with what there is
    } finally {
      clearTimeout(timer);
      clearInterval(poll);
    }
    return this.#load(name);
  }
}

function etagOf(bytes: Buffer): string {
  return `"${createHash('sha256').update(bytes).digest('hex')}"`;
}

function parseWait(prefer: string | undefined): number | null {
  const match = prefer?.match(/(?:^|[\s,;])wait=(\d+)/);
  return match ? Number(match[1]) : null;
}
