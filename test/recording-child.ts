/**
 * A stand-in gateway for the crash test: records a session's events as fast
 * as it can and prints the seq of each acknowledged (returned) append, in
 * batches, until its parent kills it. Arguments: <root> <session-id>.
 */
import type { Command } from '../gateway/src/policy/input.js';
import { SessionRecordWriter } from '../gateway/src/recording/writer.js';

const [root, sessionId] = process.argv.slice(2);
if (!root || !sessionId) throw new Error('usage: recording-child <root> <session-id>');

const writer = SessionRecordWriter.open({
  root,
  sessionId,
  identity: { subject: 'svc-crash', groups: ['agents'], kind: 'agent', issuer: 'https://idp.test' },
  target: { name: 'orders-db', protocol: 'postgres', labels: {} },
  client: { address: '127.0.0.1', protocol: 'postgres', tls: true, user: 'ci' },
  gateway: { id: 'gw-crash' },
  revisions: ['rev-1'],
});
const terminal = writer.openStream('terminal', 'asciicast-v2', 'cast');
terminal.write('{"version":2,"width":80,"height":24}\n');

let n = 0;
function batch(): void {
  let acked = -1;
  for (let i = 0; i < 50; i++) {
    const command: Command = {
      raw: `SELECT * FROM public.orders WHERE id = $1 /* ${n++} */`,
      fingerprint: 'fp-select',
      actions: ['select'],
      objects: ['public.orders'],
    };
    const seq = writer.command(command);
    writer.decision(seq, { id: `d-${seq}`, action: 'allow', reasons: [], revision: 'rev-1' });
    terminal.write(`[${n / 10},"o","row ${n}\\r\\n"]\n`);
    if (n % 7 === 0) terminal.checkpoint();
    acked = writer.result(seq, { durationMs: 0.4, rows: 1 });
  }
  process.stdout.write(`${acked}\n`);
  setImmediate(batch);
}
batch();
