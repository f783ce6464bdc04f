import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import {
  appendFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Command as Program } from 'commander';
import fc from 'fast-check';
import { PROJECT_ROOT } from '../gateway/src/paths.js';
import type { Command } from '../gateway/src/policy/input.js';
import { TerminalRecorder } from '../gateway/src/recording/asciicast.js';
import { canonicalJson } from '../gateway/src/recording/canonical.js';
import { encodeEvent, genesis, sha256Hex } from '../gateway/src/recording/chain.js';
import { exitStatus, registerSessionsCommands } from '../gateway/src/recording/cli.js';
import type {
  ClientRecord,
  CommandData,
  IdentityRecord,
  TargetRecord,
} from '../gateway/src/recording/events.js';
import {
  type ProblemKind,
  type VerifyReport,
  verifyRecord,
} from '../gateway/src/recording/verify.js';
import { type SessionRecordOptions, SessionRecordWriter } from '../gateway/src/recording/writer.js';

const pem = (
  k: { export(o: { type: 'pkcs8' | 'spki'; format: 'pem' }): string | Buffer },
  type: 'pkcs8' | 'spki',
) => k.export({ type, format: 'pem' }).toString();
const ed = generateKeyPairSync('ed25519');
const KEY = { private: pem(ed.privateKey, 'pkcs8'), public: pem(ed.publicKey, 'spki') };
const other = generateKeyPairSync('ed25519');
const OTHER = { private: pem(other.privateKey, 'pkcs8'), public: pem(other.publicKey, 'spki') };

const UPDATE: Command = {
  raw: 'UPDATE public.orders SET status = $1 WHERE id = $2',
  fingerprint: 'fp-update-orders',
  actions: ['update'],
  objects: ['public.orders'],
  sql: {
    dialect: 'postgres',
    statements: [
      {
        index: 0,
        node: 'UpdateStmt',
        verb: 'update',
        object_type: null,
        category: 'write',
        writes: true,
        dml: [{ verb: 'update', table: 'public.orders', has_where: true }],
        tables: [{ schema: 'public', name: 'orders', qualified: 'public.orders', access: 'write' }],
        functions: [],
        settings: [],
        fingerprint: 'fp-update-orders',
        text: 'UPDATE public.orders SET status = $1 WHERE id = $2',
      },
    ],
  },
};

let root: string;
let counter = 0;

function options(over: Partial<SessionRecordOptions> = {}): SessionRecordOptions {
  return {
    root,
    sessionId: `sess-${++counter}-${process.pid}`,
    identity: {
      subject: 'svc-reporting',
      groups: ['agents'],
      kind: 'agent',
      issuer: 'https://idp.test',
    },
    target: { name: 'orders-db', protocol: 'postgres', labels: { environment: 'production' } },
    client: { address: '10.0.0.7', protocol: 'postgres', tls: true, user: 'ci' },
    gateway: { id: 'gw-test', version: '0.1.0' },
    revisions: ['abc123'],
    ...over,
  };
}

type Kind = 'allow' | 'deny' | 'review';

/** A session with one command decided `kind` (plus a masked SELECT), sealed unless told not to. */
async function record(kind: Kind, seal = true, terminal = false): Promise<SessionRecordWriter> {
  const w = SessionRecordWriter.open(options());
  const term = terminal ? new TerminalRecorder(w, { width: 80, height: 24 }) : null;
  term?.output('$ psql\r\n');
  const sel = w.command({
    ...UPDATE,
    raw: 'SELECT name, email FROM customers',
    actions: ['select'],
    sql: undefined,
  });
  w.decision(sel, {
    id: 'd-1',
    action: 'allow',
    reasons: [],
    revision: 'abc123',
    maskRules: ['pii.email'],
  });
  w.result(sel, { durationMs: 1.25, rows: 3 });
  w.masking(sel, {
    rules: ['pii.email'],
    columns: [{ column: 'email', rule: 'pii.email', count: 3 }],
  });
  term?.checkpoint();
  const seq = w.command(UPDATE);
  if (kind === 'allow') {
    w.decision(seq, {
      id: 'd-2',
      action: 'allow',
      reasons: [],
      revision: 'abc123',
      grantsUsed: ['req-42'],
    });
    w.result(seq, { durationMs: 3.5, rows: null, affected: 1 });
  } else if (kind === 'deny') {
    w.decision(seq, {
      id: 'd-2',
      action: 'deny',
      reasons: [{ code: 'sql.drop', message: 'DROP statements are not allowed', statement: 0 }],
      revision: 'abc123',
    });
  } else {
    w.decision(seq, {
      id: 'd-2',
      action: 'review',
      reasons: [
        { code: 'sql.write_in_production', message: 'agents need an approved grant', statement: 0 },
      ],
      revision: 'abc123',
      reviewScope: { kind: 'statement', verbs: ['update'], tables: ['public.orders'] },
    });
  }
  term?.output('UPDATE 1\r\n');
  if (seal) await w.seal(KEY.private, { reason: 'client closed' });
  return w;
}

