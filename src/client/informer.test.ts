import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeObject } from '../api/resource.ts';
import { FakeListWatcher } from './fake-list-watcher.ts';
import { SharedInformer, stripManagedFields } from './informer.ts';

function pod(ns: string, name: string, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: ns, name, labels } };
}

async function until(cond: () => boolean, what: string, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

function recorder(inf: SharedInformer) {
  const events: string[] = [];
  inf.addEventHandler({
    add: (o, initial) => events.push(`add ${o.metadata?.name}${initial ? ' (initial)' : ''}`),
    update: (o, n) =>
      events.push(
        `update ${n.metadata?.name} ${o.metadata?.resourceVersion}->${n.metadata?.resourceVersion}`,
      ),
    delete: (o) => events.push(`delete ${o.metadata?.name}`),
  });
  return events;
}

test('lists page by page, syncs, then sees watch events in order', async (t) => {
  const lw = new FakeListWatcher();
  for (let i = 0; i < 7; i++) lw.create(pod(i % 2 ? 'a' : 'b', `p${i}`));
  const inf = new SharedInformer(lw, { pageSize: 3, backoffMs: 5 });
  const events = recorder(inf);
  const ac = new AbortController();
  t.after(() => ac.abort());
  const running = inf.start(ac.signal);
  assert.equal(await inf.waitForSync(ac.signal), true);
  assert.equal(inf.hasSynced(), true);
  assert.equal(inf.store.size, 7);
  assert.equal(lw.listCalls, 3, 'three pages of at most 3');
  assert.equal(events.filter((e) => e.endsWith('(initial)')).length, 7);
  assert.deepEqual(
    inf.store
      .byIndex('namespace', 'a')
      .map((p) => p.metadata?.name)
      .sort(),
    ['p1', 'p3', 'p5'],
  );

  events.length = 0;
  const p7 = lw.create(pod('a', 'p7'));
  lw.update({ ...p7, spec: { x: 1 } });
  lw.remove(pod('b', 'p0'));
  await until(() => events.length === 3, '3 events');
  assert.deepEqual(events, ['add p7', 'update p7 8->9', 'delete p0']);
  assert.equal(inf.lastResourceVersion, '10');
  ac.abort();
  await running;
});

test('a dropped watch resumes from the last resourceVersion: nothing missed, nothing repeated', async (t) => {
  const lw = new FakeListWatcher();
  lw.create(pod('d', 'x'));
  const inf = new SharedInformer(lw, { backoffMs: 5 });
  const events = recorder(inf);
  const ac = new AbortController();
  t.after(() => ac.abort());
  const running = inf.start(ac.signal);
  await inf.waitForSync(ac.signal);
  lw.create(pod('d', 'y'));
  await until(() => events.length === 2, 'add y');
  lw.dropWatches();
  // changes while no watch is open
  lw.create(pod('d', 'z'));
  lw.remove(pod('d', 'x'));
  await until(() => events.length === 4, 'events after resume');
  assert.deepEqual(events, ['add x (initial)', 'add y', 'add z', 'delete x']);
  assert.equal(lw.listCalls, 1, 'no relist');
  assert.deepEqual(lw.watchCalls.slice(0, 2), ['1', '2']);
  lw.bookmark();
  await until(() => lw.watchCalls.length >= 2 && inf.lastResourceVersion === '4', 'bookmark');
  ac.abort();
  await running;
});

for (const goneAsThrow of [false, true]) {
  test(`410 (${goneAsThrow ? 'thrown' : 'ERROR event'}) relists and reconciles the cache`, async (t) => {
    const lw = new FakeListWatcher();
    lw.goneAsThrow = goneAsThrow;
    const a = lw.create(pod('n', 'a'));
    lw.create(pod('n', 'b'));
    const inf = new SharedInformer(lw, { backoffMs: 5 });
    const events = recorder(inf);
    const ac = new AbortController();
    t.after(() => ac.abort());
    const running = inf.start(ac.signal);
    await inf.waitForSync(ac.signal);
    await until(() => lw.watchCalls.length === 1, 'first watch');
    lw.dropWatches();
    lw.update({ ...a, spec: { v: 2 } });
    lw.remove(pod('n', 'b'));
    lw.create(pod('n', 'c'));
    lw.compact();
    await until(() => events.length === 5, 'relist diff');
    assert.deepEqual(events.slice(2).sort(), ['add c', 'delete b', 'update a 1->3']);
    assert.equal(lw.listCalls, 2);
    assert.deepEqual(inf.store.keys().sort(), ['n/a', 'n/c']);
    lw.create(pod('n', 'd'));
    await until(() => events.length === 6, 'watch after relist');
    assert.equal(events[5], 'add d');
    ac.abort();
    await running;
  });
}

test('periodic resync sends update(obj, obj); late handlers get the cache as adds', async (t) => {
  const lw = new FakeListWatcher();
  lw.create(pod('n', 'a'));
  const inf = new SharedInformer(lw, {
    resyncPeriodMs: 20,
    backoffMs: 5,
    indexers: { app: (o) => [o.metadata?.labels?.app ?? ''] },
  });
  const ac = new AbortController();
  t.after(() => ac.abort());
  const running = inf.start(ac.signal);
  await inf.waitForSync(ac.signal);
  const events = recorder(inf);
  assert.deepEqual(events, ['add a (initial)']);
  await until(() => events.includes('update a 1->1'), 'resync');
  lw.create(pod('n', 'b', { app: 'web' }));
  await until(() => inf.store.byIndex('app', 'web').length === 1, 'custom index');
  ac.abort();
  await running;
});

test('waitForSync resolves false when aborted before sync', async () => {
  const inf = new SharedInformer({
    list: () => new Promise<never>(() => {}),
    watch: async function* () {},
  });
  const ac = new AbortController();
  const p = inf.waitForSync(ac.signal);
  ac.abort();
  assert.equal(await p, false);
});

test('a transform applies to listed and watched objects before caching (stripManagedFields)', async (t) => {
  const lw = new FakeListWatcher();
  const withFields = (name: string) => {
    const p = pod('a', name);
    p.metadata!.managedFields = [{ manager: 'kubectl', operation: 'Update' }];
    return p;
  };
  lw.create(withFields('listed'));
  const inf = new SharedInformer(lw, { transform: stripManagedFields, backoffMs: 5 });
  const seen: (KubeObject | undefined)[] = [];
  inf.addEventHandler({ add: (o) => seen.push(o), update: (_, n) => seen.push(n) });
  const ac = new AbortController();
  t.after(() => ac.abort());
  void inf.start(ac.signal);
  await inf.waitForSync(ac.signal);
  lw.create(withFields('watched'));
  await until(() => inf.store.size === 2, 'the watched pod');
  for (const key of ['a/listed', 'a/watched']) {
    const o = inf.store.get(key)!;
    assert.equal(o.metadata?.managedFields, undefined, key);
    assert.equal(o.metadata?.name, key.slice(2));
  }
  assert.equal(seen.length, 2);
  assert.ok(seen.every((o) => o?.metadata?.managedFields === undefined));
});
