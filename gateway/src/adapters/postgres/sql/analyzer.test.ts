import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Command, SqlStatement } from '../../../policy/input.js';
import { analyzeSql, clearSqlCache, loadSqlParser } from './analyzer.js';
import { CASES, type Case, type ExpectedStatement } from './corpus.js';
import { PreparedStatements, pendingEffects } from './prepared.js';

before(async () => {
  await loadSqlParser();
});

/** Analyses a case's text in a session where its `before` texts ran. */
export function analyzeCase(c: Case): Command {
  const prepared = new PreparedStatements();
  for (const text of c.before ?? []) prepared.commit(analyzeSql(text, prepared));
  return analyzeSql(c.sql, prepared);
}

const sorted = (xs: readonly string[]) => [...xs].sort();

function checkStatement(s: SqlStatement, e: ExpectedStatement, where: string): void {
  const scalar = ['node', 'verb', 'object_type', 'category', 'writes', 'text'] as const;
  for (const key of scalar) {
    if (e[key] !== undefined) assert.equal(s[key], e[key], `${where}: ${key}`);
  }
  if (e.tables) {
    assert.deepEqual(
      sorted(s.tables.map((t) => `${t.qualified}:${t.access}`)),
      sorted(e.tables),
      `${where}: tables`,
    );
  }
  if (e.dml) {
    assert.deepEqual(
      s.dml.map((d) => `${d.verb} ${d.table} ${d.has_where ? 'where' : 'nowhere'}`),
      e.dml,
      `${where}: dml`,
    );
  }
  if (e.functions)
    assert.deepEqual(sorted(s.functions), sorted(e.functions), `${where}: functions`);
  for (const f of e.functionsInclude ?? []) {
    assert.ok(s.functions.includes(f), `${where}: functions include ${f} (${s.functions})`);
  }
  if (e.settings) assert.deepEqual(sorted(s.settings), sorted(e.settings), `${where}: settings`);
  if (e.copy !== undefined) assert.deepEqual(s.copy ?? null, e.copy, `${where}: copy`);
  if (e.language !== undefined) assert.equal(s.language ?? null, e.language, `${where}: language`);
  if (e.prepared_unknown !== undefined) {
    assert.equal(s.prepared_unknown ?? false, e.prepared_unknown, `${where}: prepared_unknown`);
  }
}

/** Shape checks every analysed command must pass. */
export function checkShape(command: Command, text: string): void {
  const sql = command.sql;
  assert.ok(sql, 'sql part');
  assert.equal(sql.dialect, 'postgres');
  assert.equal(typeof command.raw, 'string');
  assert.equal(typeof command.fingerprint, 'string');
  assert.ok(command.fingerprint.length > 0);
  if (sql.parse_error !== undefined) {
    assert.equal(typeof sql.parse_error, 'string');
    assert.deepEqual(sql.statements, []);
    return;
  }
  sql.statements.forEach((s, i) => {
    assert.equal(s.index, i);
    assert.equal(typeof s.verb, 'string');
    assert.match(s.verb, /^[a-z_]+$/);
    assert.equal(typeof s.node, 'string');
    assert.equal(typeof s.fingerprint, 'string');
    assert.ok(['read', 'write', 'ddl', 'dcl', 'tcl', 'session', 'utility'].includes(s.category));
    for (const t of s.tables) {
      assert.equal(t.qualified, t.schema === null ? t.name : `${t.schema}.${t.name}`);
      assert.ok(t.access === 'read' || t.access === 'write');
    }
    for (const f of s.functions) assert.equal(f, f.toLowerCase());
    for (const x of s.settings) assert.equal(x, x.toLowerCase());
    // A statement with a data change or a written table is a write.
    if (s.dml.length > 0 || s.tables.some((t) => t.access === 'write')) assert.ok(s.writes);
  });
  const verbs = new Set(sql.statements.flatMap((s) => [s.verb, ...s.dml.map((d) => d.verb)]));
  assert.deepEqual(new Set(command.actions), verbs);
  assert.ok(text.length >= 0);
}

describe('analyzeSql corpus', () => {
  for (const c of CASES) {
    test(c.name, () => {
      const command = analyzeCase(c);
      checkShape(command, c.sql);
      const sql = command.sql!;
      if (c.parseError) {
        assert.equal(typeof sql.parse_error, 'string', 'parse_error');
        assert.deepEqual(sql.statements, []);
      } else {
        assert.equal(sql.parse_error, undefined, `unexpected parse error: ${sql.parse_error}`);
      }
      if (c.statements) {
        assert.equal(sql.statements.length, c.statements.length, 'statement count');
        c.statements.forEach((e, i) => {
          checkStatement(sql.statements[i]!, e, `statement ${i}`);
        });
      }
      if (c.secret) {
        assert.ok(!command.raw.includes(c.secret), `raw carries the secret: ${command.raw}`);
        for (const s of sql.statements) {
          assert.ok(!s.text.includes(c.secret), `text carries the secret: ${s.text}`);
        }
      }
    });
  }
});

