/**
 * Microseconds per policy decision on the per-command path: building the
 * input, encoding it, evaluating the WebAssembly policy, reading the result
 * and writing the decision-log line. The default policy on realistic SQL
 * inputs, beside a trivial allow-everything policy measured in the same run.
 *
 *   npm run bench            (or: node --import tsx bench/policy-decision.bench.ts)
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { simpleGit } from 'simple-git';
import { buildBundle } from '../bundle-builder/src/build.js';
import { opaPath } from '../bundle-builder/src/opa-cli.js';
import { PROJECT_ROOT } from '../gateway/src/paths.js';
import { readTarGz } from '../gateway/src/policy/bundle-files.js';
import { DecisionLog } from '../gateway/src/policy/decision-log.js';
import { PolicyEngine } from '../gateway/src/policy/engine.js';
import { SessionInputEncoder, type SqlStatement } from '../gateway/src/policy/input.js';
import { statement } from '../test/support/inputs.js';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 50_000);
const run = promisify(execFile);

const t = (schema: string, name: string, access: 'read' | 'write' = 'read') => ({
  schema,
  name,
  qualified: `${schema}.${name}`,
  access,
});

/** Commands shaped as the PostgreSQL analyzer reports them: what agents typically send. */
const COMMANDS: { name: string; statements: SqlStatement[] }[] = [
  {
    name: 'select join',
    statements: [
      statement({
        tables: [t('public', 'orders'), t('public', 'customers'), t('public', 'order_items')],
        functions: ['sum', 'date_trunc'],
        fingerprint: 'a1b2c3d4e5f60718',
        text: "SELECT c.email, date_trunc('day', o.created_at), sum(i.amount) FROM orders o JOIN customers c ON c.id = o.customer_id JOIN order_items i ON i.order_id = o.id WHERE o.created_at > $1 GROUP BY 1, 2",
      }),
    ],
  },
  {
    name: 'update with where',
    statements: [
      statement({
        node: 'UpdateStmt',
        verb: 'update',
        category: 'write',
        writes: true,
        dml: [{ verb: 'update', table: 'public.orders', has_where: true }],
        tables: [t('public', 'orders', 'write')],
        fingerprint: 'b2c3d4e5f6071829',
        text: "UPDATE orders SET status = 'shipped' WHERE id = $1",
      }),
    ],
  },
  {
    name: 'delete without where',
    statements: [
      statement({
        node: 'DeleteStmt',
        verb: 'delete',
        category: 'write',
        writes: true,
        dml: [{ verb: 'delete', table: 'public.sessions', has_where: false }],
        tables: [t('public', 'sessions', 'write')],
        fingerprint: 'c3d4e5f60718293a',
        text: 'DELETE FROM sessions',
      }),
    ],
  },
  {
    name: 'drop table',
    statements: [
      statement({
        node: 'DropStmt',
        verb: 'drop',
        object_type: 'table',
        category: 'ddl',
        writes: true,
        tables: [t('public', 'orders', 'write')],
        fingerprint: 'd4e5f60718293a4b',
        text: 'DROP TABLE orders',
      }),
    ],
  },
  {
    name: 'cte write + 3 statements',
    statements: [
      statement({
        node: 'TransactionStmt',
        verb: 'begin',
        category: 'tcl',
        tables: [],
        text: 'BEGIN',
        fingerprint: 'e1',
      }),
      statement({
        index: 1,
        writes: true,
        dml: [{ verb: 'delete', table: 'public.carts', has_where: true }],
        tables: [t('public', 'carts', 'write')],
        fingerprint: 'e5f60718293a4b5c',
        text: 'WITH gone AS (DELETE FROM carts WHERE updated_at < $1 RETURNING id) SELECT count(*) FROM gone',
      }),
      statement({
        index: 2,
        node: 'TransactionStmt',
        verb: 'commit',
        category: 'tcl',
        tables: [],
        text: 'COMMIT',
        fingerprint: 'e2',
      }),
    ],
  },
];

const session = (production: boolean) =>
  new SessionInputEncoder(
    {
      subject: 'svc-reporting',
      groups: ['analysts'],
      kind: 'agent',
      issuer: 'https://idp.example.com',
    },
    {
      name: 'orders-db',
      protocol: 'postgres',
      labels: production ? { environment: 'production' } : {},
    },
    { id: '01JC8Z5Q3X', client_address: '10.1.2.3', started: '2026-11-22T10:00:00Z' },
  );

