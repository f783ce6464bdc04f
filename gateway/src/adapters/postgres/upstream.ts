import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { continueSession, finalizeSession, startSession } from 'pg/lib/crypto/sasl.js';
import { postgresMd5PasswordHash } from 'pg/lib/crypto/utils.js';
import { serialize } from 'pg-protocol';
import type { TransactionStatus } from './codec/backend.js';
import { FrameReader } from './codec/frames.js';
import { BodyReader } from './codec/reader.js';
import { readChunk } from './socket-reads.js';

/**
 * Logs in to the real database with the credentials Warden holds
 * (cleartext, md5 or SCRAM-SHA-256; TLS per the target's mode) and hands
 * back the authenticated connection. The client never takes part in this.
 */

export interface UpstreamOptions {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
  tls: {
    mode: 'disable' | 'require' | 'verify-ca' | 'verify-full';
    ca?: string;
    servername?: string;
  };
  connectTimeoutMs: number;
  maxMessageBytes: number;
}

export interface UpstreamConnection {
  socket: Socket;
  /** Holds any bytes that arrived after ReadyForQuery. */
  reader: FrameReader;
  parameters: Map<string, string>;
  processId: number;
  secretKey: number;
  status: TransactionStatus;
}

export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
  constructor(
    message: string,
    readonly sqlstate: string | null = null,
  ) {
    super(message);
  }
}

/** Startup parameters a client may pass through; anything else (role, options, replication...) is dropped. */
export const FORWARDED_STARTUP_PARAMETERS = new Set([
  'application_name',
  'client_encoding',
  'datestyle',
  'timezone',
  'extra_float_digits',
  'intervalstyle',
  'search_path',
]);

async function open(o: UpstreamOptions): Promise<Socket> {
  const socket = netConnect({ host: o.host, port: o.port });
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => socket.destroy(new UpstreamError('connection to the target timed out')),
      o.connectTimeoutMs,
    );
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(new UpstreamError(`cannot connect to the target: ${err.message}`));
    });
  });
  // Errors surface through reads (the socket is destroyed); without a listener one would crash the process.
  socket.on('error', () => {});
  if (o.tls.mode === 'disable') return socket;
  socket.write(serialize.requestSsl());
  const answer = await readBytes(socket, 1);
  if (answer[0] !== 0x53) {
    socket.destroy();
    throw new UpstreamError('the target does not accept TLS connections');
  }
  const verify = o.tls.mode === 'verify-ca' || o.tls.mode === 'verify-full';
  const servername = o.tls.servername ?? (isIP(o.host) ? undefined : o.host);
  const secure = tlsConnect({
    socket,
    host: o.host,
    ...(servername ? { servername } : {}),
    ...(o.tls.ca ? { ca: o.tls.ca } : {}),
    rejectUnauthorized: verify,
    ...(o.tls.mode === 'verify-ca' ? { checkServerIdentity: () => undefined } : {}),
  });
  secure.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    secure.once('secureConnect', resolve);
    secure.once('error', (err) =>
      reject(new UpstreamError(`TLS to the target failed: ${err.message}`)),
    );
  });
  return secure;
}

async function readBytes(socket: Socket, n: number): Promise<Buffer> {
  const chunk = await readChunk(socket);
  if (!chunk) throw new UpstreamError('the target closed the connection');
  if (chunk.length > n) socket.unshift(chunk.subarray(n));
  return chunk.subarray(0, n);
}

function errorOf(body: Buffer): UpstreamError {
  const r = new BodyReader(body);
  let code: string | null = null;
  let message = 'the target refused the login';
  for (let field = r.byte(); field !== 0; field = r.byte()) {
    const value = r.cstring();
    if (field === 0x43) code = value;
    if (field === 0x4d) message = value;
  }
  return new UpstreamError(message, code);
}

/** Connects and logs in; resolves at the first ReadyForQuery. */
export async function connectUpstream(
  o: UpstreamOptions,
  clientParameters: Map<string, string>,
): Promise<UpstreamConnection> {
  const socket = await open(o);
  const startup: Record<string, string> = { user: o.user, database: o.database };
  for (const [k, v] of clientParameters)
    if (FORWARDED_STARTUP_PARAMETERS.has(k.toLowerCase())) startup[k] = v;
  socket.write(serialize.startup(startup));

  const reader = new FrameReader(o.maxMessageBytes);
  const parameters = new Map<string, string>();
  let processId = 0;
  let secretKey = 0;
  let sasl: ReturnType<typeof startSession> | null = null;

  try {
    for (let chunk = await readChunk(socket); chunk; chunk = await readChunk(socket)) {
      reader.push(chunk);
      for (let frame = reader.next(); frame; frame = reader.next()) {
        const r = new BodyReader(frame.body);
        switch (frame.type) {
          case 0x52: {
            // R: authentication request
            const code = r.int32();
            if (code === 0) break;
            if (code === 3) socket.write(serialize.password(o.password));
            else if (code === 5)
              socket.write(
                serialize.password(
                  await postgresMd5PasswordHash(o.user, o.password, Buffer.from(r.bytes(4))),
                ),
              );
            else if (code === 10) {
              const mechanisms: string[] = [];
              for (let m = r.cstring(); m !== ''; m = r.cstring()) mechanisms.push(m);
              sasl = startSession(mechanisms);
              socket.write(serialize.sendSASLInitialResponseMessage(sasl.mechanism, sasl.response));
            } else if (code === 11 && sasl) {
              await continueSession(sasl, o.password, r.bytes(r.remaining).toString('utf8'));
              socket.write(serialize.sendSCRAMClientFinalMessage(sasl.response));
            } else if (code === 12 && sasl)
              finalizeSession(sasl, r.bytes(r.remaining).toString('utf8'));
            else
              throw new UpstreamError(
                `the target asks for an unsupported authentication method (${code})`,
              );
            break;
          }
          case 0x53: // S: ParameterStatus
            parameters.set(r.cstring(), r.cstring());
            break;
          case 0x4b: // K: BackendKeyData
            processId = r.int32();
            secretKey = r.int32();
            break;
          case 0x45: // E
            throw errorOf(frame.body);
          case 0x5a: // Z: ready
            return {
              socket,
              reader,
              parameters,
              processId,
              secretKey,
              status: String.fromCharCode(r.byte()) as TransactionStatus,
            };
          default: // NoticeResponse, NegotiateProtocolVersion: nothing to do at login
        }
      }
    }
    throw new UpstreamError('the target closed the connection during login');
  } catch (err) {
    socket.destroy();
    if (err instanceof UpstreamError) throw err;
    throw new UpstreamError(`login to the target failed: ${(err as Error).message}`);
  }
}

/** Sends a CancelRequest for an upstream backend on a new connection, as PostgreSQL requires. */
export async function cancelUpstream(
  o: UpstreamOptions,
  processId: number,
  secretKey: number,
): Promise<void> {
  const socket = await open(o);
  await new Promise<void>((resolve) => socket.end(serialize.cancel(processId, secretKey), resolve));
}
