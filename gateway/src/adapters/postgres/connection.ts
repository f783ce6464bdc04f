import type { Socket } from 'node:net';
import { type SecureContext, TLSSocket } from 'node:tls';
import { serialize } from 'pg-protocol';
import type { Logger } from 'pino';
import { sendToWorker, workerIndex } from '../../cluster.js';
import type { EndpointConfig } from '../../config/schema.js';
import type { ClientInfo, Core, CoreSession } from '../../core/types.js';
import { messageOf, WardenError } from '../../errors.js';
import { CancelKeys } from './cancel-keys.js';
import {
  authenticationCleartextPassword,
  authenticationOk,
  backendKeyData,
  type ErrorFields,
  errorResponse,
  negotiateProtocolVersion,
  parameterStatus,
  readyForQuery,
  SSL_ACCEPT,
  SSL_REFUSE,
} from './codec/backend.js';
import { type Frame, FrameError, FrameReader } from './codec/frames.js';
import {
  decodeBind,
  decodeExecute,
  decodeParse,
  decodePassword,
  decodeQuery,
  decodeStartup,
  decodeTarget,
  Frontend,
} from './codec/frontend.js';
import { OutputBatch } from './output.js';
import { ResponseTracker } from './response-tracker.js';
import { readChunk } from './socket-reads.js';
import type { AnalyzedSql, SqlSession } from './sql-session.js';
import {
  cancelUpstream,
  connectUpstream,
  type UpstreamConnection,
  type UpstreamOptions,
} from './upstream.js';

/** PostgreSQL's own limit for startup-phase packets. */
const MAX_STARTUP_BYTES = 10_000;
const MAX_TOKEN_MESSAGE_BYTES = 65_536;
/** How a refusal at login reads in PostgreSQL's terms; other identity errors are 28P01, the rest 08006. */
const STARTUP_SQLSTATE: Partial<Record<string, string>> = {
  'target.not_found': '3D000',
  'target.forbidden': '42501',
  'identity.unavailable': '08006',
};

/** The message that carries a CancelRequest to the worker holding the session. */
export const CANCEL_MESSAGE = 'postgres.cancel';

/**
 * What replaces a denied statement upstream. It fails during parse analysis,
 * touches nothing, and makes the real server produce the error at the right
 * place: after everything before it in a pipeline, aborting the transaction
 * and discarding until Sync exactly as it would for any failing statement.
 * The proxy then swaps that one error for the policy's.
 */
export const DENIED_STATEMENT = "SELECT 'warden: statement denied by policy'::pg_catalog.int4";
const DENIED_QUERY = serialize.query(DENIED_STATEMENT);
const deniedParse = (name: string) => serialize.parse({ name, text: DENIED_STATEMENT, types: [] });

export interface PostgresContext {
  core: Core;
  endpoint: EndpointConfig;
  tls: SecureContext | null;
  cancelKeys: CancelKeys;
  newSqlSession: () => SqlSession;
  logger: Logger;
}

class Fatal extends Error {
  constructor(readonly fields: Omit<ErrorFields, 'severity'>) {
    super(fields.message);
  }
}

const isLoopback = (address: string) => /^(127\.|::1$|::ffff:127\.)/.test(address);

/** Serves one client connection from its first byte to its close. Never throws. */
export async function serveClient(raw: Socket, ctx: PostgresContext): Promise<void> {
  raw.setNoDelay(true);
  raw.on('error', () => {});
  const client: ClientInfo = {
    address: raw.remoteAddress ?? 'unknown',
    protocol: 'postgres',
    tls: false,
    user: null,
  };
  // The socket errors go to: the TLS socket once the handshake is done.
  const conn = { socket: raw };
  const timeout = setTimeout(
    () => conn.socket.destroy(),
    ctx.endpoint.startup_timeout_seconds * 1000,
  );
  try {
    const started = await startup(conn, ctx, client).finally(() => clearTimeout(timeout));
    if (!started) return;
    const { socket, session, leftover, database, parameters } = started;
    let upstream: UpstreamConnection;
    const options = upstreamOptions(session, ctx.endpoint);
    try {
      upstream = await connectUpstream(options, parameters);
    } catch (err) {
      session.close('target unavailable');
      ctx.logger.warn(
        { session: session.id, target: database, err: messageOf(err) },
        'cannot log in to the target',
      );
      throw new Fatal({ code: '08006', message: `the target "${database}" is unavailable` });
    }
    const keys = ctx.cancelKeys.register({
      cancel: () => cancelUpstream(options, upstream.processId, upstream.secretKey),
    });
    const hello = [authenticationOk()];
    for (const [name, value] of upstream.parameters) hello.push(parameterStatus(name, value));
    hello.push(backendKeyData(keys.processId, keys.secretKey), readyForQuery(upstream.status));
    socket.write(Buffer.concat(hello));
    try {
      await new Relay(socket, upstream, session, ctx, leftover).run();
    } finally {
      ctx.cancelKeys.remove(keys.processId);
      session.close('disconnected');
    }
  } catch (err) {
    fatal(conn.socket, err, ctx.logger);
  }
}

