import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import fc from 'fast-check';
import { analyzeSql, loadSqlParser } from './analyzer.js';
import { PreparedStatements } from './prepared.js';

before(async () => {
  await loadSqlParser();
});

/** Known statements (no trailing semicolon), each one statement. */
const KNOWN = [
  'SELECT 1',
  'SELECT * FROM t WHERE a = $1',
  "select 'x;y' as s",
  'SELECT $$ ; $$',
  'WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d',
  'INSERT INTO t VALUES (1)',
  'UPDATE t SET a = 1',
  'DELETE FROM t WHERE id = 2',
  'DROP TABLE IF EXISTS a, b CASCADE',
  'TRUNCATE t',
  'SET ROLE x',
  "SELECT set_config('role', 'x', false)",
  "COPY t TO PROGRAM 'x'",
  'BEGIN',
  'COMMIT',
  'PREPARE p AS DELETE FROM t',
  'EXECUTE p',
  'DEALLOCATE ALL',
  "CREATE ROLE r PASSWORD 'secret-value'",
  'DO $$ BEGIN NULL; END $$',
  'EXPLAIN ANALYZE DELETE FROM t',
  'CREATE TABLE x AS SELECT 1',
];

const SEPARATORS = [';', ' ;', ';\n', '; -- c\n', ';/* ; */', ' ; ; '];

test('arbitrary text never throws: it parses or gives parse_error', () => {
  const prepared = new PreparedStatements();
  fc.assert(
    fc.property(
      fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' })),
      (text) => {
        const c = analyzeSql(text, prepared);
        const sql = c.sql!;
        if (sql.parse_error !== undefined) assert.deepEqual(sql.statements, []);
        sql.statements.forEach((s, i) => {
          assert.equal(s.index, i);
        });
        assert.equal(typeof c.raw, 'string');
        assert.equal(typeof c.fingerprint, 'string');
      },
    ),
    { numRuns: 2000 },
  );
});

test('SQL-ish fragments never throw', () => {
  const token = fc.constantFrom(
    'SELECT',
    'FROM',
    'WHERE',
    'DROP',
    'TABLE',
    'WITH',
    'AS',
    '(',
    ')',
    ';',
    ',',
    "'",
    '"',
    '$$',
    '$a$',
    '--',
    '/*',
    '*/',
    't',
    'x.y',
    '1',
    'PASSWORD',
    "'pw'",
    'CREATE',
    'ALTER',
    'USER',
    'LOGIN',
    'EXECUTE',
    'PREPARE',
    'p',
    'SET',
    'ROLE',
    'COPY',
    'TO',
    'PROGRAM',
    '\n',
    ' ',
    'é',
    "E'\\''",
  );
  fc.assert(
    fc.property(fc.array(token, { maxLength: 30 }), (tokens) => {
      const c = analyzeSql(tokens.join(' '), new PreparedStatements());
      if (c.sql!.parse_error !== undefined) assert.deepEqual(c.sql!.statements, []);
      // A role's password never survives (a typed literal such as SELECT PASSWORD 'pw' is no secret).
      const roles = c.sql!.statements.filter((st) => st.object_type === 'role');
      for (const st of roles) assert.ok(!st.text.includes("'pw'"), `password left in ${st.text}`);
      if (roles.length > 0) assert.ok(!/password\s+'pw'/i.test(c.raw), `password left in ${c.raw}`);
    }),
    {
      numRuns: 1000,
      examples: [
        [['CREATE', 'ROLE', 't', 'LOGIN', 'PASSWORD', "'pw'"]],
        [['ALTER', 'USER', 't', 'PASSWORD', "'pw'", ';', 'SELECT', '1']],
        [['SELECT', 'PASSWORD', "'pw'"]],
      ],
    },
  );
});

test('combinations of known statements keep count, order and indexes', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.constantFrom(...KNOWN), fc.constantFrom(...SEPARATORS)), {
        minLength: 1,
        maxLength: 8,
      }),
      fc.constantFrom('', ' ', '\n  ', '-- lead\n'),
      (parts, lead) => {
        const text = lead + parts.map(([s, sep]) => s + sep).join('');
        const c = analyzeSql(text, new PreparedStatements());
        const statements = c.sql!.statements;
        assert.equal(c.sql!.parse_error, undefined);
        assert.equal(statements.length, parts.length);
        statements.forEach((s, i) => {
          assert.equal(s.index, i);
          const alone = analyzeSql(parts[i]![0], new PreparedStatements()).sql!.statements[0]!;
          assert.equal(s.node, alone.node);
          assert.equal(s.verb, alone.verb);
          assert.equal(s.fingerprint, alone.fingerprint);
          assert.equal(s.text, alone.text);
        });
        assert.ok(!c.raw.includes('secret-value'));
      },
    ),
    { numRuns: 300 },
  );
});
