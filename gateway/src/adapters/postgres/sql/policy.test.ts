/**
 * End to end with the real default policy: the analyzer's output for the
 * corpus, as `command` of an agent's input on a production target, must get
 * the action the corpus expects.
 *
 * Uses the WASM bundle at $WARDEN_SQL_POLICY_BUNDLE or /tmp/sqlpol.tar.gz,
 * building it with scripts/opa.sh when it is missing; skipped when OPA is
 * not available.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
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
const bundlePath = process.env.WARDEN_SQL_POLICY_BUNDLE ?? '/tmp/sqlpol.tar.gz';

function ensureBundle(): string | null {
  if (existsSync(bundlePath)) return null;
  try {
    execFileSync(
      'bash',
      [
        join(root, 'scripts/opa.sh'),
        'build',
        '-t',
        'wasm',
        '-e',
        'warden/decision',
        join(root, 'policies/rego'),
        '-o',
        bundlePath,
      ],
      { stdio: 'pipe', timeout: 300_000 },
    );
    return null;
  } catch (err) {
    return `could not build the policy bundle: ${(err as Error).message}`;
  }
}

const skip = ensureBundle();
let policy: LoadedPolicy;

before(async () => {
  await loadSqlParser();
  if (skip) return;
  const files = await readTarGz(await readFile(bundlePath));
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

describe('default policy on analyzer output (agent, production)', { skip: skip ?? false }, () => {
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
