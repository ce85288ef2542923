import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { alreadyExists, conflict } from '../api/errors.ts';
import { type LeaseClient, microTime, runWhenLeader } from './leader-election.ts';

/** An in-memory lease store with resourceVersion checks; `failFor` makes one identity's writes fail. */
class FakeLeases implements LeaseClient {
  lease: Lease | undefined;
  rv = 0;
  failFor = '';
  async get(): Promise<Lease | undefined> {
    return this.lease && structuredClone(this.lease);
  }
  async create(l: Lease): Promise<Lease> {
    if (this.lease) throw alreadyExists({ group: 'coordination.k8s.io', kind: 'leases' }, l.metadata!.name!);
    return this.#store(l);
  }
  async update(l: Lease): Promise<Lease> {
    if (this.failFor && l.spec?.holderIdentity === this.failFor) throw new Error('network down');
    if (l.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion) {
      throw conflict({ group: 'coordination.k8s.io', kind: 'leases' }, l.metadata!.name!, 'stale');
    }
    return this.#store(l);
  }
  #store(l: Lease): Lease {
    this.lease = structuredClone(l);
    this.lease.metadata = { ...this.lease.metadata, resourceVersion: String(++this.rv) };
    return structuredClone(this.lease);
  }
}

const timings = { leaseDurationMs: 1000, renewDeadlineMs: 300, retryPeriodMs: 40 };

async function until(cond: () => boolean, what: string, ms = 4000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

test('microTime has microseconds', () => {
  assert.equal(microTime(Date.UTC(2024, 0, 2, 3, 4, 5, 678)), '2024-01-02T03:04:05.678000Z');
});

test('two candidates: one leads; on failed renewals it steps down and the other takes over after expiry; release hands over at once', async (t) => {
  const store = new FakeLeases();
  const leading = new Set<string>();
  const log: string[] = [];
  const controllers: AbortController[] = [];
  t.after(() => {
    for (const c of controllers) c.abort();
  });
  const candidate = (identity: string) => {
    const ac = new AbortController();
    controllers.push(ac);
    const done = runWhenLeader(
      { client: store, namespace: 'kube-system', name: 'sched', identity, ...timings },
      ac.signal,
      {
        onStartedLeading(signal) {
          assert.equal(leading.size, 0, `${identity} leads while ${[...leading]} leads`);
          leading.add(identity);
          log.push(`start ${identity}`);
          signal.addEventListener('abort', () => leading.delete(identity));
        },
        onStoppedLeading() {
          leading.delete(identity);
          log.push(`stop ${identity}`);
        },
      },
    );
    return { ac, done };
  };

  const a = candidate('a');
  await until(() => leading.has('a'), 'a leads');
  const b = candidate('b');
  await sleep(150);
  assert.deepEqual([...leading], ['a'], 'b waits while a renews');
  assert.equal(store.lease?.spec?.holderIdentity, 'a');
  assert.equal(store.lease?.spec?.leaseDurationSeconds, 1);
  assert.equal(store.lease?.spec?.leaseTransitions, 0);

  const tStop = Date.now();
  store.failFor = 'a';
  await a.done; // a gives up after renewDeadline
  assert.ok(Date.now() - tStop >= 250, 'a kept leading until renewDeadline');
  assert.deepEqual(log, ['start a', 'stop a']);
  await until(() => leading.has('b'), 'b takes over the expired lease');
  const renewA = Date.parse(store.lease!.spec!.acquireTime!);
  assert.ok(renewA - tStop >= 600, 'b waited for the lease to expire');
  assert.equal(store.lease?.spec?.holderIdentity, 'b');
  assert.equal(store.lease?.spec?.leaseTransitions, 1);

  const c = candidate('c');
  await sleep(100);
  assert.ok(!leading.has('c'));
  const tRelease = Date.now();
  b.ac.abort();
  await b.done;
  assert.equal(log.at(-1), 'stop b');
  await until(() => leading.has('c'), 'c takes the released lease');
  assert.ok(Date.now() - tRelease < 500, 'released lease is taken without waiting for expiry');
  c.ac.abort();
  await c.done;
  assert.equal(store.lease?.spec?.holderIdentity, '');
});
