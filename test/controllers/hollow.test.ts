/** Hollow nodes at a modest scale: 500 nodes register with Leases, and 500 bound pods run. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LEASES, NODES, PODS } from '../../src/client/index.ts';
import { type Cluster, isReady, startCluster, until } from './helpers.ts';

describe('hollow nodes', () => {
  let c: Cluster;
  before(async () => {
    c = await startCluster({
      nodes: 500,
      binder: false,
      manager: { controllers: [] },
      hollow: { leaseRenewMs: 5000 },
    });
  });
  after(async () => {
    await c?.close();
  });

  it('registers every node Ready with a Lease and runs pods bound to them', async () => {
    const nodes = (await c.client.list(NODES)).items;
    assert.equal(nodes.length, 500);
    const leases = (await c.client.list(LEASES, { namespace: 'kube-node-lease' })).items;
    assert.equal(leases.length, 500);
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        c.client.create(PODS, {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: `p-${i}`, namespace: 'default', labels: { app: 'scale' } },
          spec: { nodeName: `hollow-${i}`, containers: [{ name: 'c', image: 'busybox' }] },
        }),
      ),
    );
    await until(
      '500 running pods',
      async () => (await c.client.list(PODS, { namespace: 'default' })).items.filter(isReady).length === 500,
      60_000,
    );
    console.log(`500 pods running on 500 hollow nodes in ${Date.now() - t0} ms`);
    // graceful deletes: the hollow nodes finish them (grace 0) at once
    await Promise.all(
      Array.from({ length: 500 }, (_, i) => c.client.delete(PODS, `p-${i}`, { namespace: 'default' })),
    );
    await until(
      'all pods gone',
      async () => (await c.client.list(PODS, { namespace: 'default' })).items.length === 0,
      60_000,
    );
  });
});
