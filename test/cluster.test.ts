import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import postgres from 'postgres';
import { buildBundle } from '../bundle-builder/src/build.js';
import { gatewayConfig, startGatewayProcess } from './support/gateway-process.js';
import { startTestIdp, type TestIdp } from './support/oidc-provider.js';
import { PolicyRepo } from './support/policy-repo.js';
import { freePort, PostgresServer } from './support/postgres.js';
import { makeTlsFiles, type TlsFiles } from './support/tls.js';

const WORKERS = 3;

describe('gateway workers (one process per core)', () => {
  let dir: string;
  let pg: PostgresServer;
  let idp: TestIdp;
  let tls: TlsFiles;
  let port: number;
  let gateway: ChildProcess;
  let logs: () => string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'warden-cluster-'));
    const repo = await PolicyRepo.create();
    [pg, idp, tls] = await Promise.all([
      PostgresServer.start(),
      startTestIdp(),
      makeTlsFiles(dir, 'gateway'),
    ]);
    const bundle = await buildBundle({
      repo: repo.dir,
      ref: 'main',
      out: join(dir, 'bundle.tar.gz'),
    });
    await repo.remove();
    port = await freePort();
    const config = join(dir, 'warden.yaml');
    await writeFile(
      config,
      gatewayConfig({
        idp,
        pg,
        tls,
        bundle: bundle.out,
        port,
        passwordEnv: 'CLUSTER_PG_PASSWORD',
        workers: WORKERS,
      }),
    );
    const started = await startGatewayProcess(config, 'CLUSTER_PG_PASSWORD', WORKERS);
    gateway = started.child;
    logs = started.logs;
  });

  after(async () => {
    gateway?.kill('SIGKILL');
    await idp?.stop();
    await pg?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const client = async () =>
    postgres({
      host: '127.0.0.1',
      port,
      database: 'app-db',
      user: 'agent',
      password: await idp.agentToken(),
      ssl: { ca: tls.ca },
      max: 1,
      onnotice: () => {},
    });

  test('sessions are spread over the workers, each judging statements', async () => {
    const clients = await Promise.all(Array.from({ length: 9 }, client));
    try {
      for (const sql of clients) {
        assert.equal((await sql`SELECT 1 AS ok`)[0]!.ok, 1);
        await assert.rejects(sql`DROP TABLE pg_class`, (e: { code: string }) => e.code === '42501');
      }
      const pids = new Set(
        logs()
          .split('\n')
          .filter((l) => l.includes('"session opened"'))
          .map((l) => (JSON.parse(l) as { pid: number }).pid),
      );
      assert.ok(pids.size >= 2, `sessions were served by ${pids.size} worker(s)`);
    } finally {
      await Promise.all(clients.map((sql) => sql.end()));
    }
  });

  test('a CancelRequest reaches the session wherever it lands', async () => {
    // Each cancel arrives on a new connection that any worker may accept; with
    // three workers, several attempts exercise the relay between workers.
    for (let i = 0; i < 6; i++) {
      const sql = await client();
      try {
        const started = Date.now();
        const query = sql`SELECT pg_sleep(20)`;
        setTimeout(() => query.cancel(), 200);
        await assert.rejects(query, (e: { code: string }) => e.code === '57014');
        assert.ok(Date.now() - started < 10_000);
      } finally {
        await sql.end();
      }
    }
  });

  test('SIGTERM stops every worker and the gateway exits cleanly', async () => {
    gateway.kill('SIGTERM');
    const code = await new Promise((r) => gateway.once('exit', r));
    assert.equal(code, 0);
  });
});
