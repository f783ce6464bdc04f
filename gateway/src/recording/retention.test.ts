import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pruneRecords } from './retention.js';

test('records of sessions older than the retention are removed, newer ones and other files kept', async () => {
  const root = await mkdtemp(join(tmpdir(), 'warden-retention-'));
  try {
    const now = Date.parse('2026-11-22T12:00:00Z');
    for (const day of ['2026-10-01', '2026-11-14', '2026-11-15', '2026-11-22']) {
      await mkdir(join(root, day, 'session-1'), { recursive: true });
      await writeFile(join(root, day, 'session-1', 'events.jsonl'), '{}\n');
    }
    await writeFile(join(root, 'README'), 'not a day folder');
    assert.deepEqual((await pruneRecords(root, 7, now)).sort(), ['2026-10-01', '2026-11-14']);
    assert.deepEqual((await readdir(root)).sort(), ['2026-11-15', '2026-11-22', 'README']);
    assert.deepEqual(await pruneRecords(join(root, 'missing'), 7, now), []);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