describe('analyzeSql details', () => {
  test('fingerprints ignore constants; statements have their own', () => {
    const a = analyzeSql('SELECT * FROM t WHERE id = 1');
    const b = analyzeSql('select * from t where id = 42');
    assert.equal(a.fingerprint, b.fingerprint);
    assert.equal(a.sql!.statements[0]!.fingerprint, a.fingerprint);
    const multi = analyzeSql('SELECT * FROM t WHERE id = 7; DELETE FROM t');
    assert.equal(multi.sql!.statements[0]!.fingerprint, a.fingerprint);
    assert.notEqual(multi.fingerprint, a.fingerprint);
    assert.equal(
      multi.sql!.statements[1]!.fingerprint,
      analyzeSql('DELETE FROM t').sql!.statements[0]!.fingerprint,
    );
  });

  test('unqualified tables keep the bare name as qualified (search_path is unknown)', () => {
    const s = analyzeSql('SELECT * FROM orders').sql!.statements[0]!;
    assert.deepEqual(s.tables, [
      { schema: null, name: 'orders', qualified: 'orders', access: 'read' },
    ]);
  });

  test('texts with multibyte characters are sliced by byte offsets', () => {
    const c = analyzeSql("SELECT 'żółć' AS x; DROP TABLE \"tábla\"; SELECT '✓'");
    const texts = c.sql!.statements.map((s) => s.text);
    assert.deepEqual(texts, ["SELECT 'żółć' AS x", 'DROP TABLE "tábla"', "SELECT '✓'"]);
    assert.deepEqual(
      c.sql!.statements[1]!.tables.map((t) => t.name),
      ['tábla'],
    );
  });

  test('secrets are redacted in raw with multibyte text before them', () => {
    const c = analyzeSql("SELECT 'ünïcode'; ALTER ROLE r PASSWORD 'päss-sëcret'");
    assert.equal(c.raw, "SELECT 'ünïcode'; ALTER ROLE r PASSWORD '***'");
    assert.equal(c.sql!.statements[1]!.text, "ALTER ROLE r PASSWORD '***'");
  });

  test('a password equal to another name in the statement withholds the whole text', () => {
    const c = analyzeSql("CREATE ROLE bobby PASSWORD 'bobby'; SELECT 1");
    assert.ok(!c.raw.includes("'bobby'"));
    assert.match(c.sql!.statements[0]!.text, /withheld/);
    assert.match(c.raw, /SELECT 1$/);
  });

  test('the cache returns the same frozen command for the same text', () => {
    clearSqlCache();
    const a = analyzeSql('SELECT 1 FROM cached');
    const b = analyzeSql('SELECT 1 FROM cached');
    assert.equal(a, b);
    assert.ok(Object.isFrozen(a.sql!.statements[0]!.tables));
  });

  test('EXECUTE is resolved per session even when the text is cached', () => {
    const one = new PreparedStatements();
    const two = new PreparedStatements();
    one.commit(analyzeSql('PREPARE p AS DELETE FROM t', one));
    two.commit(analyzeSql('PREPARE p AS SELECT * FROM t', two));
    const a = analyzeSql('EXECUTE p', one).sql!.statements[0]!;
    const b = analyzeSql('EXECUTE p', two).sql!.statements[0]!;
    const c = analyzeSql('EXECUTE p', new PreparedStatements()).sql!.statements[0]!;
    assert.equal(a.writes, true);
    assert.equal(b.writes, false);
    assert.equal(c.prepared_unknown, true);
  });

  test('effects apply only when committed, and only for statements that ran', () => {
    const prepared = new PreparedStatements();
    const cmd = analyzeSql('PREPARE a AS SELECT 1; PREPARE b AS DELETE FROM t', prepared);
    assert.equal(prepared.size, 0);
    assert.deepEqual(
      pendingEffects(cmd).map((e) => e.kind),
      ['define', 'define'],
    );
    prepared.commit(cmd, 1);
    assert.ok(prepared.has('a'));
    assert.ok(!prepared.has('b'));
    prepared.commit(analyzeSql('DISCARD ALL', prepared));
    assert.equal(prepared.size, 0);
  });

  test('protocol-level define and close share the namespace with SQL', () => {
    const prepared = new PreparedStatements();
    const parsed = analyzeSql('UPDATE t SET a = 1 WHERE id = $1').sql!.statements[0]!;
    prepared.define('stmt_1', parsed);
    const s = analyzeSql('EXECUTE stmt_1(5)', prepared).sql!.statements[0]!;
    assert.deepEqual(s.dml, [{ verb: 'update', table: 't', has_where: true }]);
    prepared.commit(analyzeSql('DEALLOCATE stmt_1', prepared));
    assert.equal(
      analyzeSql('EXECUTE stmt_1(5)', prepared).sql!.statements[0]!.prepared_unknown,
      true,
    );
    prepared.define('x', parsed);
    prepared.close('x');
    assert.ok(!prepared.has('x'));
  });

  test('a text that prepares after executing does not resolve the earlier EXECUTE', () => {
    const c = analyzeSql('EXECUTE late; PREPARE late AS SELECT 1', new PreparedStatements());
    assert.equal(c.sql!.statements[0]!.prepared_unknown, true);
  });
});
