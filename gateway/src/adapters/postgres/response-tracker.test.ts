import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ResponseTracker } from './response-tracker.js';

const T = (c: string) => c.charCodeAt(0);
const Z = (status = 'I') => Buffer.from(status);
const none = Buffer.alloc(0);

describe('response tracker', () => {
  test('the error of a replaced simple query becomes the denial; everything else is forwarded', () => {
    const t = new ResponseTracker();
    t.expect({ kind: 'query', denial: null });
    t.expect({ kind: 'query', denial: 'DROP statements are not allowed' });
    assert.deepEqual(t.receive(T('T'), none), { kind: 'forward' });
    assert.deepEqual(t.receive(T('C'), none), { kind: 'forward' });
    assert.deepEqual(t.receive(T('Z'), Z()), { kind: 'ready', status: T('I') });
    assert.deepEqual(t.receive(T('E'), none), {
      kind: 'deny',
      message: 'DROP statements are not allowed',
    });
    assert.deepEqual(t.receive(T('Z'), Z('E')), { kind: 'ready', status: T('E') });
    assert.equal(t.outstanding, 0);
  });

  test('pipelined extended batches: the denied Parse is the one whose error is replaced', () => {
    const t = new ResponseTracker();
    for (const denial of [null, 'TRUNCATE is not allowed']) {
      t.expect({ kind: 'parse', denial });
      t.expect({ kind: 'bind' });
      t.expect({ kind: 'describe', target: 'P' });
      t.expect({ kind: 'execute' });
      t.expect({ kind: 'sync' });
    }
    for (const m of ['1', '2', 'T', 'D', 'D', 'C'])
      assert.equal(t.receive(T(m), none).kind, 'forward');
    assert.equal(t.receive(T('Z'), Z()).kind, 'ready');
    assert.deepEqual(t.receive(T('E'), none), { kind: 'deny', message: 'TRUNCATE is not allowed' });
    assert.equal(t.receive(T('Z'), Z()).kind, 'ready');
    assert.equal(t.outstanding, 0);
  });

  test('an earlier error in the same batch means the denied Parse never ran: that error passes unchanged', () => {
    const t = new ResponseTracker();
    t.expect({ kind: 'parse', denial: null });
    t.expect({ kind: 'bind' });
    t.expect({ kind: 'execute' });
    t.expect({ kind: 'parse', denial: 'denied' });
    t.expect({ kind: 'sync' });
    t.receive(T('1'), none);
    assert.deepEqual(t.receive(T('E'), none), { kind: 'forward' }, 'the bind failed');
    assert.equal(t.receive(T('Z'), Z()).kind, 'ready');
    assert.equal(t.outstanding, 0);
  });

  test('messages sent after a failure but before Sync are not awaited', () => {
    const t = new ResponseTracker();
    t.expect({ kind: 'parse', denial: 'denied' });
    assert.equal(t.receive(T('E'), none).kind, 'deny');
    t.expect({ kind: 'bind' });
    t.expect({ kind: 'execute' });
    t.expect({ kind: 'sync' });
    assert.equal(t.outstanding, 1);
    assert.equal(t.receive(T('Z'), Z()).kind, 'ready');
    t.expect({ kind: 'parse', denial: null });
    assert.equal(t.outstanding, 1, 'after Sync, messages are awaited again');
  });

  test('asynchronous notices and notifications do not disturb the order', () => {
    const t = new ResponseTracker();
    t.expect({ kind: 'parse', denial: 'denied' });
    t.expect({ kind: 'sync' });
    assert.equal(t.receive(T('N'), none).kind, 'forward');
    assert.equal(t.receive(T('A'), none).kind, 'forward');
    assert.equal(t.receive(T('E'), none).kind, 'deny');
  });
});