function fatal(socket: Socket, err: unknown, logger: Logger): void {
  const fields: Omit<ErrorFields, 'severity'> =
    err instanceof Fatal
      ? err.fields
      : err instanceof FrameError
        ? { code: '08P01', message: `protocol violation: ${err.message}` }
        : { code: 'XX000', message: 'internal error in the gateway' };
  if (!(err instanceof Fatal) && !(err instanceof FrameError))
    logger.error({ err: messageOf(err) }, 'connection failed');
  if (!socket.destroyed && socket.writable)
    socket.end(errorResponse({ severity: 'FATAL', ...fields }));
  else socket.destroy();
}

function upstreamOptions(session: CoreSession, endpoint: EndpointConfig): UpstreamOptions {
  const t = session.target;
  return {
    host: t.host,
    port: t.port,
    database: t.database ?? t.name,
    user: t.username,
    password: t.password ?? '',
    tls: {
      mode: t.tls.mode,
      ...(t.tls.ca ? { ca: t.tls.ca } : {}),
      ...(t.tls.servername ? { servername: t.tls.servername } : {}),
    },
    connectTimeoutMs: t.connectTimeoutMs,
    maxMessageBytes: endpoint.max_message_bytes,
  };
}

interface Started {
  socket: Socket;
  session: CoreSession;
  database: string;
  parameters: Map<string, string>;
  leftover: Buffer;
}

/** TLS negotiation, the token as password, and opening the core session. Null when the connection was a cancel. */
async function startup(
  conn: { socket: Socket },
  ctx: PostgresContext,
  client: ClientInfo,
): Promise<Started | null> {
  let socket = conn.socket;
  const reader = new FrameReader(MAX_STARTUP_BYTES, false);
  const next = async (): Promise<Frame> => {
    for (;;) {
      const frame = reader.next();
      if (frame) return frame;
      const chunk = await readChunk(socket);
      if (!chunk) throw new FrameError('the client closed the connection during startup');
      reader.push(chunk);
    }
  };

  for (;;) {
    const message = decodeStartup((await next()).body);
    if (message.kind === 'ssl' || message.kind === 'gssenc') {
      if (message.kind === 'gssenc' || !ctx.tls || client.tls) {
        socket.write(SSL_REFUSE);
        continue;
      }
      // Bytes sent before the TLS handshake would be read as if encrypted (CVE-2021-23214).
      if (reader.pending > 0) throw new FrameError('data received before the TLS handshake');
      socket.write(SSL_ACCEPT);
      socket = await upgrade(socket, ctx.tls);
      conn.socket = socket;
      client.tls = true;
      continue;
    }
    if (message.kind === 'cancel') {
      const owner = CancelKeys.ownerOf(message.processId);
      if (owner === workerIndex) {
        await ctx.cancelKeys
          .find(message.processId, message.secretKey)
          ?.cancel()
          .catch(() => {});
      } else {
        const secretKey = message.secretKey.toString('hex');
        sendToWorker(owner, CANCEL_MESSAGE, { processId: message.processId, secretKey });
      }
      socket.end();
      return null;
    }

    if (!client.tls && !(ctx.endpoint.allow_plaintext_on_loopback && isLoopback(client.address))) {
      throw new Fatal({
        code: '28000',
        message: 'Warden requires TLS: connect with sslmode=require (or verify-full)',
      });
    }
    const unsupported = [...message.parameters.keys()].filter((k) => k.startsWith('_pq_.'));
    if (message.minor > 0 || unsupported.length > 0)
      socket.write(negotiateProtocolVersion(0, unsupported));
    const database = message.parameters.get('database') ?? message.parameters.get('user') ?? '';
    client.user = message.parameters.get('user') ?? null;

    socket.write(authenticationCleartextPassword());
    reader.expectTyped();
    const password = await nextWithin(next, MAX_TOKEN_MESSAGE_BYTES);
    if (password.type !== Frontend.Password) throw new FrameError('expected a password message');
    const token = decodePassword(password.body);

    let session: CoreSession;
    try {
      const principal = await ctx.core.authenticate(token, client);
      session = await ctx.core.openSession(principal, database, client);
    } catch (err) {
      if (!(err instanceof WardenError)) throw err;
      ctx.logger.info(
        { client: client.address, target: database, code: err.code, err: err.message },
        'connection refused',
      );
      const code =
        STARTUP_SQLSTATE[err.code] ?? (err.code.startsWith('identity.') ? '28P01' : '08006');
      throw new Fatal({
        code,
        message: err.code.startsWith('identity.')
          ? `authentication failed: ${err.message}`
          : err.message,
      });
    }
    return { socket, session, database, parameters: message.parameters, leftover: reader.drain() };
  }
}

