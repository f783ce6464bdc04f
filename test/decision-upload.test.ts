import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import { DecisionLog } from '../gateway/src/policy/decision-log.js';
import { DecisionUploader } from '../gateway/src/policy/decision-upload.js';

describe('decision logs uploaded to a collector (OPA decision-log API)', () => {
  let collector: FastifyInstance;
  let url: string;
  const received: { decision_id: string }[][] = [];
  let failNext = 0;
  let authorization: string | undefined;

  before(async () => {
    collector = Fastify();
    collector.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
      try {
        const text =
          req.headers['content-encoding'] === 'gzip'
            ? gunzipSync(body as Buffer).toString()
            : String(body);
        done(null, JSON.parse(text));
      } catch (err) {
        done(err as Error);
      }
    });
    collector.post('/logs', async (req, reply) => {
      authorization = req.headers.authorization;
      if (failNext > 0) {
        failNext--;
        return reply.code(503).send();
      }
      received.push(req.body as { decision_id: string }[]);
      return reply.code(204).send();
    });
    url = `${await collector.listen({ host: '127.0.0.1', port: 0 })}/logs`;
  });
  after(() => collector.close());

  const event = (id: string) => ({
    decision_id: id,
    path: 'warden/decision',
    inputJson: '{"command":{"raw":"SELECT 1"}}',
    resultJson: '{"action":"allow"}',
    revision: 'abc123',
    timestamp: new Date().toISOString(),
    evalNs: 1000,
  });

  test('events arrive in order, once, after the collector recovers from failures', async () => {
    failNext = 2;
    const upload = new DecisionUploader({
      url,
      headers: { authorization: 'Bearer collector-token' },
      intervalMs: 50,
      maxBuffered: 1000,
      logger: pino({ level: 'silent' }),
    });
    const log = new DecisionLog({ destination: 'off', erase: [], labels: { id: 'test' }, upload });
    for (const id of ['d1', 'd2', 'd3']) log.write(event(id));
    const deadline = Date.now() + 10_000;
    while (received.flat().length < 3 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    log.write(event('d4'));
    await log.close();
    const ids = received.flat().map((e) => e.decision_id);
    assert.deepEqual(ids, ['d1', 'd2', 'd3', 'd4']);
    assert.equal(failNext, 0, 'the failures happened and were retried');
    assert.equal(authorization, 'Bearer collector-token');
    const first = received[0]![0] as unknown as {
      bundles: unknown;
      input: unknown;
      result: unknown;
    };
    assert.deepEqual(first.bundles, { warden: { revision: 'abc123' } });
    assert.deepEqual(first.result, { action: 'allow' });
  });

  test('a collector that stays down costs a bounded buffer; the oldest events go first', async () => {
    const upload = new DecisionUploader({
      url: 'http://127.0.0.1:9/logs',
      headers: {},
      intervalMs: 3_600_000,
      maxBuffered: 100,
      logger: pino({ level: 'silent' }),
    });
    for (let i = 0; i < 250; i++) upload.add(`{"decision_id":"x${i}"}`);
    assert.equal(upload.pending, 100);
    assert.equal(await upload.flush(), false);
    assert.equal(upload.pending, 100, 'nothing lost by a failed attempt');
  });
});
