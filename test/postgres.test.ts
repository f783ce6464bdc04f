import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import fc from 'fast-check';
import pg from 'pg';
import Cursor from 'pg-cursor';
import postgres from 'postgres';
import { PROJECT_ROOT } from '../gateway/src/paths.js';
import { verifyRecord } from '../gateway/src/recording/verify.js';
import { ROLES } from './support/postgres.js';
import { PASSWORD_ENV, Stack } from './support/stack.js';

const run = promisify(execFile);

interface Output {
  code: number;
  out: string;
}

describe('PostgreSQL endpoint with real clients, a real server and a real OpenID Provider', () => {
  let stack: Stack;
  let token: string;
  /** Everything any client received, checked at the end for the upstream passwords. */
  const seenByClients: string[] = [];

  const psql = async (
    target: string,
    commands: string[],
    env: Record<string, string> = {},
    conninfo?: string,
  ): Promise<Output> => {
    const args = [
      '-X',
      '-v',
      'VERBOSITY=verbose',
      conninfo ?? stack.conninfo(target),
      ...commands.flatMap((c) => ['-c', c]),
    ];
    const result = await run('psql', args, {
      env: { ...process.env, PGPASSWORD: token, ...env },
    }).then(
      (r) => ({ code: 0, out: r.stdout + r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({
        code: e.code,
        out: e.stdout + e.stderr,
      }),
    );
    seenByClients.push(result.out);
    return result;
  };

  before(async () => {
    stack = await Stack.start();
    token = await stack.idp.agentToken();
  });
  after(() => stack?.stop());

  describe('psql', () => {
    test('reads work, DROP is denied with SQLSTATE 42501 naming the reason and the decision, and the session goes on', async () => {
      const r = await psql('app-db', [
        'SELECT count(*) AS n FROM accounts',
        'DROP TABLE accounts',
        'SELECT 42 AS still_usable',
      ]);
      assert.match(r.out, /\n\s+100\n/);
      assert.match(
        r.out,
        /ERROR:\s+42501: DROP statements are not allowed \(decision [0-9a-f-]{36}\)/,
      );
      assert.match(r.out, /still_usable\s*\n-+\n\s+42/);
      assert.equal(
        (
          await stack.pg.sql<{ n: string }>('SELECT count(*) AS n FROM accounts', stack.pg.database)
        )[0]!.n,
        '100',
      );
    });

    test('a multi-statement query with one denied statement runs none of it', async () => {
      const r = await psql('app-db', [
        'UPDATE accounts SET balance = -1 WHERE id = 1; TRUNCATE accounts; SELECT 1',
      ]);
      assert.match(r.out, /42501: TRUNCATE is not allowed/);
      const [row] = await stack.pg.sql<{ balance: number }>(
        'SELECT balance FROM accounts WHERE id = 1',
        stack.pg.database,
      );
      assert.equal(row!.balance, 10);
    });

    test('an agent writing to a production target needs approval', async () => {
      const r = await psql('prod-db', ['UPDATE accounts SET balance = 0 WHERE id = 2']);
      assert.match(r.out, /42501: requires approval: /);
      const [row] = await stack.pg.sql<{ balance: number }>(
        'SELECT balance FROM accounts WHERE id = 2',
        stack.pg.database,
      );
      assert.equal(row!.balance, 20);
    });

    test('interactive meta-commands work: \\d describes a table', async () => {
      const r = await psql('app-db', ['\\d accounts']);
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /Table "public\.accounts"/);
      assert.match(r.out, /balance\s*\|\s*integer/);
    });

    test('COPY out to the client and in from the client', async () => {
      const out = await psql('app-db', [
        'COPY (SELECT id, email FROM accounts WHERE id <= 3 ORDER BY id) TO STDOUT',
      ]);
      assert.match(
        out.out,
        /^1\tuser1@example\.com\n2\tuser2@example\.com\n3\tuser3@example\.com\n/,
      );
      await stack.pg.sql(
        `CREATE TABLE imports (id int, note text); ALTER TABLE imports OWNER TO ${ROLES.scram.user}`,
        stack.pg.database,
      );
      const copyIn = await run(
        'sh',
        [
          '-c',
          `printf '1\\tone\\n2\\ttwo\\n' | psql -X "${stack.conninfo('app-db')}" -c "COPY imports FROM STDIN"`,
        ],
        {
          env: { ...process.env, PGPASSWORD: token },
        },
      );
      assert.match(copyIn.stdout, /COPY 2/);
      const denied = await psql('app-db', ["COPY imports FROM PROGRAM 'id'"]);
      assert.match(denied.out, /42501: COPY to or from a program is not allowed/);
    });

    test('without TLS the token is refused before anything is sent', async () => {
      const r = await psql(
        'app-db',
        ['SELECT 1'],
        {},
        `host=127.0.0.1 port=${stack.port} dbname=app-db user=agent sslmode=disable`,
      );
      assert.notEqual(r.code, 0);
      assert.match(r.out, /Warden requires TLS/);
    });

    test('an unknown target and a target the identity may not use are refused', async () => {
      assert.match(
        (await psql('no-such-db', ['SELECT 1'])).out,
        /FATAL:\s+no postgres target named "no-such-db"/,
      );
      assert.match(
        (await psql('dba-db', ['SELECT 1'])).out,
        /FATAL:\s+you may not use the target "dba-db"/,
      );
      assert.equal(await connectError(stack.pgOptions('no-such-db', token)), '3D000');
      assert.equal(await connectError(stack.pgOptions('dba-db', token)), '42501');
    });
  });

  describe('bad tokens', () => {
    test('garbage, forged, expired and wrong-audience tokens are refused with 28P01, and the database is never contacted', async () => {
      const before = await stack.pg.tcpLogins();
      const now = Math.floor(Date.now() / 1000);
      const bad = {
        garbage: 'not-a-token',
        forged: await stack.idp.forge.wrongKey(),
        expired: await stack.idp.mint({ claims: { iat: now - 3600, exp: now - 600 } }),
        'wrong audience': await stack.idp.mint({ claims: { aud: 'urn:someone-else' } }),
        'alg none': await stack.idp.forge.algNone(),
      };
      for (const [what, badToken] of Object.entries(bad)) {
        const r = await psql('app-db', ['SELECT 1'], { PGPASSWORD: badToken });
        assert.notEqual(r.code, 0, what);
        assert.match(r.out, /FATAL:\s+authentication failed: /, what);
        assert.equal(await connectError(stack.pgOptions('app-db', badToken)), '28P01', what);
      }
      assert.equal(await stack.pg.tcpLogins(), before, 'no login reached PostgreSQL');
    });
  });

  describe('node-postgres', () => {
    test('named prepared statements and pg-cursor', async () => {
      const client = new pg.Client(stack.pgOptions('app-db', token));
      await client.connect();
      try {
        for (const id of [5, 6, 7]) {
          const r = await client.query({
            name: 'by-id',
            text: 'SELECT email FROM accounts WHERE id = $1',
            values: [id],
          });
          assert.equal(r.rows[0].email, `user${id}@example.com`);
        }
        const cursor = client.query(new Cursor('SELECT id FROM accounts ORDER BY id'));
        const first = await cursor.read(10);
        const second = await cursor.read(10);
        assert.deepEqual([first[0].id, first.length, second[0].id], [1, 10, 11]);
        await cursor.close();
      } finally {
        await client.end();
      }
    });

    test('a denial inside a transaction aborts it like a real error; ROLLBACK recovers and nothing is kept', async () => {
      const client = new pg.Client(stack.pgOptions('app-db', token));
      await client.connect();
      try {
        await client.query('BEGIN');
        await client.query('UPDATE accounts SET balance = 999 WHERE id = 3');
        await assert.rejects(
          client.query('DROP TABLE accounts'),
          (e: { code: string; message: string }) => {
            seenByClients.push(e.message);
            return e.code === '42501' && /DROP statements are not allowed/.test(e.message);
          },
        );
        await assert.rejects(client.query('SELECT 1'), (e: { code: string }) => e.code === '25P02');
        await client.query('ROLLBACK');
        const r = await client.query('SELECT balance FROM accounts WHERE id = $1', [3]);
        assert.equal(r.rows[0].balance, 30);
        // Extended protocol: a denied Parse is answered in order, then the session is usable at once.
        await assert.rejects(
          client.query('TRUNCATE accounts', []),
          (e: { code: string }) => e.code === '42501',
        );
        assert.equal((await client.query('SELECT $1::int AS x', [7])).rows[0].x, 7);
      } finally {
        await client.end();
      }
    });

    test('notices reach the client', async () => {
      await stack.pg.sql(
        `CREATE OR REPLACE FUNCTION shout(t text) RETURNS int LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE 'shout: %', t; RETURN 1; END $$`,
        stack.pg.database,
      );
      const client = new pg.Client(stack.pgOptions('app-db', token));
      await client.connect();
      try {
        const notice = new Promise<string>((resolve) =>
          client.on('notice', (n) => resolve(n.message ?? '')),
        );
        await client.query("SELECT shout('hello')");
        assert.equal(await notice, 'shout: hello');
      } finally {
        await client.end();
      }
    });

    test('notifications reach the client', async () => {
      const listener = new pg.Client(stack.pgOptions('app-db', token));
      await listener.connect();
      try {
        await listener.query('LISTEN warden_test');
        const got = new Promise<string>((resolve) =>
          listener.on('notification', (n) => resolve(n.payload ?? '')),
        );
        await stack.pg.sql("NOTIFY warden_test, 'hello'", stack.pg.database);
        assert.equal(await got, 'hello');
      } finally {
        await listener.end();
      }
    });
  });

  describe('postgres.js (pipelined extended protocol)', () => {
    test('pipelined queries come back in order, with a denied one failing alone', async () => {
      const sql = postgres({
        ...stack.pgOptions('app-db', token),
        ssl: { ca: stack.tls.ca },
        max: 1,
      });
      try {
        const results = await Promise.allSettled([
          sql`SELECT ${1}::int AS n`,
          sql`SELECT email FROM accounts WHERE id = ${8}`,
          sql`DROP TABLE accounts`,
          sql`SELECT ${4}::int AS n`,
        ]);
        assert.equal(results[0].status === 'fulfilled' && results[0].value[0]!.n, 1);
        assert.equal(
          results[1].status === 'fulfilled' && results[1].value[0]!.email,
          'user8@example.com',
        );
        assert.equal(
          results[2].status === 'rejected' && (results[2].reason as { code: string }).code,
          '42501',
        );
        assert.equal(results[3].status === 'fulfilled' && results[3].value[0]!.n, 4);
      } finally {
        await sql.end();
      }
    });

    test('a CancelRequest reaches the right upstream backend', async () => {
      const sql = postgres({
        ...stack.pgOptions('app-db', token),
        ssl: { ca: stack.tls.ca },
        max: 1,
      });
      try {
        const started = Date.now();
        const query = sql`SELECT pg_sleep(20)`;
        setTimeout(() => query.cancel(), 300);
        await assert.rejects(query, (e: { code: string }) => e.code === '57014');
        assert.ok(Date.now() - started < 10_000);
        assert.equal((await sql`SELECT 1 AS ok`)[0]!.ok, 1);
      } finally {
        await sql.end();
      }
    });
  });

  describe('pgbench', () => {
    before(async () => {
      await run('pgbench', [
        '-i',
        '-s',
        '1',
        '-q',
        '-h',
        stack.pg.socketDir,
        '-p',
        String(stack.pg.port),
        '-U',
        'postgres',
        stack.pg.database,
      ]);
      await stack.pg.sql(
        `GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${ROLES.scram.user}`,
        stack.pg.database,
      );
    });

    for (const mode of ['simple', 'extended', 'prepared']) {
      test(`select-only in ${mode} mode`, async () => {
        const { stdout } = await run(
          'pgbench',
          [
            '-n',
            '-S',
            '-M',
            mode,
            '-c',
            '2',
            '-t',
            '25',
            `host=${stack.host} port=${stack.port} dbname=app-db user=agent sslmode=require`,
          ],
          { env: { ...process.env, PGPASSWORD: token } },
        );
        assert.match(stdout, /number of transactions actually processed: 50\/50/);
        assert.match(stdout, /number of failed transactions: 0/);
      });
    }
  });

  describe('robustness', () => {
    test('malformed startup traffic gets an error and a closed connection; nothing reaches PostgreSQL; the gateway keeps serving', async () => {
      const before = await stack.pg.tcpLogins();
      const payloads = [
        Buffer.from([0, 0, 0, 8, 0xde, 0xad, 0xbe, 0xef]), // unknown protocol code
        Buffer.from([0x7f, 0xff, 0xff, 0xff]), // absurd length
        Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
        Buffer.from([0, 0, 0, 9, 0, 3, 0, 0, 0x61]), // startup with an unterminated parameter
        Buffer.from([0, 0, 0, 8, 4, 0xd2, 0x16, 0x2f, 0x51, 0, 0, 0, 5]), // bytes after an SSLRequest
      ];
      for (const payload of payloads) {
        const reply = await rawExchange(stack.port, payload);
        assert.ok(reply.closed, `connection closed for ${payload.toString('hex')}`);
      }
      assert.equal(await stack.pg.tcpLogins(), before);
      const r = await psql('app-db', ['SELECT 1 AS alive']);
      assert.match(r.out, /alive/);
    });
  });

  describe('random traffic (property-based)', () => {
    test('random bytes at the listener: always an error or a close, never a login upstream, never a crash', async () => {
      const bystander = new pg.Client(stack.pgOptions('app-db', token));
      await bystander.connect();
      const before = await stack.pg.tcpLogins();
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
            // Well-framed startup-phase messages with random bodies get further into the parser.
            fc.uint8Array({ maxLength: 120 }).map((b) => {
              const m = Buffer.alloc(4 + b.length);
              m.writeInt32BE(m.length);
              Buffer.from(b).copy(m, 4);
              return m;
            }),
          ),
          async (payload) => {
            const { closed } = await rawExchange(stack.port, payload);
            assert.ok(closed, 'the gateway closed the connection');
          },
        ),
        { numRuns: 60 },
      );
      assert.equal(await stack.pg.tcpLogins(), before, 'no login reached PostgreSQL');
      assert.equal(
        (await bystander.query('SELECT 1 AS ok')).rows[0].ok,
        1,
        'a session open meanwhile is unaffected',
      );
      await bystander.end();
      assert.match((await psql('app-db', ['SELECT 1 AS alive'])).out, /alive/);
    });

    test('random SQL text over an authenticated session: each statement runs or is refused, and the session lives on', async () => {
      const client = new pg.Client(stack.pgOptions('app-db', token));
      await client.connect();
      try {
        await fc.assert(
          fc.asyncProperty(fc.string({ maxLength: 80 }), fc.boolean(), async (text, extended) => {
            try {
              await client.query(extended ? { text, values: [] } : text);
            } catch (err) {
              const code = (err as { code?: string }).code;
              assert.ok(
                code === '42501' || /^[0-9A-Z]{5}$/.test(code ?? ''),
                `an SQL error, got ${String(err)}`,
              );
            }
            if (text.includes('\0')) return;
            assert.equal((await client.query('SELECT 1 AS ok')).rows[0].ok, 1);
          }),
          { numRuns: 150 },
        );
      } finally {
        await client.end();
      }
    });
  });

  describe('sessions over time', () => {
    test('a token that expires during a session stops new commands with a clear error and closes the session', async () => {
      const now = Math.floor(Date.now() / 1000);
      const shortLived = await stack.idp.mint({ claims: { iat: now, exp: now + 2 } });
      const client = new pg.Client(stack.pgOptions('app-db', shortLived));
      client.on('error', () => {});
      await client.connect();
      assert.equal((await client.query('SELECT 1 AS ok')).rows[0].ok, 1);
      await new Promise((r) => setTimeout(r, 2500));
      await assert.rejects(client.query('SELECT 1'), /access token has expired/);
      await client.end().catch(() => {});
    });

    test('rotated target credentials apply to new sessions without a restart; sessions in progress keep going', async () => {
      const rotated = 'rotated-Secret-5a6b7c';
      const old = new pg.Client(stack.pgOptions('app-db', token));
      await old.connect();
      try {
        await stack.pg.sql(`ALTER ROLE ${ROLES.scram.user} PASSWORD '${rotated}'`);
        process.env[PASSWORD_ENV] = rotated;
        const fresh = new pg.Client(stack.pgOptions('app-db', token));
        await fresh.connect();
        assert.equal((await fresh.query('SELECT 2 AS ok')).rows[0].ok, 2);
        await fresh.end();
        assert.equal((await old.query('SELECT 3 AS ok')).rows[0].ok, 3);
      } finally {
        await old.end();
        await stack.pg.sql(`ALTER ROLE ${ROLES.scram.user} PASSWORD '${ROLES.scram.password}'`);
        process.env[PASSWORD_ENV] = ROLES.scram.password;
      }
    });
  });

  test('decisions are logged with the policy revision', async () => {
    const revision = stack.gateway.engine.revision;
    let decisions: Record<string, unknown>[] = [];
    for (
      let i = 0;
      i < 50 && !decisions.some((d) => (d.result as { action?: string })?.action === 'deny');
      i++
    ) {
      await new Promise((r) => setTimeout(r, 100));
      decisions = await stack.decisions();
    }
    assert.ok(decisions.length > 10);
    assert.ok(
      decisions.every(
        (d) => (d.bundles as { warden: { revision: string } }).warden.revision === revision,
      ),
    );
    const drop = decisions.find((d) => JSON.stringify(d.input).includes('DROP TABLE accounts'));
    assert.equal((drop!.result as { action: string }).action, 'deny');
  });

  test('every session is recorded and sealed: commands and decisions, denials and reviews included, verifiable', async () => {
    const r = await psql('prod-db', [
      'SELECT count(*) FROM accounts',
      'DROP TABLE accounts',
      'UPDATE accounts SET balance = 1 WHERE id = 9',
    ]);
    assert.match(r.out, /DROP statements are not allowed/);
    const found = await sealedRecordContaining(stack, [
      'DROP TABLE accounts',
      'balance = 1 WHERE id = 9',
    ]);
    assert.ok(found, 'a sealed record of the session');
    const actions = found.filter((e) => e.type === 'decision').map((e) => e.data.action);
    assert.deepEqual(actions, ['allow', 'deny', 'review']);
    const results = found.filter((e) => e.type === 'result');
    assert.equal(results.length, 1, 'only the command that ran has a result');
    assert.equal(results[0]!.data.rows, 1);
    const start = found[0]!;
    assert.equal(start.type, 'session.start');
    assert.equal((start.data.target as { name: string }).name, 'prod-db');
    assert.equal(found.at(-1)!.type, 'session.end');
  });

  test("records carry each execution's outcome: rows, affected rows, errors, durations (extended protocol too)", async () => {
    const client = new pg.Client(stack.pgOptions('app-db', token));
    await client.connect();
    try {
      for (const id of [11, 12]) {
        await client.query({
          name: 'recorded-by-id',
          text: 'SELECT email FROM accounts WHERE id = $1',
          values: [id],
        });
      }
      await client.query('UPDATE accounts SET balance = balance WHERE id <= 3');
      await assert.rejects(client.query('SELECT 1 / (id - id) FROM accounts WHERE id = 1'));
    } finally {
      await client.end();
    }
    const events = await sealedRecordContaining(stack, ['WHERE id = $1', 'balance = balance']);
    assert.ok(events, 'a sealed record of the session');
    const seqOf = (text: string) =>
      events.find((e) => e.type === 'command' && String(e.data.raw).includes(text))?.seq;
    const resultsOf = (seq: number | undefined) =>
      events.filter((e) => e.type === 'result' && e.data.command === seq);
    const prepared = resultsOf(seqOf('WHERE id = $1'));
    assert.equal(prepared.length, 2, 'one result per execution of the prepared statement');
    assert.ok(prepared.every((r) => r.data.rows === 1 && typeof r.data.duration_ms === 'number'));
    assert.equal(resultsOf(seqOf('balance = balance'))[0]!.data.affected, 3);
    assert.deepEqual(resultsOf(seqOf('1 / (id - id)'))[0]!.data.error, {
      code: '22012',
      message: '',
    });
  });

  test('warden sessions list finds sessions by decision and text; show prints one; export archives it', async () => {
    const root = join(stack.dir, 'sessions');
    const warden = (...args: string[]) =>
      run('node', [join(PROJECT_ROOT, 'bin/warden.js'), 'sessions', ...args]);
    const denied = JSON.parse(
      (await warden('list', '--root', root, '--decision', 'deny', '--json')).stdout,
    ) as {
      id: string;
      denied: number;
      target: string;
    }[];
    assert.ok(denied.length > 0 && denied.every((s) => s.denied > 0));
    const withText = JSON.parse(
      (await warden('list', '--root', root, '--text', 'balance = balance', '--json')).stdout,
    );
    assert.equal(withText.length, 1);
    assert.equal(withText[0].target, 'app-db');
    const none = JSON.parse(
      (await warden('list', '--root', root, '--target', 'no-such-target', '--json')).stdout,
    );
    assert.deepEqual(none, []);
    const shown = (await warden('show', withText[0].id, '--root', root)).stdout.trim().split('\n');
    assert.equal(JSON.parse(shown[0]!).type, 'session.start');
    const archive = join(stack.dir, 'export.tar.gz');
    await warden('export', withText[0].id, '--root', root, '--out', archive);
    const { stdout } = await run('tar', ['tzf', archive]);
    assert.match(stdout, /events\.jsonl/);
    assert.match(stdout, /manifest\.jws/);
  });

  test('the upstream passwords never reach a client or a log', async () => {
    const decisionLog = JSON.stringify(await stack.decisions());
    const records: string[] = [];
    for (const dir of await stack.recordDirs()) {
      for (const f of await readdir(dir)) records.push(await readFile(join(dir, f), 'utf8'));
    }
    assert.ok(records.length > 0, 'there were records to check');
    for (const secret of [ROLES.scram.password, ROLES.md5.password, token]) {
      for (const text of records)
        assert.ok(!text.includes(secret), 'a session record leaks a secret');
    }
    for (const secret of [ROLES.scram.password, ROLES.md5.password]) {
      for (const text of seenByClients)
        assert.ok(!text.includes(secret), 'client output leaks a password');
      assert.ok(!stack.logLines.some((l) => l.includes(secret)), 'gateway log leaks a password');
      assert.ok(!decisionLog.includes(secret), 'decision log leaks a password');
    }
    assert.ok(
      seenByClients.length > 10 && stack.logLines.length > 5,
      'there was something to check',
    );
  });
});

