import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { serialize } from 'pg-protocol';
import { FrameError, FrameReader } from './frames.js';
import { decodeParse, decodeQuery, decodeStartup } from './frontend.js';

describe('frame reader', () => {
  test('splits messages however the bytes are chunked', () => {
    const stream = Buffer.concat([
      serialize.query('SELECT 1'),
      serialize.parse({ name: 's1', text: 'SELECT $1', types: [] }),
      serialize.sync(),
    ]);
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: stream.length }), { maxLength: 10 }),
        (cuts) => {
          const reader = new FrameReader(1 << 20);
          const points = [...new Set(cuts)].sort((a, b) => a - b);
          const frames = [];
          let from = 0;
          for (const to of [...points, stream.length]) {
            reader.push(stream.subarray(from, to));
            from = to;
            for (let f = reader.next(); f; f = reader.next()) frames.push(f);
          }
          assert.deepEqual(
            frames.map((f) => String.fromCharCode(f.type)),
            ['Q', 'P', 'S'],
          );
          assert.equal(decodeQuery(frames[0]!.body), 'SELECT 1');
          assert.deepEqual(decodeParse(frames[1]!.body), { name: 's1', query: 'SELECT $1' });
          assert.equal(reader.pending, 0);
        },
      ),
    );
  });

  test('a length below 4 or above the limit is a protocol violation', () => {
    const tooBig = Buffer.from([0x51, 0x7f, 0xff, 0xff, 0xff]);
    const reader = new FrameReader(1024);
    reader.push(tooBig);
    assert.throws(() => reader.next(), FrameError);
    const negative = new FrameReader(1024);
    negative.push(Buffer.from([0x51, 0, 0, 0, 3]));
    assert.throws(() => negative.next(), FrameError);
  });

  test('random bytes never throw anything but FrameError, in the startup phase and after', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, typed) => {
        const reader = new FrameReader(10_000, typed);
        reader.push(Buffer.from(bytes));
        try {
          for (let f = reader.next(); f; f = reader.next()) {
            if (!typed) decodeStartup(f.body);
            else if (f.type === 0x51) decodeQuery(f.body);
            else if (f.type === 0x50) decodeParse(f.body);
          }
        } catch (err) {
          assert.ok(
            err instanceof FrameError,
            `unexpected ${(err as Error).name}: ${(err as Error).message}`,
          );
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('startup messages decode', () => {
    const startup = serialize.startup({
      user: 'agent',
      database: 'orders-db',
      application_name: 'psql',
    });
    const m = decodeStartup(startup.subarray(4));
    assert.equal(m.kind, 'startup');
    assert.ok(m.kind === 'startup' && m.parameters.get('database') === 'orders-db');
    assert.equal(decodeStartup(serialize.requestSsl().subarray(4)).kind, 'ssl');
    const cancel = decodeStartup(serialize.cancel(1234, 5678).subarray(4));
    assert.ok(
      cancel.kind === 'cancel' &&
        cancel.processId === 1234 &&
        cancel.secretKey.readInt32BE(0) === 5678,
    );
  });
});
