/**
 * End to end with the real default policy: the analyzer's output for the
 * corpus, as `command` of an agent's input on a production target, must get
 * the action the corpus expects.
 *
 * Builds the policy in policies/rego to WASM for every run (with
 * scripts/opa.sh), so the test always judges the current policy.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type LoadedPolicy, loadPolicy } from '@open-policy-agent/opa-wasm';
import { readTarGz } from '../../../policy/bundle-files.js';
import { type Command, clock, type PolicyInput } from '../../../policy/input.js';
import { analyzeSql, loadSqlParser } from './analyzer.js';
import { CASES, type Case } from './corpus.js';
import { PreparedStatements } from './prepared.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../../../..');
function buildBundle(): string {
  const out = join(mkdtempSync(join(tmpdir(), 'warden-sqlpol-')), 'policy.tar.gz');
  const opa = join(root, 'scripts/opa.sh');
  const args = [
    opa,
    'build',
    '-t',
    'wasm',
    '-e',
    'warden/decision',
    join(root, 'policies/rego'),
    '-o',
    out,
  ];
  execFileSync('bash', args, { stdio: 'pipe', timeout: 300_000 });
  return out;
}

let policy: LoadedPolicy;

before(async () => {
  await loadSqlParser();
  const files = await readTarGz(await readFile(buildBundle()));
  const wasm = files.get('policy.wasm');
  assert.ok(wasm, 'policy.wasm in the bundle');
  policy = await loadPolicy(wasm, { initial: 5, maximum: 4096 });
  policy.setData({ warden: { masking: { rules: [] } } });
});

function input(command: Command, kind: 'agent' | 'human', environment: string): PolicyInput {
  return {
    identity: { subject: 'svc-test', groups: [], kind, issuer: 'https://idp.test' },
    target: { name: 'orders-db', protocol: 'postgres', labels: { environment } },
    session: { id: 'sess-1', client_address: '127.0.0.1', started: new Date().toISOString() },
    command,
    grants: [],
    now: clock(),
  };
}

interface Decision {
  action: string;
  reasons: { code: string }[];
  statements?: { reasons?: { code: string }[] }[];
}

function decide(
  command: Command,
  kind: 'agent' | 'human' = 'agent',
  environment = 'production',
): Decision {
  const result = policy.evaluate(input(command, kind, environment), 'warden/decision') as {
    result: Decision;
  }[];
  assert.equal(result.length, 1, 'one result');
  return result[0]!.result;
}

function codes(d: Decision): Set<string> {
  const out = new Set(d.reasons.map((r) => r.code));
  for (const s of d.statements ?? []) for (const r of s.reasons ?? []) out.add(r.code);
  return out;
}

function analyzeCase(c: Case): Command {
  const prepared = new PreparedStatements();
  for (const text of c.before ?? []) prepared.commit(analyzeSql(text, prepared));
  return analyzeSql(c.sql, prepared);
}

describe('default policy on analyzer output (agent, production)', () => {
  for (const c of CASES) {
    if (!c.action) continue;
    test(`${c.action}: ${c.name}`, () => {
      const command = analyzeCase(c);
      const d = decide(command);
      const found = codes(d);
      assert.equal(d.action, c.action, `action for ${JSON.stringify(c.sql)}: ${[...found]}`);
      for (const code of c.codes ?? []) assert.ok(found.has(code), `${code} in ${[...found]}`);
    });
  }

  test('a human may write outside production; reads stay allowed', () => {
    assert.equal(
      decide(analyzeSql('UPDATE t SET a = 1 WHERE id = 1'), 'human', 'staging').action,
      'allow',
    );
    assert.equal(decide(analyzeSql('SELECT 1'), 'human', 'staging').action, 'allow');
  });
});
