import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TokenVerifier } from '../core/types.js';
import {
  findSessions,
  readEvents,
  recordDirectories,
  type SessionFilter,
} from '../recording/catalog.js';
import { verifyRecord } from '../recording/verify.js';
import { replayPage } from './replay-page.js';

export interface AdminAccess {
  /** A static admin token (compared in constant time). */
  token: string | null;
  /** OIDC tokens whose identity is in one of these groups are admins too. */
  groups: string[];
  verifier: TokenVerifier | null;
}

export interface SessionsApiOptions {
  recordsRoot: string;
  /** PEM public key the records are sealed with (for /verify). */
  recordPublicKey: string;
  access: AdminAccess;
}

const sameSecret = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** Admins only: a static admin token, or an OIDC token of an admin group. Anything else is refused. */
async function authorize(
  access: AdminAccess,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<boolean> {
  const header = request.headers.authorization ?? '';
  const token = header.startsWith('Bearer ') ? header.slice(7) : '';
  if (token && access.token && sameSecret(token, access.token)) return true;
  if (token && access.verifier && access.groups.length > 0) {
    try {
      const principal = await access.verifier.verify(token);
      if (principal.identity.groups.some((g) => access.groups.includes(g))) return true;
      await reply.code(403).send({ code: 'admin.forbidden', message: 'not in an admin group' });
      return false;
    } catch {
      // fall through to 401
    }
  }
  await reply
    .code(401)
    .header('www-authenticate', 'Bearer')
    .send({ code: 'admin.unauthenticated', message: 'an admin token is required' });
  return false;
}

async function recordDir(root: string, id: string): Promise<string | null> {
  return (await recordDirectories(root)).find((d) => d.endsWith(`/${id}`)) ?? null;
}

/**
 * Session records over HTTP for auditors: search, one session's events, its
 * verification, and a replay page (a timeline of commands, decisions and
 * outcomes). The page carries no data; it fetches with the token given in
 * the URL fragment, which browsers never send to the server.
 */
export function registerSessionsApi(app: FastifyInstance, o: SessionsApiOptions): void {
  const guard = (request: FastifyRequest, reply: FastifyReply) =>
    authorize(o.access, request, reply);

  app.get<{ Querystring: SessionFilter }>('/v1/sessions', async (request, reply) => {
    if (!(await guard(request, reply))) return reply;
    const q = request.query;
    const decision =
      q.decision && ['allow', 'deny', 'review'].includes(q.decision) ? q.decision : undefined;
    return findSessions(o.recordsRoot, { ...q, decision });
  });

  app.get<{ Params: { id: string } }>('/v1/sessions/:id', async (request, reply) => {
    if (!(await guard(request, reply))) return reply;
    const dir = await recordDir(o.recordsRoot, request.params.id);
    if (!dir) return reply.code(404).send({ code: 'record.not_found', message: 'no such session' });
    const events = [];
    for await (const e of readEvents(dir)) events.push(e);
    return { id: request.params.id, events };
  });

  app.get<{ Params: { id: string } }>('/v1/sessions/:id/verify', async (request, reply) => {
    if (!(await guard(request, reply))) return reply;
    const dir = await recordDir(o.recordsRoot, request.params.id);
    if (!dir) return reply.code(404).send({ code: 'record.not_found', message: 'no such session' });
    return verifyRecord(dir, o.recordPublicKey);
  });

  app.get<{ Params: { id: string } }>('/replay/:id', async (request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header(
        'content-security-policy',
        "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'",
      )
      .header('referrer-policy', 'no-referrer')
      .send(replayPage(request.params.id)),
  );
}
