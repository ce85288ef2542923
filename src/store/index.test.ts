import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openBackend, startTestEtcd } from './index.ts';

test('openBackend picks the backend by URL scheme', async (t) => {
  const mem = await openBackend('memory://');
  t.after(() => mem.close());
  assert.equal(mem.name, 'memory');

  const dir = await mkdtemp(join(tmpdir(), 'skiff-open-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const lite = await openBackend(`sqlite://${join(dir, 'state.db')}?synchronous=normal`);
  t.after(() => lite.close());
  assert.equal(lite.name, 'sqlite');
  assert.equal((await lite.create('/x', '"y"')).modRevision, 1);

  await assert.rejects(openBackend('sqlite://relative.db'), /absolute file path/);
  await assert.rejects(openBackend('nosuch://x'), /unknown store URL/);
});

test('openBackend opens etcd URLs with a key prefix', async (t) => {
  const etcd = await startTestEtcd();
  t.after(() => etcd.stop());
  const a = await openBackend(`${etcd.url}?prefix=/one`);
  t.after(() => a.close());
  const b = await openBackend(`${etcd.url},${etcd.url.slice('etcd://'.length)}?prefix=/two`);
  t.after(() => b.close());
  assert.equal(a.name, 'etcd');
  await a.create('/registry/x', '"a"');
  await b.create('/registry/x', '"b"');
  assert.equal((await a.get('/registry/x')).kv?.value, '"a"');
  assert.deepEqual(
    (await b.list('/registry/')).items.map((kv) => kv.value),
    ['"b"'],
  );
  await assert.rejects(openBackend('etcd://'), /host:port/);
});
