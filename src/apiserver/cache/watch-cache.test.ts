import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryBackend } from '../../store/index.ts';
import { RING_SIZE } from './resource-cache.ts';
import { resourcePrefixOfKey, WatchCache } from './watch-cache.ts';

const PREFIX = '/registry/core/configmaps/';

test('a cache read after a write sees it (consistent read), and the ring replays after a revision', async (t) => {
  const b = new MemoryBackend();
  const cache = new WatchCache(b, { objects: true });
  await cache.start();
  t.after(async () => {
    await cache.close();
    await b.close();
  });
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
  const b = new MemoryBackend();
  const cache = new WatchCache(b, { objects: true });
  await cache.start();
  t.after(async () => {
    await cache.close();
    await b.close();
  });
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
  const b = new MemoryBackend();
  const cache = new WatchCache(b);
  await cache.start();
  t.after(async () => {
    await cache.close();
    await b.close();
  });
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
