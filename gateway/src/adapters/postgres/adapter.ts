import { createServer, type Socket } from 'node:net';
import { createSecureContext } from 'node:tls';
import { onWorkerMessage, workerIndex } from '../../cluster.js';
import { readSecret } from '../../config/load.js';
import type { ProtocolAdapter } from '../../core/adapter.js';
import { hostPort } from '../../host-port.js';
import { CancelKeys } from './cancel-keys.js';
import { CANCEL_MESSAGE, type PostgresContext, serveClient } from './connection.js';
import { createSqlSession, prepareSqlAnalysis } from './sql-session.js';

/** One key space per process, shared by its PostgreSQL endpoints. */
const cancelKeys = new CancelKeys(workerIndex);

/** Cancels a session this worker holds, on behalf of the worker that received the CancelRequest. */
function relayedCancel(payload: unknown): void {
  const { processId, secretKey } = payload as { processId: number; secretKey: string };
  void cancelKeys
    .find(processId, Buffer.from(secretKey, 'hex'))
    ?.cancel()
    .catch(() => {});
}

/** The PostgreSQL endpoint: see README.md in this folder. */
export const postgresAdapter: ProtocolAdapter = {
  protocol: 'postgres',

  async prepare() {
    onWorkerMessage(CANCEL_MESSAGE, relayedCancel);
    await prepareSqlAnalysis();
  },

  async serve(endpoint, core, logger) {
    const tls = endpoint.tls
      ? createSecureContext({
          cert: await readSecret(endpoint.tls.cert, 'endpoints.tls.cert'),
          key: await readSecret(endpoint.tls.key, 'endpoints.tls.key'),
        })
      : null;
    const ctx: PostgresContext = {
      core,
      endpoint,
      tls,
      cancelKeys,
      newSqlSession: createSqlSession,
      logger: logger.child({ adapter: 'postgres' }),
    };
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      void serveClient(socket, ctx);
    });
    const { host, port } = hostPort(endpoint.listen);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, resolve);
    });
    const bound = server.address() as { address: string; port: number };
    return {
      address: `${bound.address}:${bound.port}`,
      close: () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          for (const s of sockets) s.destroy();
        }),
    };
  },
};
