import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { loadConfig, parseConfig, readSecret } from '../gateway/src/config/load.js';
import { PROJECT_ROOT } from '../gateway/src/paths.js';

const run = promisify(execFile);
const BASE = `policy:\n  bundle:\n    path: bundles/default.tar.gz\n`;
const parse = (text: string) => parseConfig(text, 'warden.yaml', '/etc/warden');
const fails = (text: string, pattern: RegExp) =>
  assert.throws(
    () => parse(text),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, 'config.invalid');
      assert.match(err.message, pattern);
      return true;
    },
  );

describe('configuration', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'warden-config-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('the example configuration is valid', async () => {
    const config = await loadConfig(join(PROJECT_ROOT, 'warden.example.yaml'));
    assert.equal(config.policy.bundle.url, 'http://127.0.0.1:8182/bundles/default');
  });

  test('defaults are filled in and paths resolve against the file', () => {
    const config = parse(BASE);
    assert.equal(config.policy.bundle.path, '/etc/warden/bundles/default.tar.gz');
    assert.equal(config.policy.bundle.poll_seconds, 10);
    assert.equal(config.admin.listen, '127.0.0.1:8181');
    assert.equal(config.log.level, 'info');
    assert.equal(config.policy.decision_logs.destination, 'stdout');
  });

  test('a wrong value names the key, the value and what was expected', () => {
    fails(
      `${BASE}log:\n  level: loud\n`,
      /warden\.yaml: log\.level: expected one of .*"info".*, got "loud"/,
    );
    fails(
      `${BASE}    poll_seconds: often\n`,
      /policy\.bundle\.poll_seconds: expected a value that must be integer, got "often"/,
    );
    fails(`${BASE}admin:\n  listen: 8181\n`, /admin\.listen: .*got 8181/);
  });

  test('unknown and missing keys are named', () => {
    fails(`${BASE}gatway:\n  id: x\n`, /gatway: unknown key/);
    fails('log:\n  level: info\n', /policy: is required but missing/);
    fails('policy:\n  bundle: {}\n', /policy\.bundle: expected exactly one of path or url/);
  });

  test('a secret written inline is refused: secrets are references', () => {
    fails(
      `${BASE}  verification:\n    key: "-----BEGIN PUBLIC KEY-----"\n`,
      /policy\.verification\.key: expected a value that must be object/,
    );
  });

  test('YAML syntax errors are reported', () => {
    fails('policy: [unclosed\n', /not valid YAML/);
  });

  test('secret references read env vars and files, and say which setting is missing without leaking values', async () => {
    process.env.WARDEN_TEST_SECRET = 's3cret-value';
    assert.equal(await readSecret({ env: 'WARDEN_TEST_SECRET' }, 'x.key'), 's3cret-value');
    await writeFile(join(dir, 'secret'), 'from-file\n');
    assert.equal(await readSecret({ file: join(dir, 'secret') }, 'x.key'), 'from-file');
    await assert.rejects(
      readSecret({ env: 'WARDEN_TEST_UNSET' }, 'policy.verification.key'),
      /policy\.verification\.key: environment variable WARDEN_TEST_UNSET is not set/,
    );
  });

  test('the gateway does not start with an invalid file, and says why', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, `${BASE}log:\n  level: loud\n`);
    const started = run('node', [join(PROJECT_ROOT, 'bin/warden.js'), 'start', '--config', file]);
    await assert.rejects(started, (err: { code: number; stderr: string }) => {
      assert.equal(err.code, 1);
      assert.match(err.stderr, /warden: .*bad\.yaml: log\.level: expected one of/);
      return true;
    });
  });
});
