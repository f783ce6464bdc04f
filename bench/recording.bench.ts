/**
 * µs per session-record event (canonical JSON, hash chain, writeSync), beside
 * a bare writeSync of lines of the same length, in the same run.
 *   node --import tsx bench/recording.bench.ts
 */
import { generateKeyPairSync } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SessionRecordWriter } from '../gateway/src/recording/writer.js';
import { sqlInput, statement } from '../test/support/inputs.js';

const PAIRS = 10_000;
const dir = mkdtempSync(join(tmpdir(), 'warden-record-bench-'));
try {
  const input = sqlInput([
    statement({
      verb: 'update',
      node: 'UpdateStmt',
      text: 'UPDATE orders SET status = 2 WHERE id = 7',
    }),
  ]);
  const w = SessionRecordWriter.open({
    root: dir,
    sessionId: 'bench',
    identity: input.identity,
    target: { name: 'orders-db', protocol: 'postgres', labels: {} },
    client: { address: '127.0.0.1', protocol: 'postgres', tls: true, user: 'agent' },
    gateway: { id: 'bench' },
    revisions: ['abc'],
  });
  for (let i = 0; i < 1000; i++) w.command(input.command);
  let start = process.hrtime.bigint();
  for (let i = 0; i < PAIRS; i++) {
    const seq = w.command(input.command);
    w.decision(seq, { id: `d-${i}`, action: 'allow', reasons: [], revision: 'abc' });
  }
  const recorded = Number(process.hrtime.bigint() - start) / 1000 / (2 * PAIRS);
  await w.seal(generateKeyPairSync('ed25519').privateKey);

  const line = `${'x'.repeat(600)}\n`;
  const fd = openSync(join(dir, 'bare.log'), 'a');
  start = process.hrtime.bigint();
  for (let i = 0; i < 2 * PAIRS; i++) writeSync(fd, line);
  const bare = Number(process.hrtime.bigint() - start) / 1000 / (2 * PAIRS);
  closeSync(fd);
  console.log(
    `session record: ${recorded.toFixed(1)} µs per event (${2 * PAIRS} command and decision events); ` +
      `baseline: bare writeSync of a 600-byte line ${bare.toFixed(1)} µs`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
