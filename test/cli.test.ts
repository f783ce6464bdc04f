import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../gateway/src/paths.js';
import { DROP, SELECT, sqlInput } from './support/inputs.js';
import { type KeyFiles, rsaKeyFiles } from './support/keys.js';
import { PolicyRepo } from './support/policy-repo.js';

const run = promisify(execFile);
const WARDEN = join(PROJECT_ROOT, 'bin', 'warden.js');
const warden = (...args: string[]) => run('node', [WARDEN, ...args], { maxBuffer: 16 << 20 });

describe('the warden CLI', () => {
  let repo: PolicyRepo;
  let dir: string;
  let key: KeyFiles;
  let bundle: string;
  let revision: string;
  let gateway: ChildProcess | null = null;

  before(async () => {
    repo = await PolicyRepo.create();
    dir = await mkdtemp(join(tmpdir(), 'warden-cli-'));
    key = await rsaKeyFiles(dir, 'signing');
    bundle = join(dir, 'v1.tar.gz');
    const { stdout } = await buildSigned(bundle);
    revision = JSON.parse(stdout).revision;
  });
  /** `warden bundle build` of the repository's main branch, signed; prints the result as JSON. */
  const buildSigned = (out: string) =>
    warden(
      'bundle',
      'build',
      '--repo',
      repo.dir,
      '--ref',
      'main',
      '--out',
      out,
      '--signing-key',
      key.privateKey,
    );

  after(async () => {
    gateway?.kill('SIGKILL');
    await repo.remove();
    await rm(dir, { recursive: true, force: true });
  });

  test('bundle build prints the revision it built', async () => {
    assert.equal(revision, (await repo.git.revparse(['HEAD'])).trim());
  });

  test('policy eval prints the decision for an input, with the exit status telling deny from allow', async () => {
    const input = join(dir, 'drop.json');
    await writeFile(input, JSON.stringify(sqlInput([DROP])));
    await assert.rejects(
      warden(
        'policy',
        'eval',
        '--bundle',
        bundle,
        '--input',
        input,
        '--verification-key',
        key.publicKey,
      ),
      (err: { code: number; stdout: string }) => {
        assert.equal(err.code, 3);
        const decision = JSON.parse(err.stdout);
        assert.equal(decision.action, 'deny');
        assert.equal(decision.revision, revision);
        assert.ok(decision.reasons.some((r: { code: string }) => r.code === 'sql.drop'));
        return true;
      },
    );
    await writeFile(input, JSON.stringify(sqlInput([SELECT], { kind: 'human' })));
    const { stdout } = await warden('policy', 'eval', '--bundle', bundle, '--input', input);
    assert.equal(JSON.parse(stdout).action, 'allow');
  });

  test('start runs the gateway from a config file, reports readiness, and follows a replaced bundle file', async () => {
    const live = join(dir, 'live.tar.gz');
    await copyFile(bundle, live);
    const config = join(dir, 'warden.yaml');
    await writeFile(
      config,
      [
        'admin:',
        '  listen: 127.0.0.1:0',
        'policy:',
        '  bundle:',
        `    path: ${live}`,
        '    poll_seconds: 1',
        '  verification:',
        `    key: { file: ${key.publicKey} }`,
        '  decision_logs:',
        `    destination: ${join(dir, 'decisions.log')}`,
      ].join('\n'),
    );
    gateway = spawn('node', [WARDEN, 'start', '--config', config], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    gateway.stderr!.on('data', (d) => {
      stderr += d;
    });
    const admin = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`gateway did not start: ${stderr}`)), 20_000);
      gateway!.stderr!.on('data', () => {
        const m = stderr.match(/admin API (http:\/\/127\.0\.0\.1:\d+)/);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
    });
    const ready = await fetch(`${admin}/ready`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { ready: true, revision });

    await repo.write('policies/rego/zz_more.rego', 'package warden.more\n\nx := 1\n');
    await repo.commit('More');
    const next = join(dir, 'v2.tar.gz');
    const built = await buildSigned(next);
    const second = JSON.parse(built.stdout).revision;
    assert.notEqual(second, revision);
    await copyFile(next, live);
    const deadline = Date.now() + 15_000;
    let status: { revision: string | null } = { revision };
    while (status.revision !== second && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      status = (await (await fetch(`${admin}/v1/policy`)).json()) as { revision: string | null };
    }
    assert.equal(status.revision, second);

    gateway.kill('SIGTERM');
    const code = await new Promise((r) => gateway!.once('exit', r));
    assert.equal(code, 0);
    gateway = null;
  });
});
