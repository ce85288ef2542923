/** StatefulSets (ordered, stable names, claims, rolling update) and pod GC on hollow nodes. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { listWatcherFor, PODS, SharedInformer } from '../../src/client/index.ts';
import { type Cluster, isReady, startCluster, until } from './helpers.ts';

type Json = Record<string, any>;

describe('statefulset and podgc controllers', () => {
  let c: Cluster;
  const ac = new AbortController();
  const order: string[] = [];
  before(async () => {
    c = await startCluster({
      manager: { controllers: ['statefulset', 'podgc'], options: { podgc: { periodMs: 300 } } },
    });
    const pods = new SharedInformer(listWatcherFor(c.client, PODS, { namespace: 'default' }));
    pods.addEventHandler({
      add: (p) => order.push(`+${p.metadata!.name}`),
      delete: (p) => order.push(`-${p.metadata!.name}`),
    });
    void pods.start(ac.signal);
    await pods.waitForSync(ac.signal);
  });
  after(async () => {
    ac.abort();
    await c?.close();
  });

  const podsOf = async () =>
    (await c.client.list(PODS, { namespace: 'default', labelSelector: 'app=db' })).items.filter(
      (p) => !p.metadata?.deletionTimestamp,
    );

  it('creates ordinals in order with their claims, scales down from the top, and rolls from the top', async () => {
    const sts = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db' },
      spec: {
        replicas: 3,
        serviceName: 'db',
        selector: { matchLabels: { app: 'db' } },
        template: {
          metadata: { labels: { app: 'db' } },
          spec: { containers: [{ name: 'db', image: 'busybox:1.36' }] },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: 'data' },
            spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
          },
        ],
      },
    };
    let r = await c.kubectl(['apply', '-f', '-'], JSON.stringify(sts));
    assert.equal(r.code, 0, r.stderr);
    r = await c.kubectl(['rollout', 'status', 'statefulset/db', '--timeout=30s']);
    assert.equal(r.code, 0, r.stderr);
    await until('3 ready', async () => (await podsOf()).filter(isReady).length === 3);
    assert.deepEqual(
      order.filter((x) => x.startsWith('+db-')),
      ['+db-0', '+db-1', '+db-2'],
    );
    const pod = (await podsOf()).find((p) => p.metadata!.name === 'db-1')!;
    assert.equal((pod.spec as Json).hostname, 'db-1');
    assert.equal((pod.spec as Json).subdomain, 'db');
    assert.equal(
      (pod.spec as Json).volumes.find((v: Json) => v.name === 'data').persistentVolumeClaim.claimName,
      'data-db-1',
    );
    r = await c.kubectl(['get', 'pvc', '-o', 'name']);
    assert.deepEqual(r.stdout.trim().split('\n').sort(), [
      'persistentvolumeclaim/data-db-0',
      'persistentvolumeclaim/data-db-1',
      'persistentvolumeclaim/data-db-2',
    ]);

    order.length = 0;
    r = await c.kubectl(['set', 'image', 'statefulset/db', 'db=busybox:1.37']);
    assert.equal(r.code, 0, r.stderr);
    r = await c.kubectl(['rollout', 'status', 'statefulset/db', '--timeout=30s']);
    assert.equal(r.code, 0, r.stderr);
    await until('all updated', async () => {
      const ps = await podsOf();
      return (
        ps.length === 3 &&
        ps.every((p) => isReady(p) && (p.spec as Json).containers[0].image === 'busybox:1.37')
      );
    });
    assert.deepEqual(
      order.filter((x) => x.startsWith('-')),
      ['-db-2', '-db-1', '-db-0'],
    );

    order.length = 0;
    r = await c.kubectl(['scale', 'statefulset', 'db', '--replicas=1']);
    assert.equal(r.code, 0, r.stderr);
    await until('1 left', async () => (await podsOf()).length === 1);
    await until('deletions seen', () => order.filter((x) => x.startsWith('-')).length === 2);
    assert.deepEqual(
      order.filter((x) => x.startsWith('-')),
      ['-db-2', '-db-1'],
    );
    assert.equal((await podsOf())[0].metadata!.name, 'db-0');
  });

  it('collects pods bound to nodes that do not exist', async () => {
    await c.client.create(PODS, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'lost', namespace: 'default' },
      spec: { nodeName: 'ghost-node', containers: [{ name: 'c', image: 'busybox' }] },
    });
    await until('the orphan to go', async () => (await c.kubectl(['get', 'pod', 'lost'])).code !== 0);
  });
});