async function nextWithin(next: () => Promise<Frame>, limit: number): Promise<Frame> {
  const frame = await next();
  if (frame.raw.length > limit) throw new FrameError('password message is too long');
  return frame;
}

function upgrade(socket: Socket, secureContext: SecureContext): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const secure = new TLSSocket(socket, { isServer: true, secureContext });
    secure.setNoDelay(true);
    secure.on('error', () => {});
    secure.once('secure', () => resolve(secure));
    secure.once('error', (err) => reject(new FrameError(`TLS handshake failed: ${err.message}`)));
  });
}

/** Moves messages both ways after login, judging every statement on the way in. */
class Relay {
  readonly #client: Socket;
  readonly #upstream: Socket;
  readonly #session: CoreSession;
  readonly #ctx: PostgresContext;
  readonly #sql: SqlSession;
  readonly #fromClient: FrameReader;
  readonly #fromUpstream: FrameReader;
  readonly #tracker = new ResponseTracker((ref, outcome) => this.#session.completed(ref, outcome));
  /** Recorded command of each prepared statement and portal, so every Execute reports its outcome. */
  readonly #statementRefs = new Map<string, number | null>();
  readonly #portalRefs = new Map<string, number | null>();
  readonly #toUpstream = new OutputBatch();
  readonly #toClient = new OutputBatch();
  #done!: () => void;
  #ended = false;

  constructor(
    client: Socket,
    upstream: UpstreamConnection,
    session: CoreSession,
    ctx: PostgresContext,
    leftover: Buffer,
  ) {
    this.#client = client;
    this.#upstream = upstream.socket;
    this.#session = session;
    this.#ctx = ctx;
    this.#sql = ctx.newSqlSession();
    this.#fromClient = new FrameReader(ctx.endpoint.max_message_bytes);
    this.#fromUpstream = upstream.reader;
    if (leftover.length > 0) this.#fromClient.push(leftover);
  }

