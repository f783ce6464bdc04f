import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../gateway/src/paths.js';

const run = promisify(execFile);
const WARDEN = join(PROJECT_ROOT, 'bin', 'warden.js');
const hasPsql = await run('psql', ['--version']).then(
  () => true,
  () => false,
);

/** A port that was free a moment ago. */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Output {
  code: number;
  out: string;
}

/**
 * `npm start` as a developer runs it (`warden start --dev`, from dist/), in a
 * temporary state directory and on free ports: the embedded demo database,
 * the development token issuer, a token from `warden dev token`, and psql.
 */
describe('warden start --dev (the npm start demo)', {
  skip: !hasPsql && 'psql is not installed',
}, () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let gateway: ChildProcess;
  let stdout = '';
  let stderr = '';
  let pgPort: number;
  let token: string;

  const warden = (...args: string[]) => run('node', [WARDEN, ...args], { env });

  const psql = async (target: string, sql: string): Promise<Output> =>
    run(
      'psql',
      [
        '-X',
        '-At',
        `host=127.0.0.1 port=${pgPort} dbname=${target} user=agent sslmode=require`,
        '-c',
        sql,
      ],
      { env: { ...process.env, PGPASSWORD: token, PGCONNECT_TIMEOUT: '10' } },
    ).then(
      (r) => ({ code: 0, out: r.stdout + r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({
        code: e.code,
        out: e.stdout + e.stderr,
      }),
    );

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'warden-dev-'));
    pgPort = await freePort();
    env = {
      ...process.env,
      WARDEN_DEV_DIR: dir,
      WARDEN_DEV_ISSUER_PORT: String(await freePort()),
      WARDEN_DEV_PG_PORT: String(pgPort),
      WARDEN_DEV_ADMIN_PORT: String(await freePort()),
      WARDEN_DEV_DB_PORT: '0',
    };
    gateway = spawn('node', [WARDEN, 'start', '--dev'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    gateway.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    gateway.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    // The first start builds the default policy bundle (opa check, test, build): allow for it.
    const deadline = Date.now() + 240_000;
    while (!stdout.includes('Warden demo is ready')) {
      if (gateway.exitCode !== null)
        throw new Error(`warden start --dev exited with ${gateway.exitCode}:\n${stderr}`);
      if (Date.now() > deadline) throw new Error(`warden start --dev is not ready:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    token = (await warden('dev', 'token')).stdout.trim();
  });

  after(async () => {
    if (gateway && gateway.exitCode === null) {
      gateway.kill('SIGKILL');
      await once(gateway, 'exit');
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('prints how to connect: the token command and the psql line', () => {
    assert.match(stdout, /export PGPASSWORD=\$\(WARDEN_DEV_DIR=\S+ node \S+warden\.js dev token\)/);
    assert.ok(
      stdout.includes(
        `psql "host=127.0.0.1 port=${pgPort} dbname=demo user=agent sslmode=require"`,
      ),
      stdout,
    );
  });

  test('dev token prints a JWT access token (at+jwt) for urn:warden with the agent group', () => {
    const [header, payload] = token
      .split('.')
      .slice(0, 2)
      .map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()));
    assert.equal(header.typ, 'at+jwt');
    assert.equal(payload.aud, 'urn:warden');
    assert.equal(payload.client_id, 'demo-agent');
    assert.deepEqual(payload.groups, ['agents']);
    assert.equal(payload.iss, `http://127.0.0.1:${env.WARDEN_DEV_ISSUER_PORT}`);
  });

  test('the client secret, issuer key and TLS key are kept private in the state directory', async () => {
    for (const file of ['clients.json', 'issuer-signing-key.json', 'endpoint.key']) {
      const mode = (await stat(join(dir, 'dev', file))).mode & 0o777;
      assert.equal(mode, 0o600, file);
    }
  });

  test('psql over TLS: a SELECT on the demo data is allowed', async () => {
    const r = await psql('demo', 'SELECT count(*) FROM customers');
    assert.equal(r.code, 0, r.out);
    assert.equal(r.out.trim(), '24');
  });

  test('psql: DROP TABLE is denied with the policy reason, and nothing is dropped', async () => {
    const r = await psql('demo', 'DROP TABLE orders');
    assert.notEqual(r.code, 0);
    assert.match(r.out, /ERROR: {2}DROP statements are not allowed \(decision [0-9a-f-]{36}\)/);
    const count = await psql('demo', 'SELECT count(*) FROM orders');
    assert.equal(count.out.trim(), '60');
  });

  test('psql: an agent UPDATE on the production demo target requires approval', async () => {
    const r = await psql('demo', "UPDATE orders SET status = 'x' WHERE id = 1");
    assert.notEqual(r.code, 0);
    assert.match(r.out, /ERROR: {2}requires approval: /);
    const status = await psql('demo', 'SELECT status FROM orders WHERE id = 1');
    assert.notEqual(status.out.trim(), 'x');
  });

  test('the decision log records the decisions with the dev issuer identity', async () => {
    const lines = (await readFile(join(dir, 'decisions.log'), 'utf8')).split('\n').filter(Boolean);
    const drop = lines
      .map((l) => JSON.parse(l))
      .find((d) => d.input?.command?.raw === 'DROP TABLE orders');
    assert.ok(drop, 'a decision for the DROP');
    assert.equal(drop.result.action, 'deny');
    assert.equal(drop.result.reasons[0].code, 'sql.drop');
    assert.equal(drop.input.identity.subject, 'demo-agent');
    assert.equal(drop.input.identity.kind, 'agent');
    assert.equal(drop.input.target.name, 'demo');
  });

  test('SIGTERM stops the gateway, the issuer and the database cleanly', async () => {
    gateway.kill('SIGTERM');
    const [code] = await once(gateway, 'exit');
    assert.equal(code, 0, stderr);
    await assert.rejects(stat(join(dir, 'dev', 'running.json')));
    await assert.rejects(warden('dev', 'token'), /no dev gateway is running/);
  });
});
