import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Compactor } from './compactor.ts';
import { MemoryBackend } from './memory/memory.ts';

test('the compactor compacts at the revision seen one interval earlier', async (t) => {
  const b = new MemoryBackend();
  t.after(() => b.close());
  await b.create('/a', '"1"');
  const ctl = new AbortController();
  t.after(() => ctl.abort());
  const errors: unknown[] = [];
  const running = new Compactor(b, { intervalMs: 30, onError: (e) => errors.push(e) }).start(ctl.signal);
  await new Promise((r) => setTimeout(r, 10));
  await b.create('/b', '"2"'); // revision 2, written after the first tick saw revision 1
  const deadline = Date.now() + 5000;
  while ((await b.compactedRevision()) < 2 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 10));
  assert.equal(await b.compactedRevision(), 2);
  ctl.abort();
  await running;
  assert.deepEqual(errors, []);
  assert.equal((await b.list('/')).items.length, 2, 'the current state is kept');
});
