import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sign } from '@octokit/webhooks-methods';
import pino from 'pino';
import { BundleServer, LONG_POLL_CONTENT_TYPE } from '../bundle-builder/src/server.js';
import { BundleWatch } from '../bundle-builder/src/watch.js';
import { readTarGz } from '../gateway/src/policy/bundle-files.js';
import { BundleWatcher } from '../gateway/src/policy/bundle-source.js';
import { testEngine } from './support/engine.js';
import { type KeyFiles, rsaKeyFiles } from './support/keys.js';
import { PolicyRepo } from './support/policy-repo.js';

const quiet = pino({ level: 'silent' });

async function until(check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const revisionOf = async (bytes: Buffer) =>
  JSON.parse((await readTarGz(bytes)).get('.manifest')!.toString()).revision as string;

describe('bundle server (OPA bundle protocol) and watch mode', () => {
  let repo: PolicyRepo;
  let dir: string;
  let key: KeyFiles;
  let server: BundleServer;
  let url: string;
  let watch: BundleWatch;
  const secret = 'webhook-test-secret';

  before(async () => {
    repo = await PolicyRepo.create();
    dir = await mkdtemp(join(tmpdir(), 'warden-serve-'));
    key = await rsaKeyFiles(dir, 'signing');
    server = new BundleServer({
      dir,
      logger: quiet,
      webhook: { secret, onPush: (ref) => ref === 'main' && void watch.check() },
    });
    watch = new BundleWatch({
      repo: repo.dir,
      ref: 'main',
      name: 'default',
      dir,
      pollSeconds: 3600, // only the webhook triggers rebuilds in this test
      signingKey: key.privateKey,
      logger: quiet,
      publish: (name, bytes) => server.publish(name, bytes),
    });
    await watch.start();
    url = await server.app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await watch.stop();
    await server.app.close();
    await repo.remove();
    await rm(dir, { recursive: true, force: true });
  });

  test('serves the bundle with a strong ETag and answers 304 when unchanged', async () => {
    const first = await fetch(`${url}/bundles/default`);
    assert.equal(first.status, 200);
    const etag = first.headers.get('etag')!;
    assert.match(etag, /^"[0-9a-f]{64}"$/);
    assert.equal(
      await revisionOf(Buffer.from(await first.arrayBuffer())),
      (await repo.git.revparse(['HEAD'])).trim(),
    );
    const again = await fetch(`${url}/bundles/default`, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    assert.equal((await fetch(`${url}/bundles/nope`)).status, 404);
  });

  test('long polling: an unchanged bundle is answered 304 after the wait, with the long-poll content type', async () => {
    const etag = (await fetch(`${url}/bundles/default`)).headers.get('etag')!;
    const started = Date.now();
    const res = await fetch(`${url}/bundles/default`, {
      headers: { 'if-none-match': etag, prefer: 'wait=1' },
    });
    assert.equal(res.status, 304);
    assert.ok(Date.now() - started >= 900, 'the server held the request');
    assert.equal(res.headers.get('content-type'), LONG_POLL_CONTENT_TYPE);
  });

  test('a forged push webhook is refused and triggers nothing', async () => {
    const body = JSON.stringify({ ref: 'refs/heads/main' });
    const res = await fetch(`${url}/webhooks/github`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'push',
        'x-hub-signature-256': await sign('wrong-secret', body),
      },
      body,
    });
    assert.equal(res.status, 401);
  });

  test('a signed push webhook rebuilds the bundle; long-polling clients and the gateway get the new revision', async () => {
    const { engine } = testEngine({ key: key.publicPem, algorithm: 'RS256', scope: '' });
    const watcher = new BundleWatcher(
      engine,
      {
        kind: 'http',
        url: `${url}/bundles/default`,
        pollSeconds: 1,
        longPollSeconds: 30,
        headers: {},
      },
      quiet,
    );
    await watcher.start();
    try {
      const before = engine.revision;
      assert.equal(before, (await repo.git.revparse(['HEAD'])).trim());

      const first = await fetch(`${url}/bundles/default`);
      const etag = first.headers.get('etag')!;
      const waiting = fetch(`${url}/bundles/default`, {
        headers: { 'if-none-match': etag, prefer: 'wait=60' },
      });

      await repo.write(
        'policies/rego/zz_note.rego',
        'package warden.note\n\nnote := "second revision"\n',
      );
      const sha = await repo.commit('Second revision');
      const body = JSON.stringify({ ref: 'refs/heads/main', after: sha });
      const hook = await fetch(`${url}/webhooks/github`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'push',
          'x-hub-signature-256': await sign(secret, body),
        },
        body,
      });
      assert.equal(hook.status, 202);

      const woke = await waiting;
      assert.equal(woke.status, 200);
      assert.notEqual(woke.headers.get('etag'), etag);
      assert.equal(await revisionOf(Buffer.from(await woke.arrayBuffer())), sha);
      await until(() => engine.revision === sha);
      assert.equal((await readFile(join(dir, 'default.tar.gz'))).length > 0, true);
    } finally {
      await watcher.stop();
    }
  });
});
