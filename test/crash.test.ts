import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import postgres from 'postgres';
import { buildBundle } from '../bundle-builder/src/build.js';
import { PROJECT_ROOT } from '../gateway/src/paths.js';
import { recordDirectories } from '../gateway/src/recording/catalog.js';
import { verifyRecord } from '../gateway/src/recording/verify.js';
import { startTestIdp, type TestIdp } from './support/oidc-provider.js';
import { PolicyRepo } from './support/policy-repo.js';
import { freePort, PostgresServer, ROLES } from './support/postgres.js';
import { makeTlsFiles, type TlsFiles } from './support/tls.js';

let dir: string;
let pg: PostgresServer;
let idp: TestIdp;
let tls: TlsFiles;
let gateway: ChildProcess;
let port: number;
let publicKey: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'warden-crash-'));
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
  const pair = generateKeyPairSync('ed25519');
  await writeFile(
    join(dir, 'record.pem'),
    pair.privateKey.export({ type: 'pkcs8', format: 'pem' }),
  );
  publicKey = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  port = await freePort();
  await writeFile(
    join(dir, 'warden.yaml'),
    `gateway: { workers: 1 }
identity: ${JSON.stringify(idp.identityConfig())}
admin: { listen: 'off' }
recording: { directory: ${join(dir, 'sessions')}, signing_key: { file: ${join(dir, 'record.pem')} } }
endpoints:
  - protocol: postgres
    listen: 127.0.0.1:${port}
    tls: { cert: { file: ${tls.certFile} }, key: { file: ${tls.keyFile} } }
targets:
  - name: app-db
    protocol: postgres
    address: 127.0.0.1:${pg.port}
    database: ${pg.database}
    tls: { mode: disable }
    credentials: { username: ${ROLES.scram.user}, password: { env: CRASH_PG_PASSWORD } }
policy:
  bundle: { path: ${bundle.out} }
  decision_logs: { destination: 'off' }
`,
  );
  gateway = spawn(
    'node',
    [join(PROJECT_ROOT, 'bin/warden.js'), 'start', '--config', join(dir, 'warden.yaml')],
    {
      env: { ...process.env, CRASH_PG_PASSWORD: ROLES.scram.password },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let logs = '';
  gateway.stderr!.on('data', (d) => {
    logs += d;
  });
  const deadline = Date.now() + 60_000;
  while (!/warden [\d.]+ running/.test(logs)) {
    if (Date.now() > deadline || gateway.exitCode !== null)
      throw new Error(`gateway did not start:\n${logs}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});

after(async () => {
  gateway?.kill('SIGKILL');
  await idp?.stop();
  await pg?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('a gateway killed with SIGKILL mid-session leaves a readable, verifiable partial record', async () => {
  const sql = postgres({
    host: '127.0.0.1',
    port,
    database: 'app-db',
    user: 'agent',
    password: await idp.agentToken(),
    ssl: { ca: tls.ca },
    max: 1,
    onnotice: () => {},
  });
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
