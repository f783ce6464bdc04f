import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CompactSign } from 'jose';
import { buildBundle } from '../bundle-builder/src/build.js';
import { type BundleFiles, readTarGz } from '../gateway/src/policy/bundle-files.js';
import {
  hashBundleFile,
  type VerificationKey,
  verifyBundleSignature,
} from '../gateway/src/policy/bundle-signature.js';
import { testEngine } from './support/engine.js';
import { SELECT, sqlInput } from './support/inputs.js';
import { rsaKeyFiles } from './support/keys.js';
import { PolicyRepo } from './support/policy-repo.js';

describe('signed bundles (signed by the real OPA CLI, verified by the gateway)', () => {
  let work: string;
  let signed: BundleFiles;
  let verification: VerificationKey;
  let otherKey: VerificationKey;

  before(async () => {
    const repo = await PolicyRepo.create();
    work = await mkdtemp(join(tmpdir(), 'warden-sig-'));
    const key = await rsaKeyFiles(work, 'signing');
    const other = await rsaKeyFiles(work, 'other');
    verification = { key: key.publicPem, algorithm: 'RS256', scope: '' };
    otherKey = { key: other.publicPem, algorithm: 'RS256', scope: '' };
    const result = await buildBundle({
      repo: repo.dir,
      ref: 'main',
      out: join(work, 'b.tar.gz'),
      signingKey: key.privateKey,
    });
    signed = await readTarGz(await readFile(result.out));
    await repo.remove();
  });
  after(() => rm(work, { recursive: true, force: true }));

  const copy = () => new Map(signed);
  const rejects = (files: BundleFiles, pattern: RegExp, key = verification) =>
    assert.rejects(verifyBundleSignature(files, key), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'bundle.signature');
      assert.match(err.message, pattern);
      return true;
    });

  test('a bundle signed by opa build verifies', async () => {
    await verifyBundleSignature(signed, verification);
  });

  test('JSON files hash like OPA does: reformatting data.json keeps the signature valid', async () => {
    const files = copy();
    files.set(
      'data.json',
      Buffer.from(JSON.stringify(JSON.parse(files.get('data.json')!.toString()), null, 4)),
    );
    await verifyBundleSignature(files, verification);
  });

  test('a changed data file is rejected', async () => {
    const files = copy();
    const data = JSON.parse(files.get('data.json')!.toString());
    data.warden.masking.rules = [];
    files.set('data.json', Buffer.from(JSON.stringify(data)));
    await rejects(files, /data\.json does not match its signed digest/);
  });

  test('one flipped byte of policy.wasm is rejected', async () => {
    const files = copy();
    const wasm = Buffer.from(files.get('policy.wasm')!);
    wasm[wasm.length - 10]! ^= 0xff;
    files.set('policy.wasm', wasm);
    await rejects(files, /policy\.wasm does not match/);
  });

  test('an added file, a removed file and a missing signature are each rejected', async () => {
    const added = copy();
    added.set('extra.rego', Buffer.from('package warden.extra\n'));
    await rejects(added, /extra\.rego is not covered/);
    const removed = copy();
    removed.delete('data.json');
    await rejects(removed, /missing from the bundle: data\.json/);
    const unsigned = copy();
    unsigned.delete('.signatures.json');
    await rejects(unsigned, /not signed/);
  });

  test('a signature by another key is rejected', async () => {
    await rejects(signed, /does not verify/, otherKey);
  });

  test('algorithm confusion: an HS256 token keyed with the public key is rejected', async () => {
    const files = copy();
    const list = [...files.keys()]
      .filter((n) => n !== '.signatures.json')
      .map((name) => ({
        name,
        hash: hashBundleFile(name, files.get(name)!),
        algorithm: 'SHA-256',
      }));
    const forged = await new CompactSign(new TextEncoder().encode(JSON.stringify({ files: list })))
      .setProtectedHeader({ alg: 'HS256', kid: 'default' })
      .sign(new TextEncoder().encode(verification.key));
    files.set('.signatures.json', Buffer.from(JSON.stringify({ signatures: [forged] })));
    await rejects(files, /does not verify/);
  });

  test('the engine keeps the last good revision when a bad bundle arrives, and says why', async () => {
    const { engine } = testEngine(verification);
    const good = await engine.activate(signed, 'good');
    const files = copy();
    files.set('data.json', Buffer.from('{"warden":{}}'));
    await assert.rejects(engine.activate(files, 'tampered'), /does not match its signed digest/);
    assert.equal(engine.revision, good);
    assert.match(engine.status().lastError!.message, /data\.json does not match/);
    assert.equal(engine.decide(sqlInput([SELECT], { kind: 'human' })).action, 'allow');
  });

  test('with no valid bundle, every decision is a deny', async () => {
    const { engine, decisions } = testEngine(verification);
    const unsigned = copy();
    unsigned.delete('.signatures.json');
    await assert.rejects(engine.activate(unsigned, 'unsigned'));
    const d = engine.decide(sqlInput([SELECT], { kind: 'human' }));
    assert.equal(d.action, 'deny');
    assert.equal(d.revision, null);
    assert.deepEqual(
      d.reasons.map((r) => r.code),
      ['policy.unavailable'],
    );
    assert.equal(decisions().length, 1, 'the deny is logged too');
  });

  test('the signed digests are SHA-256 of the file content', () => {
    const wasm = signed.get('policy.wasm')!;
    assert.equal(
      hashBundleFile('policy.wasm', wasm),
      createHash('sha256').update(wasm).digest('hex'),
    );
  });
});
