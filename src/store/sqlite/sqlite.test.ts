import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { describeBackend } from '../conformance.ts';
import { SqliteBackend } from './sqlite.ts';

describeBackend('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-sqlite-'));
  return {
    backend: new SqliteBackend(join(dir, 'state.db')),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

test('sqlite keeps data, revision and compaction across reopen', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-sqlite-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'nested', 'state.db');
  const first = new SqliteBackend(path);
  const a = await first.create('/a', '"1"');
  const a2 = await first.update('/a', '"2"', a.modRevision);
  const b = await first.create('/b', '"b"');
  await first.compact(a2.modRevision);
  await first.close();

  const again = new SqliteBackend(path);
  t.after(() => again.close());
  assert.equal(await again.currentRevision(), b.modRevision);
  assert.equal(await again.compactedRevision(), a2.modRevision);
  assert.deepEqual((await again.list('/')).items, [a2, b]);
  const c = await again.create('/c', '"c"');
  assert.equal(c.modRevision, b.modRevision + 1);
});

test('sqlite commits concurrent writes in groups, each failing or succeeding alone', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-sqlite-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const s = new SqliteBackend(join(dir, 'state.db'));
  t.after(() => s.close());
  const results = await Promise.allSettled([
    s.create('/g/a', '"1"'),
    s.create('/g/a', '"dup"'),
    s.create('/g/b', '"2"'),
    s.update('/g/none', '"x"', 1),
    s.delete('/g/b'),
  ]);
  assert.deepEqual(
    results.map((r) => r.status),
    ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled'],
  );
  assert.equal(await s.currentRevision(), 3);
  assert.deepEqual(
    (await s.list('/g/')).items.map((kv) => kv.value),
    ['"1"'],
  );
});

test('sqlite refuses a second opener of the same file while the first is open, and admits it after close', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-sqlite-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'state.db');
  const first = new SqliteBackend(path);
  await first.create('/a', '"1"');
  assert.throws(() => new SqliteBackend(path), {
    message: `${path} is in use by another process (another skiff server on this data dir?)`,
  });
  // the refused opener left the first one working
  await first.create('/b', '"2"');
  await first.close();
  const second = new SqliteBackend(path);
  t.after(() => second.close());
  assert.deepEqual(
    (await second.list('/')).items.map((kv) => kv.value),
    ['"1"', '"2"'],
  );
});
