import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkQueue } from './workqueue.ts';

test('a key added while waiting is queued once, FIFO among keys', async () => {
  const q = new WorkQueue();
  q.add('a');
  q.add('b');
  q.add('a');
  assert.equal(q.length, 2);
  assert.equal(await q.get(), 'a');
  assert.equal(await q.get(), 'b');
  assert.equal(q.length, 0);
});

test('a key being processed is not handed out again until done, then runs again', async () => {
  const q = new WorkQueue();
  q.add('a');
  const k = await q.get();
  assert.equal(k, 'a');
  q.add('a');
  q.add('a');
  assert.equal(q.length, 0, 'dirty while processing, not queued');
  let second: string | undefined;
  const p = q.get().then((v) => {
    second = v;
  });
  await sleep(5);
  assert.equal(second, undefined, 'no second worker gets the key while it is processed');
  q.done('a');
  await p;
  assert.equal(second, 'a');
  q.done('a');
  assert.equal(q.length, 0);
});

test('concurrent workers never process one key at once', async () => {
  const q = new WorkQueue();
  const active = new Set<string>();
  let processed = 0;
  const worker = async () => {
    for (let k = await q.get(); k !== undefined; k = await q.get()) {
      assert.ok(!active.has(k), `key ${k} processed twice at once`);
      active.add(k);
      await sleep(1);
      active.delete(k);
      processed++;
      q.done(k);
    }
  };
  const workers = [worker(), worker(), worker(), worker()];
  for (let i = 0; i < 200; i++) {
    q.add(`k${i % 5}`);
    if (i % 10 === 0) await sleep(1);
  }
  await sleep(30);
  await q.shutDownWithDrain();
  await Promise.all(workers);
  assert.ok(processed >= 5);
});

test('per-key exponential back-off, forget and numRequeues', async () => {
  const q = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 40 });
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((n) => q.backoffFor(n)),
    [10, 20, 40, 40, 40],
  );
  q.addRateLimited('a');
  q.addRateLimited('a');
  assert.equal(q.numRequeues('a'), 2);
  assert.equal(q.length, 0);
  const t0 = Date.now();
  assert.equal(await q.get(), 'a');
  assert.ok(Date.now() - t0 >= 8);
  q.done('a');
  q.forget('a');
  assert.equal(q.numRequeues('a'), 0);
  q.shutDown();
});

test('addAfter delays; shutDown drains queued keys then returns undefined', async () => {
  const q = new WorkQueue();
  q.addAfter('late', 15);
  assert.equal(q.length, 0);
  await sleep(30);
  assert.equal(q.length, 1);
  q.add('x');
  q.addAfter('never', 10);
  q.shutDown();
  q.add('ignored');
  assert.equal(await q.get(), 'late');
  assert.equal(await q.get(), 'x');
  assert.equal(await q.get(), undefined);
  await sleep(20);
  assert.equal(q.length, 0);
});

test('shutDown wakes blocked workers', async () => {
  const q = new WorkQueue();
  const p = q.get();
  q.shutDown();
  assert.equal(await p, undefined);
});

test('addAfter of a key already waiting keeps the earlier time', async () => {
  const q = new WorkQueue();
  q.addAfter('k', 20);
  q.addAfter('k', 200); // later: ignored
  q.addAfter('j', 200);
  q.addAfter('j', 20); // earlier: wins
  await sleep(60);
  assert.equal(q.length, 2);
  assert.equal(await q.get(), 'k');
  assert.equal(await q.get(), 'j');
  q.done('k');
  q.done('j');
  await sleep(200);
  assert.equal(q.length, 0, 'each key was queued once');
  q.shutDown();
});
