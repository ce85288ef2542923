import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { builtinRegistry } from '../../api/index.ts';
import type { Backend } from '../../store/backend.ts';
import { MemoryBackend, SqliteBackend } from '../../store/index.ts';
import { Objects } from '../objects.ts';
import { RING_SIZE } from './resource-cache.ts';
import { resourcePrefixOfKey, WatchCache } from './watch-cache.ts';

const PREFIX = '/registry/core/configmaps/';

/** A started cache on a backend; both are closed after the test. */
async function startedCache<B extends Backend>(
  t: TestContext,
  b: B,
  opts?: ConstructorParameters<typeof WatchCache>[1],
): Promise<{ b: B; cache: WatchCache }> {
  const cache = new WatchCache(b, opts);
  await cache.start();
  t.after(async () => {
    await cache.close();
    await b.close();
  });
  return { b, cache };
}

test('a cache read after a write sees it (consistent read), and the ring replays after a revision', async (t) => {
  const { b, cache } = await startedCache(t, new MemoryBackend(), { objects: true });
  const first = await b.create(`${PREFIX}default/a`, '{"metadata":{"name":"a"}}');
  const rc = await cache.resource(PREFIX);
  assert.ok(rc);
  assert.equal(
    JSON.parse(rc.get(`${PREFIX}default/a`)!.json).metadata.resourceVersion,
    String(first.modRevision),
  );
  const second = await b.update(
    `${PREFIX}default/a`,
    '{"metadata":{"name":"a"},"data":{"x":"1"}}',
    first.modRevision,
  );
  assert.ok(await cache.fresh());
  assert.equal(rc.get(`${PREFIX}default/a`)!.modRevision, second.modRevision);
  await b.delete(`${PREFIX}default/a`);
  assert.ok(await cache.fresh());
  assert.equal(rc.get(`${PREFIX}default/a`), undefined);
  const evs = rc.eventsAfter(first.modRevision)!;
  assert.deepEqual(
    evs.map((e) => e.type),
    ['MODIFIED', 'DELETED'],
  );
  assert.match(evs[0].line(), /^\{"type":"MODIFIED","object":\{.*"resourceVersion":"\d+"/);
});

test('the ring forgets old events: a watch from before it cannot be served from memory', async (t) => {
  const { b, cache } = await startedCache(t, new MemoryBackend(), { objects: true });
  const rc = await cache.resource(PREFIX);
  assert.ok(rc);
  const start = await b.currentRevision();
  for (let i = 0; i < RING_SIZE + 10; i++) await b.create(`${PREFIX}default/c${i}`, '{}');
  assert.ok(await cache.fresh());
  assert.equal(rc.eventsAfter(start), undefined);
  assert.equal(rc.eventsAfter(rc.ringStart)!.length, RING_SIZE);
  assert.equal(rc.keys(`${PREFIX}default/`).length, RING_SIZE + 10);
});

test('for a store in this process the cache keeps events, not objects, from when a resource is first used', async (t) => {
  const { b, cache } = await startedCache(t, new MemoryBackend());
  assert.equal(cache.holdsObjects, false);
  const before = await b.create(`${PREFIX}default/old`, '{"metadata":{"name":"old"}}');
  assert.ok(await cache.fresh());
  const rc = await cache.resource(PREFIX);
  assert.ok(rc?.loaded);
  assert.equal(rc.holdsObjects, false);
  assert.equal(rc.ringStart, before.modRevision);
  assert.throws(() => rc.get(`${PREFIX}default/old`), /keeps no objects/);
  const a = await b.create(`${PREFIX}default/a`, '{"metadata":{"name":"a","labels":{"x":"1"}}}');
  await b.update(`${PREFIX}default/a`, '{"metadata":{"name":"a","labels":{"x":"2"}}}', a.modRevision);
  await b.delete(`${PREFIX}default/old`);
  assert.ok(await cache.fresh());
  assert.equal(cache.objectCount, 0);
  const evs = rc.eventsAfter(before.modRevision)!;
  assert.deepEqual(
    evs.map((e) => [e.type, e.revision]),
    [
      ['ADDED', a.modRevision],
      ['MODIFIED', a.modRevision + 1],
      ['DELETED', a.modRevision + 2],
    ],
  );
  // the object before a change comes from the store's event, with its own resourceVersion
  assert.deepEqual(evs[1].prev?.metadata, {
    name: 'a',
    labels: { x: '1' },
    resourceVersion: String(a.modRevision),
  });
  assert.equal(evs[1].obj.metadata?.resourceVersion, String(a.modRevision + 1));
  assert.equal(evs[2].prev?.metadata?.name, 'old');
  assert.equal(
    rc.eventsAfter(before.modRevision - 1),
    undefined,
    'the ring starts when the resource was first used',
  );
  // what the server reads on most requests stays in memory
  await b.create('/registry/core/namespaces/default', '{"metadata":{"name":"default"}}');
  const ns = await cache.resource('/registry/core/namespaces/');
  assert.ok(ns?.holdsObjects);
  assert.ok(await cache.fresh());
  assert.equal(ns.keys('/registry/core/namespaces/').length, 1);
});

test('resourcePrefixOfKey', () => {
  assert.equal(resourcePrefixOfKey('/registry/core/pods/ns/a'), '/registry/core/pods/');
  assert.equal(resourcePrefixOfKey('/registry/core/namespaces/a'), '/registry/core/namespaces/');
  assert.equal(resourcePrefixOfKey('/registry/x'), undefined);
});

// Recently read objects (a store in this process): a get answered from memory is never older
// than a store read would be, right after writes that went straight to the store, on both
// in-process stores (SQLite acknowledges a write after its fsync, and the cache hears of it
// after that; the memory store at once).
for (const store of ['memory', 'sqlite'] as const) {
  test(`recently read objects (${store}): never older than the store, dropped on change and delete, bounded`, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'skiff-recent-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const backend = store === 'memory' ? new MemoryBackend() : new SqliteBackend(join(dir, 'state.db'));
    const { b, cache } = await startedCache(t, backend, { recentReadsBudget: 64 * 1024 });
    const def = builtinRegistry().byResource('', 'v1', 'configmaps')!;
    const objects = new Objects(b, { cache });
    const key = objects.key(def, 'default', 'a');
    const rvOf = (json: string | undefined) => Number(JSON.parse(json!).metadata.resourceVersion);
    let kv = await b.create(key, JSON.stringify({ metadata: { name: 'a' }, data: { n: '0' } }));
    assert.ok(await cache.fresh());
    assert.equal(rvOf((await objects.getJson(def, 'default', 'a'))?.json), kv.modRevision);
    assert.equal(cache.recentReads.count, 1, 'a read is remembered');
    const hit = await objects.getJson(def, 'default', 'a');
    assert.equal(rvOf(hit?.json), kv.modRevision);
    for (let i = 1; i <= 50; i++) {
      kv = await b.update(
        key,
        JSON.stringify({ metadata: { name: 'a' }, data: { n: String(i) } }),
        kv.modRevision,
      );
      // at once, whether or not the cache has heard of the write yet
      const got = await objects.getJson(def, 'default', 'a');
      assert.equal(rvOf(got?.json), kv.modRevision, `read after write ${i}`);
      assert.equal(JSON.parse(got!.json).data.n, String(i));
      // and again, now possibly from memory
      assert.equal(rvOf((await objects.getJson(def, 'default', 'a'))?.json), kv.modRevision);
    }
    await b.delete(key);
    assert.equal(await objects.getJson(def, 'default', 'a'), undefined, 'deleted');
    assert.ok(await cache.fresh());
    assert.equal(
      await objects.getJson(def, 'default', 'a'),
      undefined,
      'deleted, once the cache heard of it',
    );
    // bounded: 200 objects of ~1 KiB read into a 64 KiB budget
    const pad = 'x'.repeat(1000);
    for (let i = 0; i < 200; i++)
      await b.create(
        objects.key(def, 'default', `p${i}`),
        JSON.stringify({ metadata: { name: `p${i}` }, data: { pad } }),
      );
    assert.ok(await cache.fresh());
    for (let i = 0; i < 200; i++) assert.ok(await objects.getJson(def, 'default', `p${i}`));
    const { count, size } = cache.recentReads;
    assert.ok(size <= 64 * 1024 && count > 30 && count < 70, `count ${count}, size ${size}`);
  });
}

test('a remote store (the cache keeps every object) remembers no reads', async (t) => {
  const { b, cache } = await startedCache(t, new MemoryBackend(), { objects: true });
  const def = builtinRegistry().byResource('', 'v1', 'configmaps')!;
  const objects = new Objects(b, { cache });
  await b.create(objects.key(def, 'default', 'a'), '{"metadata":{"name":"a"}}');
  assert.ok(await objects.getJson(def, 'default', 'a'));
  assert.equal(cache.recentReads.count, 0);
});