/** What the core does per command: the adapter's parsed command, encoded with the session's constant parts. */
function commandInput(c: (typeof COMMANDS)[number], encoder: SessionInputEncoder): () => string {
  const s = c.statements;
  return () =>
    encoder.encode(
      {
        raw: s.map((x) => x.text).join('; '),
        fingerprint: s.map((x) => x.fingerprint).join(','),
        actions: [...new Set(s.map((x) => x.verb))],
        objects: [...new Set(s.flatMap((x) => x.tables.map((tb) => tb.qualified)))],
        sql: { dialect: 'postgres', statements: s },
      },
      [],
    );
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function measure(engine: PolicyEngine, inputs: (() => string)[]) {
  for (let i = 0; i < 5_000; i++) engine.decideJson(inputs[i % inputs.length]!());
  const samples = new Float64Array(ITERATIONS);
  for (let i = 0; i < ITERATIONS; i++) {
    const make = inputs[i % inputs.length]!;
    const start = process.hrtime.bigint();
    engine.decideJson(make());
    samples[i] = Number(process.hrtime.bigint() - start) / 1000;
  }
  samples.sort();
  return {
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    mean: samples.reduce((a, b) => a + b, 0) / samples.length,
  };
}

function engineWithNullLog(): PolicyEngine {
  const decisionLog = new DecisionLog(
    { destination: 'memory', erase: [], labels: { id: 'bench' } },
    { write: () => true },
  );
  return new PolicyEngine({ logger: pino({ level: 'silent' }), decisionLog, verification: null });
}

async function trivialBundle(dir: string): Promise<Buffer> {
  const src = join(dir, 'trivial');
  await run('mkdir', ['-p', src]);
  await writeFile(
    join(src, 'policy.rego'),
    'package warden\n\ndecision := {"action": "allow", "reasons": [], "mask": {"rules": []}}\n',
  );
  await writeFile(
    join(src, '.manifest'),
    JSON.stringify({ revision: 'trivial', roots: ['warden'] }),
  );
  const out = join(dir, 'trivial.tar.gz');
  await run(
    await opaPath(),
    ['build', '-t', 'wasm', '-e', 'warden/decision', '-b', '.', '-o', out],
    { cwd: src },
  );
  return readFile(out);
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'warden-bench-'));
  try {
    const head = (await simpleGit(PROJECT_ROOT).revparse(['HEAD'])).trim();
    const built = await buildBundle({
      repo: PROJECT_ROOT,
      ref: head,
      out: join(dir, 'default.tar.gz'),
    });
    const real = engineWithNullLog();
    await real.activate(await readTarGz(await readFile(built.out)), 'bench');
    const trivial = engineWithNullLog();
    await trivial.activate(await readTarGz(await trivialBundle(dir)), 'bench');

    const rows: Record<string, unknown>[] = [];
    const report = (name: string, engine: PolicyEngine, inputs: (() => string)[]) => {
      const r = measure(engine, inputs);
      rows.push({
        case: name,
        p50_us: +r.p50.toFixed(2),
        p99_us: +r.p99.toFixed(2),
        mean_us: +r.mean.toFixed(2),
      });
      return r;
    };
    const [dev, prod] = [session(false), session(true)];
    const all = COMMANDS.flatMap((c) => [commandInput(c, dev), commandInput(c, prod)]);
    const baseline = report('trivial policy (baseline), same inputs', trivial, all);
    const mixed = report('default policy, all commands', real, all);
    for (const c of COMMANDS) report(`default policy: ${c.name}`, real, [commandInput(c, prod)]);

    console.log(
      `policy decision, ${ITERATIONS} iterations per case, node ${process.version}, revision ${built.revision.slice(0, 12)}`,
    );
    console.table(rows);
    console.log(
      `default/trivial ratio: p50 ${(mixed.p50 / baseline.p50).toFixed(2)}x, p99 ${(mixed.p99 / baseline.p99).toFixed(2)}x; ` +
        `target p50 <= 15 us: ${mixed.p50 <= 15 ? 'met' : 'NOT met'}`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