const kinds = (r: VerifyReport) => r.problems.map((p) => p.kind);
function assertProblem(r: VerifyReport, kind: ProblemKind, file?: string, line?: number) {
  assert.equal(r.status, 'tampered', JSON.stringify(r.problems));
  const hit = r.problems.find(
    (p) =>
      p.kind === kind &&
      (file === undefined || p.file === file) &&
      (line === undefined || p.line === line),
  );
  assert.ok(
    hit,
    `expected ${kind} ${file ?? ''} ${line ?? ''} in ${JSON.stringify(r.problems, null, 1)}`,
  );
}
const lines = (dir: string) =>
  readFileSync(join(dir, 'events.jsonl'), 'utf8').split('\n').slice(0, -1);
const writeLines = (dir: string, ls: string[]) =>
  writeFileSync(join(dir, 'events.jsonl'), `${ls.join('\n')}\n`);

describe('session records', () => {
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'warden-rec-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  for (const kind of ['allow', 'deny', 'review'] as const) {
    test(`a ${kind} session verifies as sealed`, async () => {
      const w = await record(kind);
      const r = await verifyRecord(w.dir, KEY.public);
      assert.deepEqual(r.problems, []);
      assert.equal(r.status, 'sealed');
      assert.equal(r.ended, true);
      assert.equal(r.events, w.eventCount);
      assert.equal(r.lastHash, w.lastHash);
      const decisions = lines(w.dir)
        .map((l) => JSON.parse(l))
        .filter((e) => e.type === 'decision');
      assert.equal(decisions[1].data.action, kind);
    });
  }

  test('layout, modes, canonical lines and the chain as documented', async () => {
    const w = await record('allow');
    assert.match(w.dir, /\/\d{4}-\d{2}-\d{2}\/sess-[^/]+$/);
    assert.equal(statSync(w.dir).mode & 0o777, 0o700);
    assert.equal(statSync(join(w.dir, 'events.jsonl')).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(w.dir).sort(), ['events.jsonl', 'manifest.json', 'manifest.jws']);
    let prev = genesis(w.sessionId);
    for (const [i, l] of lines(w.dir).entries()) {
      const e = JSON.parse(l);
      assert.equal(canonicalJson(e), l);
      assert.equal(e.seq, i);
      assert.equal(e.prev, prev);
      const { hash, ...rest } = e;
      assert.equal(hash, sha256Hex(prev + canonicalJson(rest)));
      prev = hash;
    }
    const manifest = JSON.parse(readFileSync(join(w.dir, 'manifest.json'), 'utf8'));
    assert.equal(manifest.last_hash, prev);
    assert.equal(manifest.files[0].sha256, sha256Hex(readFileSync(join(w.dir, 'events.jsonl'))));
    const end = JSON.parse(lines(w.dir).at(-1)!);
    assert.equal(end.type, 'session.end');
    assert.deepEqual(end.data.counts, {
      commands: 2,
      allowed: 2,
      denied: 0,
      review: 0,
      errors: 0,
      masked_values: 3,
    });
  });

  test('canonical JSON: strings as JSON.stringify writes them, keys sorted, stable', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (str) => {
        assert.equal(canonicalJson(str), JSON.stringify(str));
      }),
    );
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const c = canonicalJson(v);
        assert.deepEqual(JSON.parse(c), JSON.parse(JSON.stringify(v)));
        assert.equal(canonicalJson(JSON.parse(c)), c);
      }),
    );
    assert.equal(
      canonicalJson({ b: 1, a: [true, null], é: 'x', A: undefined }),
      '{"a":[true,null],"b":1,"é":"x"}',
    );
    assert.throws(() => canonicalJson('\uD800'));
    assert.throws(() => canonicalJson(Number.NaN));
  });

  test('an ES256 (P-256) key seals and verifies too', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const w = SessionRecordWriter.open(options());
    w.command(UPDATE);
    await w.seal(pem(ec.privateKey, 'pkcs8'));
    const r = await verifyRecord(w.dir, pem(ec.publicKey, 'spki'));
    assert.equal(r.status, 'sealed', JSON.stringify(r.problems));
  });

  test('a terminal stream is chained, sealed, and its tampering caught', async () => {
    const w = await record('allow', true, true);
    assert.deepEqual(readdirSync(w.dir).sort(), [
      'events.jsonl',
      'manifest.json',
      'manifest.jws',
      'terminal.cast',
    ]);
    const cast = readFileSync(join(w.dir, 'terminal.cast'), 'utf8').split('\n');
    assert.equal(JSON.parse(cast[0]!).version, 2);
    assert.deepEqual(JSON.parse(cast[1]!).slice(1), ['o', '$ psql\r\n']);
    assert.equal((await verifyRecord(w.dir, KEY.public)).status, 'sealed');
    const castPath = join(w.dir, 'terminal.cast');
    writeFileSync(castPath, readFileSync(castPath, 'utf8').replace('psql', 'bash'));
    const r = await verifyRecord(w.dir, KEY.public);
    assertProblem(r, 'file_changed', 'terminal.cast');
    unlinkSync(castPath);
    assertProblem(await verifyRecord(w.dir, KEY.public), 'file_missing', 'terminal.cast');
  });

  describe('tampering is caught and named', () => {
    test('one changed byte in a line', async () => {
      const w = await record('deny');
      const ls = lines(w.dir);
      ls[3] = ls[3]!.replace('"rows":3', '"rows":4');
      writeLines(w.dir, ls);
      const r = await verifyRecord(w.dir, KEY.public);
      assertProblem(r, 'line_changed', 'events.jsonl', 4);
      assertProblem(r, 'file_changed', 'events.jsonl');
      // Only that line is blamed in the chain: the next line still links to its stored hash.
      assert.equal(r.problems.filter((p) => p.kind === 'chain_broken').length, 0);
    });

    test('a byte changed without changing the JSON value (not canonical any more)', async () => {
      const w = await record('allow');
      const ls = lines(w.dir);
      ls[2] = ls[2]!.replace('{"data":', '{ "data":');
      writeLines(w.dir, ls);
      assertProblem(await verifyRecord(w.dir, KEY.public), 'line_changed', 'events.jsonl', 3);
    });

    test('a deleted line', async () => {
      const w = await record('review');
      const ls = lines(w.dir);
      ls.splice(2, 1);
      writeLines(w.dir, ls);
      const r = await verifyRecord(w.dir, KEY.public);
      assertProblem(r, 'line_removed', 'events.jsonl', 3);
      assert.match(r.problems.find((p) => p.kind === 'line_removed')!.message, /seq 2 missing/);
    });

    test('a deleted last line (session.end)', async () => {
      const w = await record('allow');
      writeLines(w.dir, lines(w.dir).slice(0, -1));
      const r = await verifyRecord(w.dir, KEY.public);
      assertProblem(r, 'line_removed', 'events.jsonl');
      assertProblem(r, 'file_changed', 'events.jsonl');
    });

    test('two swapped lines', async () => {
      const w = await record('allow');
      const ls = lines(w.dir);
      [ls[2], ls[3]] = [ls[3]!, ls[2]!];
      writeLines(w.dir, ls);
      const r = await verifyRecord(w.dir, KEY.public);
      assertProblem(r, 'line_reordered', 'events.jsonl', 4);
      assert.ok(!kinds(r).includes('line_changed'));
    });

    test('a forged but well-chained line appended after sealing', async () => {
      const w = await record('deny');
      const forged = encodeEvent(
        w.eventCount,
        new Date().toISOString(),
        'command',
        {
          raw: 'SELECT 1',
          fingerprint: 'x',
          actions: ['select'],
          objects: [],
          protocol: 'sql',
        },
        w.lastHash,
      );
      appendFileSync(join(w.dir, 'events.jsonl'), forged.line);
      const r = await verifyRecord(w.dir, KEY.public);
      assertProblem(r, 'appended_after_seal', 'events.jsonl', w.eventCount + 1);
      assert.ok(!kinds(r).includes('chain_broken'));
    });

    test('bytes appended after sealing', async () => {
      const w = await record('allow');
      appendFileSync(join(w.dir, 'events.jsonl'), 'junk');
      const r = await verifyRecord(w.dir, KEY.public);
      assertProblem(r, 'appended_after_seal', 'events.jsonl');
      assert.match(r.problems[0]!.message, /4 bytes appended/);
    });

    test('an edited manifest.json', async () => {
      const w = await record('allow');
      const p = join(w.dir, 'manifest.json');
      writeFileSync(
        p,
        readFileSync(p, 'utf8').replace('"gateway_id":"gw-test"', '"gateway_id":"gw-evil"'),
      );
      assertProblem(await verifyRecord(w.dir, KEY.public), 'manifest_changed', 'manifest.json');
    });

    test('manifest.jws replaced by a signature with another key', async () => {
      const w = await record('allow');
      const { signManifest } = await import('../gateway/src/recording/manifest.js');
      writeFileSync(
        join(w.dir, 'manifest.jws'),
        `${await signManifest(readFileSync(join(w.dir, 'manifest.json')), OTHER.private)}\n`,
      );
      assertProblem(await verifyRecord(w.dir, KEY.public), 'signature_invalid', 'manifest.jws');
      // ...which is a valid seal for whoever holds the other key.
      assert.equal((await verifyRecord(w.dir, OTHER.public)).status, 'sealed');
    });

    test('a whole record rewritten and re-chained (no key) is caught by the seal', async () => {
      const w = await record('allow');
      const ls = lines(w.dir).map((l) => JSON.parse(l));
      let prev = genesis(w.sessionId);
      const rewritten = ls.map((e) => {
        if (e.type === 'decision') e.data.action = 'deny';
        const enc = encodeEvent(e.seq, e.time, e.type, e.data, prev);
        prev = enc.hash;
        return enc.line.slice(0, -1);
      });
      writeLines(w.dir, rewritten);
      const r = await verifyRecord(w.dir, KEY.public);
      assertProblem(r, 'file_changed', 'events.jsonl');
      assertProblem(r, 'manifest_mismatch', 'events.jsonl');
    });

    test('a deleted events.jsonl', async () => {
      const w = await record('allow');
      unlinkSync(join(w.dir, 'events.jsonl'));
      assertProblem(await verifyRecord(w.dir, KEY.public), 'file_missing', 'events.jsonl');
    });

    test('an extra file, a missing manifest.jws', async () => {
      const w = await record('allow');
      writeFileSync(join(w.dir, 'notes.txt'), 'hi');
      assertProblem(await verifyRecord(w.dir, KEY.public), 'file_extra', 'notes.txt');
      unlinkSync(join(w.dir, 'manifest.jws'));
      assertProblem(await verifyRecord(w.dir, KEY.public), 'file_missing', 'manifest.jws');
    });
  });

  describe('unsealed records', () => {
    test('a record never sealed verifies as unsealed', async () => {
      const w = await record('allow', false);
      const r = await verifyRecord(w.dir, KEY.public);
      assert.equal(r.status, 'unsealed', JSON.stringify(r.problems));
      assert.equal(r.events, w.eventCount);
      assert.equal(r.ended, false);
      assert.equal(r.partialTail, null);
      await w.close();
    });

    test('a partial last line is reported as a partial write, not tampering', async () => {
      const w = await record('allow', false);
      await w.close();
      const p = join(w.dir, 'events.jsonl');
      const size = statSync(p).size;
      const lastLen = Buffer.byteLength(lines(w.dir).at(-1)!) + 1;
      truncateSync(p, size - Math.floor(lastLen / 2));
      const r = await verifyRecord(w.dir, KEY.public);
      assert.equal(r.status, 'unsealed', JSON.stringify(r.problems));
      assert.equal(r.events, w.eventCount - 1);
      assert.deepEqual(r.partialTail, {
        line: w.eventCount,
        bytes: lastLen - Math.floor(lastLen / 2),
      });
      // ...while tampering with what is there is still tampering.
      const ls = readFileSync(p, 'utf8').split('\n');
      ls[0] = ls[0]!.replace('svc-reporting', 'svc-innocent');
      writeFileSync(p, ls.join('\n'));
      assertProblem(await verifyRecord(w.dir, KEY.public), 'line_changed', 'events.jsonl', 1);
    });

    test('a gateway killed with SIGKILL mid-stream leaves a verifiable partial record', async () => {
      const sessionId = `crash-${process.pid}`;
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(PROJECT_ROOT, 'test', 'recording-child.ts'), root, sessionId],
        { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let acked = -1;
      let buffered = '';
      await new Promise<void>((resolve, reject) => {
        child.on('error', reject);
        child.on('exit', (code, signal) => {
          if (signal !== 'SIGKILL') reject(new Error(`child exited early: ${code ?? signal}`));
        });
        child.stdout!.on('data', (chunk: Buffer) => {
          buffered += chunk.toString();
          const parts = buffered.split('\n');
          buffered = parts.pop()!;
          for (const p of parts) acked = Math.max(acked, Number(p));
          if (acked >= 3000 && !child.killed) {
            child.kill('SIGKILL');
            child.once('exit', () => resolve());
          }
        });
      });
      const day = readdirSync(root).find((d) => readdirSync(join(root, d)).includes(sessionId))!;
      const r = await verifyRecord(join(root, day, sessionId), KEY.public);
      assert.equal(r.status, 'unsealed', JSON.stringify(r.problems));
      assert.deepEqual(r.problems, []);
      assert.ok(r.events > acked, `every acknowledged event is there (${r.events} > ${acked})`);
      assert.equal(r.ended, false);
    });

    test('a recorder that cannot record refuses with record.unavailable', () => {
      const file = join(root, 'not-a-dir');
      writeFileSync(file, '');
      assert.throws(
        () => SessionRecordWriter.open(options({ root: file })),
        (err: Error & { code?: string }) => err.code === 'record.unavailable',
      );
      assert.throws(
        () => SessionRecordWriter.open(options({ sessionId: '../escape' })),
        (err: Error & { code?: string }) => err.code === 'record.invalid',
      );
    });

    test('nothing is written after session end or seal', async () => {
      const w = await record('allow');
      assert.throws(
        () => w.command(UPDATE),
        (err: Error & { code?: string }) => err.code === 'record.closed',
      );
    });
  });

  describe('no secrets', () => {
    test('the writer copies only named fields: no token, password or smuggled property', async () => {
      const smuggle = { token: 'eyJ-SECRET-TOKEN', password: 'hunter2-SECRET' };
      const command = {
        ...UPDATE,
        ...smuggle,
        sql: {
          ...UPDATE.sql!,
          statements: UPDATE.sql!.statements.map((s) => ({
            ...s,
            text: 'UPDATE x SET ssn = 123-45-SECRET',
            ...smuggle,
          })),
        },
      } as Command;
      const w = SessionRecordWriter.open(
        options({
          identity: { subject: 's', groups: [], kind: 'human', issuer: 'i', ...smuggle } as never,
          target: {
            name: 't',
            protocol: 'postgres',
            labels: {},
            host: 'db',
            port: 5432,
            database: 'd',
            username: 'admin-SECRET-user',
            password: 'target-SECRET-password',
          } as never,
          client: { address: 'a', protocol: 'postgres', tls: true, user: 'u', ...smuggle } as never,
        }),
      );
      const seq = w.command(command);
      w.decision(seq, {
        id: 'd',
        action: 'allow',
        reasons: [],
        revision: 'r',
        ...smuggle,
      } as never);
      w.result(seq, {
        durationMs: 1,
        error: { code: '23505', message: 'duplicate key', ...smuggle },
      } as never);
      w.masking(seq, {
        rules: ['pii.ssn'],
        columns: [{ column: 'ssn', rule: 'pii.ssn', count: 1, ...smuggle }],
      } as never);
      await w.seal(KEY.private);
      for (const f of readdirSync(w.dir))
        assert.doesNotMatch(readFileSync(join(w.dir, f), 'utf8'), /SECRET|hunter2/i, f);

      // Every string of the command event comes from the command given (or is the protocol tag).
      const given = new Set<string>(['sql', 'shell', 'other']);
      const collect = (v: unknown, into: Set<string>) => {
        if (typeof v === 'string') into.add(v);
        else if (v && typeof v === 'object') for (const x of Object.values(v)) collect(x, into);
      };
      collect(UPDATE, given);
      const recorded = new Set<string>();
      collect(JSON.parse(lines(w.dir)[1]!).data, recorded);
      for (const s of recorded) assert.ok(given.has(s), `${s} was not given`);
    });

    test('the record types have no token, password or value fields', () => {
      type Forbidden = 'token' | 'password' | 'secret' | 'value' | 'values' | 'detail';
      const none = <T>(_: Extract<keyof T, Forbidden> extends never ? true : false) => {};
      none<IdentityRecord>(true);
      none<TargetRecord>(true);
      none<ClientRecord>(true);
      none<CommandData>(true);
      const bad: IdentityRecord = {
        subject: 's',
        groups: [],
        kind: 'agent',
        issuer: 'i',
        // @ts-expect-error an identity record cannot carry a token
        token: 'x',
      };
      assert.ok(bad);
    });
  });

  test('warden sessions verify: exit statuses 0 sealed, 1 tampered, 2 unsealed', async () => {
    const sealed = await record('allow');
    const unsealed = await record('deny', false);
    const tampered = await record('review');
    appendFileSync(join(tampered.dir, 'events.jsonl'), 'x');
    const keyFile = join(root, 'record.pub.pem');
    writeFileSync(keyFile, KEY.public);
    const run = async (...dirs: string[]) => {
      const program = new Program('warden').exitOverride();
      registerSessionsCommands(program);
      const write = process.stdout.write;
      let out = '';
      process.stdout.write = ((s: string) => {
        out += s;
        return true;
      }) as typeof process.stdout.write;
      const before = process.exitCode;
      try {
        await program.parseAsync(['sessions', 'verify', ...dirs, '--key', keyFile, '--json'], {
          from: 'user',
        });
        return { code: process.exitCode, reports: JSON.parse(out) as VerifyReport[] };
      } finally {
        process.stdout.write = write;
        process.exitCode = before;
      }
    };
    assert.equal((await run(sealed.dir)).code, 0);
    assert.equal((await run(sealed.dir, unsealed.dir)).code, 2);
    const t = await run(sealed.dir, unsealed.dir, tampered.dir);
    assert.equal(t.code, 1);
    assert.deepEqual(
      t.reports.map((r) => r.status),
      ['sealed', 'unsealed', 'tampered'],
    );
    assert.equal(exitStatus([]), 0);
    await unsealed.close();
  });

  test('a long session (20,000 events) stays one sealed, verifiable record', async () => {
    const w = SessionRecordWriter.open(options());
    for (let i = 0; i < 10_000; i++) {
      const seq = w.command(UPDATE);
      w.decision(seq, { id: `d-${i}`, action: 'allow', reasons: [], revision: 'abc123' });
    }
    await w.seal(KEY.private);
    const report = await verifyRecord(w.dir, KEY.public);
    assert.equal(report.status, 'sealed');
    assert.deepEqual(report.problems, []);
  });
});
