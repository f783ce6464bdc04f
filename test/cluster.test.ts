import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  type GatewayFixtures,
  gatewayConfig,
  gatewayFixtures,
  startGatewayProcess,
} from './support/gateway-process.js';

const WORKERS = 3;

describe('gateway workers (one process per core)', () => {
  let dir: string;
  let fx: GatewayFixtures;
  let gateway: ChildProcess;
  let logs: () => string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'warden-cluster-'));
    fx = await gatewayFixtures(dir);
    const config = join(dir, 'warden.yaml');
    await writeFile(
      config,
      gatewayConfig({ ...fx, passwordEnv: 'CLUSTER_PG_PASSWORD', workers: WORKERS }),
    );
    const started = await startGatewayProcess(config, 'CLUSTER_PG_PASSWORD', WORKERS);
    gateway = started.child;
    logs = started.logs;
  });

  after(async () => {
    gateway?.kill('SIGKILL');
    await fx?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const client = () => fx.agentClient();

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
