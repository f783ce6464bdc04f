import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildBundle } from '../bundle-builder/src/build.js';
import { WardenError } from '../gateway/src/errors.js';
import { readTarGz } from '../gateway/src/policy/bundle-files.js';
import type { VerificationKey } from '../gateway/src/policy/bundle-signature.js';
import { testEngine } from './support/engine.js';
import { DROP, SELECT, sqlInput } from './support/inputs.js';
import { type KeyFiles, rsaKeyFiles } from './support/keys.js';
import { PolicyRepo } from './support/policy-repo.js';

describe('bundle builder and policy engine, from a real Git repository', () => {
  let repo: PolicyRepo;
  let work: string;
  let key: KeyFiles;
  let verification: VerificationKey;

  before(async () => {
    repo = await PolicyRepo.create();
    work = await mkdtemp(join(tmpdir(), 'warden-bundles-'));
    key = await rsaKeyFiles(work, 'signing');
    verification = { key: key.publicPem, algorithm: 'RS256', scope: '' };
  });
  after(async () => {
    await repo.remove();
    await rm(work, { recursive: true, force: true });
  });

  const build = (ref: string, out: string) =>
    buildBundle({ repo: repo.dir, ref, out: join(work, out), signingKey: key.privateKey });

  test('builds a signed WebAssembly bundle stamped with the commit, carrying the masking rules as data', async () => {
    const sha = (await repo.git.revparse(['HEAD'])).trim();
    const result = await build('main', 'main.tar.gz');
    assert.equal(result.revision, sha);
    const files = await readTarGz(await readFile(result.out));
    const manifest = JSON.parse(files.get('.manifest')!.toString());
    assert.equal(manifest.revision, sha);
    assert.deepEqual(manifest.wasm, [{ entrypoint: 'warden/decision', module: '/policy.wasm' }]);
    assert.equal(manifest.metadata.commit.subject, 'Initial policy');
    assert.match(manifest.metadata.commit.author, /Security Engineer <sec@example.com>/);
    const data = JSON.parse(files.get('data.json')!.toString());
    assert.ok(data.warden.masking.rules.some((r: { id: string }) => r.id === 'pii.email'));
    assert.ok(files.has('.signatures.json'));
    assert.ok(
      ![...files.keys()].some((n) => n.endsWith('_test.rego')),
      'tests are not shipped in the bundle',
    );
  });

  test('builds at a tag and at a commit SHA as well as a branch', async () => {
    const sha = await repo.commit('Empty change');
    await repo.git.addTag('v1');
    assert.equal((await build('v1', 'tag.tar.gz')).revision, sha);
    assert.equal((await build(sha, 'sha.tar.gz')).revision, sha);
    await assert.rejects(build('no-such-branch', 'x.tar.gz'), /ref no-such-branch not found/);
  });

  test('decisions carry the revision that made them and are logged in OPA decision-log shape', async () => {
    const result = await build('main', 'decide.tar.gz');
    const { engine, decisions } = testEngine(verification);
    await engine.activate(await readTarGz(await readFile(result.out)), 'test');
    const denied = engine.decide(sqlInput([DROP]));
    assert.equal(denied.action, 'deny');
    assert.equal(denied.revision, result.revision);
    assert.ok(denied.reasons.some((r) => r.code === 'sql.drop'));
    const allowed = engine.decide(sqlInput([SELECT]));
    assert.equal(allowed.action, 'allow');
    const [first] = decisions();
    assert.equal(first!.decision_id, denied.id);
    assert.equal(first!.path, 'warden/decision');
    assert.deepEqual(first!.bundles, { warden: { revision: result.revision } });
    assert.equal((first!.result as { action: string }).action, 'deny');
    assert.ok(
      typeof (first!.metrics as Record<string, number>).timer_rego_query_eval_ns === 'number',
    );
  });

  test('a new commit yields a new revision, and the engine swaps to it while evaluations continue', async () => {
    const first = await build('main', 'rev1.tar.gz');
    const { engine } = testEngine(verification);
    await engine.activate(await readTarGz(await readFile(first.out)), 'rev1');

    // Any new commit gets its own revision, even one that only adds a module.
    await repo.write(
      'policies/rego/zz_extra.rego',
      'package warden.extra\n\nblocked_tables := {"public.orders"}\n',
    );
    const second = await build(await repo.commit('Add extra data'), 'rev2.tar.gz');
    assert.notEqual(second.revision, first.revision);

    const seen: (string | null)[] = [];
    let stop = false;
    const evaluating = (async () => {
      while (!stop) {
        const d = engine.decide(sqlInput([SELECT], { kind: 'human' }));
        assert.equal(
          d.action,
          'allow',
          `evaluation failed during the swap: ${JSON.stringify(d.reasons)}`,
        );
        seen.push(d.revision);
        await new Promise((r) => setImmediate(r));
      }
    })();
    await new Promise((r) => setTimeout(r, 20));
    await engine.activate(await readTarGz(await readFile(second.out)), 'rev2');
    await new Promise((r) => setTimeout(r, 20));
    stop = true;
    await evaluating;

    assert.equal(engine.revision, second.revision);
    const firstSecond = seen.indexOf(second.revision);
    assert.ok(
      seen.indexOf(first.revision) === 0 && firstSecond > 0,
      'saw the old revision, then the new one',
    );
    assert.ok(
      seen.slice(firstSecond).every((r) => r === second.revision),
      'never went back to the old revision',
    );
  });

  test('a failing policy test stops the build and shows the failure', async () => {
    await repo.write(
      'policies/tests/zz_failing_test.rego',
      'package warden.zz_failing_test\n\nimport data.warden\n\ntest_drop_is_allowed if {\n\twarden.decision.action == "allow" with input as {}\n}\n',
    );
    const sha = await repo.commit('A test that fails');
    const out = join(work, 'failing.tar.gz');
    await assert.rejects(buildBundle({ repo: repo.dir, ref: sha, out }), (err: unknown) => {
      assert.ok(err instanceof WardenError && err.code === 'bundle.build');
      assert.match(err.message, /opa test failed; no bundle was built/);
      assert.match(err.message, /test_drop_is_allowed/);
      return true;
    });
    assert.equal(await stat(out).catch(() => null), null, 'no bundle written');
    await repo.git.rm(['policies/tests/zz_failing_test.rego']);
    await repo.commit('Remove failing test');
  });

  test('unformatted Rego stops the build', async () => {
    await repo.write('policies/rego/zz_ugly.rego', 'package warden.ugly\nx:=1\n');
    const sha = await repo.commit('Unformatted rego');
    await assert.rejects(
      buildBundle({ repo: repo.dir, ref: sha, out: join(work, 'ugly.tar.gz') }),
      /opa fmt failed[\s\S]*zz_ugly.rego/,
    );
    await repo.git.rm(['policies/rego/zz_ugly.rego']);
    await repo.commit('Remove unformatted rego');
  });

  test('an invalid masking rule file stops the build, naming the file and the problem', async () => {
    await repo.write(
      'masking-rules/broken.yaml',
      'version: 1\nrules:\n  - id: pii.name\n    category: pii\n    columns: [name]\n    masker: { type: blur }\n',
    );
    const sha = await repo.commit('Broken masking rule');
    await assert.rejects(
      buildBundle({ repo: repo.dir, ref: sha, out: join(work, 'broken.tar.gz') }),
      /masking-rules\/broken\.yaml: rules\[0\]\.masker\.type: expected one of .*"keep_last".*got "blur"/,
    );
    await repo.git.rm(['masking-rules/broken.yaml']);
    await repo.commit('Remove broken rule');
  });
});
