/**
 * µs per analyzeSql for a few realistic texts, without and with the cache.
 *   node --import tsx bench/sql-analysis.bench.ts
 */
import { fingerprintSync, parseSync } from 'libpg-query';
import {
  analyzeSql,
  loadSqlParser,
  setSqlCacheSize,
} from '../gateway/src/adapters/postgres/sql/analyzer.js';
import { PreparedStatements } from '../gateway/src/adapters/postgres/sql/prepared.js';

const TEXTS: Record<string, string> = {
  'simple select': 'SELECT id, email FROM public.orders WHERE id = $1',
  'join + subquery': `SELECT o.id, c.name, o.total FROM public.orders o
    JOIN customers c ON c.id = o.customer_id
    WHERE o.total > (SELECT avg(total) FROM orders WHERE created_at > now() - interval '1 day')
    ORDER BY o.id LIMIT 50`,
  '3-statement transaction':
    'BEGIN; UPDATE accounts SET balance = balance - 10 WHERE id = 1; COMMIT',
  'execute (prepared)': 'EXECUTE get_order(42)',
};

function measure(fn: () => void, iterations: number): number {
  for (let i = 0; i < Math.min(2000, iterations); i++) fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  return Number(process.hrtime.bigint() - start) / iterations / 1000;
}

await loadSqlParser();
const prepared = new PreparedStatements();
prepared.commit(
  analyzeSql('PREPARE get_order(int) AS SELECT * FROM orders WHERE id = $1', prepared),
);

const rows: string[] = [];
for (const [name, text] of Object.entries(TEXTS)) {
  setSqlCacheSize(0);
  const cold = measure(() => analyzeSql(text, prepared), 10_000);
  const parse = measure(() => parseSync(text), 10_000);
  const fp = measure(() => fingerprintSync(text), 10_000);
  setSqlCacheSize(1000);
  const warm = measure(() => analyzeSql(text, prepared), 100_000);
  rows.push(
    `${name.padEnd(26)} uncached ${cold.toFixed(1).padStart(6)} µs  (parseSync ${parse.toFixed(1)} µs, fingerprintSync ${fp.toFixed(1)} µs)  cached ${warm.toFixed(2).padStart(5)} µs`,
  );
}
console.log(rows.join('\n'));
