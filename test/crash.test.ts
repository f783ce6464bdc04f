import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { recordDirectories } from '../gateway/src/recording/catalog.js';
import { verifyRecord } from '../gateway/src/recording/verify.js';
import {
  type GatewayFixtures,
  gatewayConfig,
  gatewayFixtures,
  startGatewayProcess,
} from './support/gateway-process.js';

let dir: string;
let fx: GatewayFixtures;
let gateway: ChildProcess;
let publicKey: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'warden-crash-'));
  fx = await gatewayFixtures(dir);
  const pair = generateKeyPairSync('ed25519');
  await writeFile(
    join(dir, 'record.pem'),
    pair.privateKey.export({ type: 'pkcs8', format: 'pem' }),
  );
  publicKey = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const config = join(dir, 'warden.yaml');
  const recording = { directory: join(dir, 'sessions'), keyFile: join(dir, 'record.pem') };
  await writeFile(config, gatewayConfig({ ...fx, passwordEnv: 'CRASH_PG_PASSWORD', recording }));
  gateway = (await startGatewayProcess(config, 'CRASH_PG_PASSWORD')).child;
});

after(async () => {
  gateway?.kill('SIGKILL');
  await fx?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('a gateway killed with SIGKILL mid-session leaves a readable, verifiable partial record', async () => {
  const sql = await fx.agentClient();
  for (let i = 0; i < 20; i++) await sql.unsafe(`SELECT ${i} AS n`);
  await assert.rejects(sql`DROP TABLE pg_class`, (e: { code: string }) => e.code === '42501');

  gateway.kill('SIGKILL');
  await new Promise((r) => gateway.once('exit', r));
  await sql.end({ timeout: 1 }).catch(() => {});

  const [record] = await recordDirectories(join(dir, 'sessions'));
  assert.ok(record, 'the session has a record');
  const report = await verifyRecord(record, publicKey);
  assert.equal(
    report.status,
    'unsealed',
    'a crashed session is reported as unsealed, not tampered',
  );
  assert.deepEqual(report.problems, []);
  const events = (await readFile(join(record, 'events.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; data: { raw?: string; action?: string } });
  const commands = events.filter((e) => e.type === 'command').map((e) => e.data.raw);
  for (let i = 0; i < 20; i++) {
    assert.ok(commands.includes(`SELECT ${i} AS n`), `acknowledged command ${i} is in the record`);
  }
  assert.equal(commands.at(-1), 'DROP TABLE pg_class');
  assert.equal(events.filter((e) => e.type === 'decision').at(-1)!.data.action, 'deny');
});
