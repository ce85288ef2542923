import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isReason } from '../../api/errors.ts';
import type { WatchEvent } from '../backend.ts';
import { EtcdBackend } from './etcd.ts';
import { startTestEtcd } from './test-etcd.ts';

test('an etcd watch survives an etcd restart with no gap and no duplicate', async (t) => {
  const etcd = await startTestEtcd();
  t.after(() => etcd.stop());
  const b = new EtcdBackend({ endpoints: etcd.endpoints, prefix: '/restart' });
  t.after(() => b.close());
  const r0 = await b.currentRevision();
  for (let i = 0; i < 5; i++) await b.create(`/k/${i}`, `"${i}"`);
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), 30_000);
  t.after(() => clearTimeout(timer));
  const seen: WatchEvent[] = [];
  const reading = (async () => {
    for await (const ev of b.watch('/k/', { afterRevision: r0, signal: ctl.signal })) {
      seen.push(ev);
      if (seen.length === 10) return;
    }
  })();
  while (seen.length < 5 && !ctl.signal.aborted) await new Promise((r) => setTimeout(r, 10));
  await etcd.restart();
  // Writes retry until the client has reconnected.
  for (let i = 5; i < 10; ) {
    try {
      await b.create(`/k/${i}`, `"${i}"`);
      i++;
    } catch (e) {
      // A create cut off by the restart may have been applied after all.
      if (isReason(e, 'AlreadyExists')) i++;
      else if (ctl.signal.aborted) throw e;
      else await new Promise((r) => setTimeout(r, 100));
    }
  }
  await reading;
  assert.deepEqual(
    seen.map((ev) => ev.kv.modRevision),
    Array.from({ length: 10 }, (_, i) => r0 + 1 + i),
  );
});
