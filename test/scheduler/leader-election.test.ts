/** Two schedulers with leader election: only the Lease holder binds; the other takes over when it stops. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LEASES, PODS } from '../../src/client/index.ts';
import { startScheduler } from '../../src/scheduler/index.ts';
import { startCluster } from './helpers.ts';

test('only the leader schedules; the standby takes over the Lease when the leader stops', async (t) => {
  const c = await startCluster(t, {}, false);
  await c.addNode('n1');
  const ready: string[] = [];
  const stops: AbortController[] = [];
  const runs: Promise<void>[] = [];
  t.after(async () => {
    for (const s of stops) s.abort();
    await Promise.allSettled(runs);
  });
  for (const identity of ['a', 'b']) {
    const ac = new AbortController();
    stops.push(ac);
    runs.push(
      startScheduler(
        {
          client: c.client,
          leaderElection: { identity, leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 200 },
          onReady: () => ready.push(identity),
        },
        ac.signal,
      ),
    );
  }
  const pod = (name: string) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { containers: [{ name: 'c', image: 'busybox' }] },
  });
  await c.client.create(PODS, pod('p1') as never);
  assert.equal(await c.until('p1 bound', () => c.nodeOf('p1')), 'n1');
  assert.equal(ready.length, 1, 'one leader');
  const leader = ready[0];
  const lease = (await c.client.get(LEASES, 'kube-scheduler', { namespace: 'kube-system' })) as {
    spec?: { holderIdentity?: string };
  };
  assert.equal(lease.spec?.holderIdentity, leader);

  // The leader stops (releasing the Lease); the standby takes over and schedules.
  stops[leader === 'a' ? 0 : 1].abort();
  await runs[leader === 'a' ? 0 : 1];
  await c.client.create(PODS, pod('p2') as never);
  assert.equal(await c.until('p2 bound', () => c.nodeOf('p2')), 'n1');
  assert.deepEqual(ready, [leader, leader === 'a' ? 'b' : 'a']);
});
