import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { loadSqlParser } from './analyzer.js';
import { createSqlSession } from './session.js';

before(async () => {
  await loadSqlParser();
});

test('a protocol Parse defines the statement for SQL EXECUTE once applied', () => {
  const session = createSqlSession();
  const parsed = session.parse('s1', 'DELETE FROM orders WHERE id = $1');
  assert.equal(session.query('EXECUTE s1(1)').command.sql!.statements[0]!.prepared_unknown, true);
  parsed.apply();
  const s = session.query('EXECUTE s1(1)').command.sql!.statements[0]!;
  assert.equal(s.writes, true);
  assert.deepEqual(s.dml, [{ verb: 'delete', table: 'orders', has_where: true }]);
  session.closeStatement('s1');
  assert.equal(session.query('EXECUTE s1(1)').command.sql!.statements[0]!.prepared_unknown, true);
});

test('a denied PREPARE (never applied) defines nothing; DEALLOCATE ALL clears protocol statements', () => {
  const session = createSqlSession();
  session.query('PREPARE p AS SELECT 1'); // not applied
  assert.equal(session.prepared.has('p'), false);
  session.parse('s2', 'SELECT 1').apply();
  session.query('DEALLOCATE ALL').apply();
  assert.equal(session.prepared.size, 0);
});
