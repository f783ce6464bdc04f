import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { copyFile, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { chromium } from 'playwright-core';
import { registerSessionsApi } from '../gateway/src/admin/api.js';
import { IdentityConfigSchema } from '../gateway/src/identity/config.js';
import { IdentityVerifier } from '../gateway/src/identity/verifier.js';
import { SessionRecordWriter } from '../gateway/src/recording/writer.js';
import { validator } from '../gateway/src/validation.js';
import { DROP, SELECT, sqlInput, statement } from './support/inputs.js';
import { startTestIdp } from './support/oidc-provider.js';

const ADMIN_TOKEN = 'admin-token-for-tests';
const validateIdentity = validator(IdentityConfigSchema);

/** A sealed record of a session with an allowed read, a denied DROP and a reviewed write. */
async function recordSession(root: string, key: string): Promise<string> {
  const sessionId = `sess-${Date.now()}`;
  const input = sqlInput([SELECT]);
  const writer = SessionRecordWriter.open({
    root,
    sessionId,
    identity: input.identity,
    target: { name: 'orders-db', protocol: 'postgres', labels: { environment: 'production' } },
    client: { address: '10.0.0.7', protocol: 'postgres', tls: true, user: 'agent' },
    gateway: { id: 'test-gateway' },
    revisions: ['abc123'],
  });
  const update = statement({
    verb: 'update',
    node: 'UpdateStmt',
    text: 'UPDATE orders SET status = 1 WHERE id = 4',
  });
  const steps = [
    { s: SELECT, action: 'allow' as const, reasons: [] },
    {
      s: DROP,
      action: 'deny' as const,
      reasons: [{ code: 'sql.drop', message: 'DROP statements are not allowed' }],
    },
    {
      s: update,
      action: 'review' as const,
      reasons: [{ code: 'sql.write_in_production', message: 'agents need an approved grant' }],
    },
  ];
  for (const [i, step] of steps.entries()) {
    const seq = writer.command(sqlInput([step.s]).command);
    writer.decision(seq, {
      id: `d${i}`,
      action: step.action,
      reasons: step.reasons,
      revision: 'abc123',
    });
    if (step.action === 'allow') writer.result(seq, { durationMs: 1.5, rows: 3 });
  }
  await writer.seal(key, { reason: 'client disconnected' });
  return sessionId;
}

describe('session records over the admin API, and the replay page in a real browser', () => {
  let dir: string;
  let app: FastifyInstance;
  let url: string;
  let sessionId: string;
  let recordPublicKey: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'warden-replay-'));
    const pair = generateKeyPairSync('ed25519');
    const privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    sessionId = await recordSession(join(dir, 'sessions'), privatePem);
    recordPublicKey = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    app = Fastify();
    registerSessionsApi(app, {
      recordsRoot: join(dir, 'sessions'),
      recordPublicKey,
      access: { token: ADMIN_TOKEN, groups: [], verifier: null },
    });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await app?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const get = (path: string, token: string | null = ADMIN_TOKEN) =>
    fetch(`${url}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

  test('records are for admins only', async () => {
    assert.equal((await get('/v1/sessions', null)).status, 401);
    assert.equal((await get('/v1/sessions', 'wrong-token')).status, 401);
    assert.equal((await get(`/v1/sessions/${sessionId}`, 'wrong')).status, 401);
  });

  test('search, one session, and its verification', async () => {
    const denied = (await (await get('/v1/sessions?decision=deny')).json()) as {
      id: string;
      denied: number;
    }[];
    assert.deepEqual(
      denied.map((s) => [s.id, s.denied]),
      [[sessionId, 1]],
    );
    assert.deepEqual(await (await get('/v1/sessions?target=elsewhere')).json(), []);
    const one = (await (await get(`/v1/sessions/${sessionId}`)).json()) as {
      events: { type: string }[];
    };
    assert.equal(one.events[0]!.type, 'session.start');
    const report = (await (await get(`/v1/sessions/${sessionId}/verify`)).json()) as {
      status: string;
    };
    assert.equal(report.status, 'sealed');
    assert.equal((await get('/v1/sessions/no-such-session')).status, 404);
  });

  test('an OIDC token of an admin group is accepted; other identities are refused', async () => {
    const idp = await startTestIdp();
    const oidcApp = Fastify();
    try {
      registerSessionsApi(oidcApp, {
        recordsRoot: join(dir, 'sessions'),
        recordPublicKey,
        access: {
          token: null,
          groups: ['auditors'],
          verifier: new IdentityVerifier(validateIdentity(idp.identityConfig(), 'identity')),
        },
      });
      const base = await oidcApp.listen({ host: '127.0.0.1', port: 0 });
      const as = async (token: string) =>
        (await fetch(`${base}/v1/sessions`, { headers: { authorization: `Bearer ${token}` } }))
          .status;
      assert.equal(await as(await idp.humanToken('alice', ['auditors'])), 200);
      assert.equal(await as(await idp.humanToken('bob', ['engineers'])), 403);
      assert.equal(await as(await idp.forge.wrongKey()), 401);
      assert.equal(await as(ADMIN_TOKEN), 401, 'no static admin token is configured here');
    } finally {
      await oidcApp.close();
      await idp.stop();
    }
  });

  test('the replay page shows the timeline with decisions and outcomes (headless Chromium)', async () => {
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 600 } });
      await page.goto(`${url}/replay/${sessionId}#token=${ADMIN_TOKEN}`);
      await page.getByText('DROP TABLE public.orders').waitFor();
      const rows = await page.locator('#timeline tr').allInnerTexts();
      assert.equal(rows.length, 3);
      assert.match(rows[0]!, /SELECT[\s\S]*allow[\s\S]*3 rows, 1.5 ms/);
      assert.match(
        rows[1]!,
        /DROP TABLE public\.orders[\s\S]*deny[\s\S]*sql\.drop: DROP statements are not allowed/,
      );
      assert.match(rows[2]!, /UPDATE[\s\S]*review/);
      assert.equal(await page.locator('#verification').innerText(), 'sealed');
      assert.match(
        await page.locator('#meta').innerText(),
        /svc-reporting \(agent, https:\/\/idp\.test\) on orders-db from 10\.0\.0\.7/,
      );
      const shot = join(dir, 'replay.png');
      await page.screenshot({ path: shot, fullPage: true });
      if (process.env.WARDEN_KEEP_SCREENSHOT)
        await copyFile(shot, process.env.WARDEN_KEEP_SCREENSHOT);
      const png = await stat(shot);
      assert.ok(png.size > 10_000, 'the screenshot has content');
      const denyColour = await page
        .locator('#timeline tr')
        .nth(1)
        .locator('.badge')
        .evaluate(
          (el) =>
            (
              globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }
            ).getComputedStyle(el).backgroundColor,
        );
      assert.equal(denyColour, 'rgb(255, 235, 233)', 'a denial is marked in red');

      const anonymous = await browser.newPage();
      await anonymous.goto(`${url}/replay/${sessionId}`);
      await anonymous.getByText(/Cannot load the session: .*401/).waitFor();
    } finally {
      await browser.close();
    }
  });
});