interface RecordedEvent {
  seq: number;
  type: string;
  data: Record<string, unknown>;
}

/** Waits for a sealed, intact session record whose events contain every one of `texts`. */
async function sealedRecordContaining(
  stack: Stack,
  texts: string[],
): Promise<RecordedEvent[] | null> {
  for (let i = 0; i < 50; i++) {
    for (const dir of await stack.recordDirs()) {
      const text = await readFile(join(dir, 'events.jsonl'), 'utf8').catch(() => '');
      if (!texts.every((t) => text.includes(t))) continue;
      const report = await verifyRecord(dir, stack.recordPublicKey);
      if (report.status !== 'sealed') continue;
      assert.deepEqual(report.problems, []);
      return text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as RecordedEvent);
    }
    await new Promise((res) => setTimeout(res, 100));
  }
  return null;
}

/** The SQLSTATE a node-postgres connection attempt fails with. */
async function connectError(options: pg.ClientConfig): Promise<string> {
  const client = new pg.Client(options);
  try {
    await client.connect();
    await client.end();
    return 'connected';
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

/** Sends bytes on a fresh connection, half-closes it, and collects the reply until the server closes it (or 3 s pass). */
function rawExchange(port: number, payload: Buffer): Promise<{ reply: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: '127.0.0.1', port }, () => socket.end(payload));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ reply: Buffer.concat(chunks), closed: false });
    }, 3000);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ reply: Buffer.concat(chunks), closed: true });
    });
  });
}