  run(): Promise<void> {
    const finished = new Promise<void>((resolve) => {
      this.#done = resolve;
    });
    this.#client.on('data', (chunk: Buffer) => this.#onClient(chunk));
    this.#upstream.on('data', (chunk: Buffer) => this.#onUpstream(chunk));
    this.#client.on('drain', () => this.#upstream.resume());
    this.#upstream.on('drain', () => this.#client.resume());
    this.#client.on('close', () => this.#end(null));
    this.#upstream.on('close', () => this.#end('the target closed the connection'));
    this.#client.resume();
    this.#upstream.resume();
    if (this.#fromClient.pending > 0) this.#onClient(Buffer.alloc(0));
    if (this.#fromUpstream.pending > 0) this.#onUpstream(Buffer.alloc(0));
    return finished;
  }

  #end(reason: string | null): void {
    if (this.#ended) return;
    this.#ended = true;
    if (reason && !this.#client.destroyed) {
      this.#client.end(errorResponse({ severity: 'FATAL', code: '57P01', message: reason }));
    } else this.#client.destroy();
    this.#upstream.destroy();
    this.#done();
  }

  #fail(err: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#upstream.destroy();
    fatal(this.#client, err, this.#ctx.logger);
    this.#done();
  }

  #onClient(chunk: Buffer): void {
    try {
      if (chunk.length > 0) this.#fromClient.push(chunk);
      for (let f = this.#fromClient.next(); f; f = this.#fromClient.next()) {
        if (!this.#fromClientMessage(f)) break;
      }
      if (!this.#toUpstream.flush(this.#upstream)) this.#client.pause();
    } catch (err) {
      this.#fail(err);
    }
  }

  /** Returns false when the session must stop reading. */
  #fromClientMessage(f: Frame): boolean {
    switch (f.type) {
      case Frontend.Query:
        this.#judge(this.#sql.query(decodeQuery(f.body)), f.raw, 'query', () => DENIED_QUERY);
        return true;
      case Frontend.Parse: {
        const { name, query } = decodeParse(f.body);
        const ref = this.#judge(this.#sql.parse(name, query), f.raw, 'parse', () =>
          deniedParse(name),
        );
        this.#statementRefs.set(name, ref);
        return true;
      }
      case Frontend.Bind: {
        const { portal, statement } = decodeBind(f.body);
        this.#portalRefs.set(portal, this.#statementRefs.get(statement) ?? null);
        return this.#forward(f, { kind: 'bind' });
      }
      case Frontend.Describe:
        return this.#forward(f, { kind: 'describe', target: decodeTarget(f.body).kind });
      case Frontend.Execute:
        return this.#forward(f, {
          kind: 'execute',
          ref: this.#portalRefs.get(decodeExecute(f.body).portal) ?? null,
        });
      case Frontend.Close: {
        const target = decodeTarget(f.body);
        if (target.kind === 'S') {
          this.#sql.closeStatement(target.name);
          this.#statementRefs.delete(target.name);
        } else this.#portalRefs.delete(target.name);
        return this.#forward(f, { kind: 'close' });
      }
      case Frontend.Sync:
        return this.#forward(f, { kind: 'sync' });
      case Frontend.Flush:
      case Frontend.CopyData:
      case Frontend.CopyDone:
      case Frontend.CopyFail:
        this.#toUpstream.add(f.raw);
        return true;
      case Frontend.FunctionCall:
        // The fast-path interface calls functions by OID, out of sight of the SQL parser.
        this.#toUpstream.add(DENIED_QUERY);
        this.#tracker.expect({
          kind: 'query',
          denial: 'the fast-path function call interface is not allowed through Warden',
        });
        return true;
      case Frontend.Terminate:
        this.#toUpstream.add(f.raw);
        this.#toUpstream.flush(this.#upstream);
        this.#end(null);
        return false;
      default:
        throw new FrameError(`unexpected message type 0x${f.type.toString(16)}`);
    }
  }

  /**
   * Sends the client's message when the policy allows it, else the statement
   * that fails in its place. Returns the recorded command of an allowed one.
   */
  #judge(
    analyzed: AnalyzedSql,
    raw: Buffer,
    kind: 'query' | 'parse',
    replacement: () => Buffer,
  ): number | null {
    const verdict = this.#session.decide(analyzed.command);
    if (verdict.endSession) throw new Fatal({ code: '28000', message: verdict.message });
    const allowed = verdict.action === 'allow';
    if (allowed) analyzed.apply();
    this.#toUpstream.add(allowed ? raw : replacement());
    const ref = allowed ? verdict.ref : null;
    this.#tracker.expect(
      kind === 'query'
        ? { kind, denial: allowed ? null : verdict.message, ref }
        : { kind, denial: allowed ? null : verdict.message },
    );
    return ref;
  }

  #forward(f: Frame, expect: Parameters<ResponseTracker['expect']>[0]): boolean {
    this.#toUpstream.add(f.raw);
    this.#tracker.expect(expect);
    return true;
  }

  #onUpstream(chunk: Buffer): void {
    try {
      if (chunk.length > 0) this.#fromUpstream.push(chunk);
      for (let f = this.#fromUpstream.next(); f; f = this.#fromUpstream.next()) {
        const d = this.#tracker.receive(f.type, f.body);
        if (d.kind === 'deny') {
          this.#toClient.add(
            errorResponse({ severity: 'ERROR', code: '42501', message: d.message }),
          );
        } else {
          this.#toClient.add(f.raw);
        }
      }
      if (!this.#toClient.flush(this.#client)) this.#upstream.pause();
    } catch (err) {
      this.#fail(err);
    }
  }
}
