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

  it('keeps revisions, rolls out above a partition only, and deletes claims per retention policy', async () => {
    const sts = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'part' },
      spec: {
        replicas: 3,
        podManagementPolicy: 'Parallel',
        serviceName: 'part',
        selector: { matchLabels: { app: 'part' } },
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } },
        persistentVolumeClaimRetentionPolicy: { whenScaled: 'Delete', whenDeleted: 'Delete' },
        template: {
          metadata: { labels: { app: 'part' } },
          spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: 'vol' },
            spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
          },
        ],
      },
    };
    const parts = async () =>
      (await c.client.list(PODS, { namespace: 'default', labelSelector: 'app=part' })).items.filter(
        (p) => !p.metadata?.deletionTimestamp,
      );
    const image = (ps: Json[], n: string) => ps.find((p) => p.metadata.name === n)?.spec.containers[0].image;
    const get = async () => JSON.parse((await c.kubectl(['get', 'sts', 'part', '-o', 'json'])).stdout);
    const claims = async () =>
      (await c.kubectl(['get', 'pvc', '-o', 'name'])).stdout
        .split('\n')
        .filter((x) => x.includes('vol-part'));
    let r = await c.kubectl(['apply', '-f', '-'], JSON.stringify(sts));
    assert.equal(r.code, 0, r.stderr);
    await until('3 ready', async () => (await parts()).filter(isReady).length === 3);
    const first = (await get()).status;
    assert.equal(first.currentRevision, first.updateRevision);
    assert.match(first.updateRevision, /^part-\w+$/);

    r = await c.kubectl(['set', 'image', 'statefulset/part', 'c=busybox:1.37']);
    assert.equal(r.code, 0, r.stderr);
    r = await c.kubectl(['rollout', 'status', 'statefulset/part', '--timeout=30s']);
    assert.equal(r.code, 0, r.stderr);
    await until('only part-2 updated', async () => {
      const ps = await parts();
      return ps.length === 3 && ps.every(isReady) && image(ps, 'part-2') === 'busybox:1.37';
    });
    let ps = await parts();
    assert.equal(image(ps, 'part-0'), 'busybox:1.36');
    assert.equal(image(ps, 'part-1'), 'busybox:1.36');
    const st = (await get()).status;
    assert.equal(st.currentRevision, first.currentRevision);
    assert.notEqual(st.updateRevision, st.currentRevision);
    assert.equal(st.updatedReplicas, 1);
    assert.equal(st.currentReplicas, 2);
    assert.equal(
      ps.find((p) => p.metadata?.name === 'part-2')!.metadata!.labels!['controller-revision-hash'],
      st.updateRevision,
    );

    // below the partition a lost pod comes back at the current revision
    r = await c.kubectl(['delete', 'pod', 'part-0', '--wait=false']);
    assert.equal(r.code, 0, r.stderr);
    await until('part-0 back', async () => {
      const p = (await parts()).find((x) => x.metadata?.name === 'part-0');
      return !!p && isReady(p) && p.metadata?.labels?.['controller-revision-hash'] === st.currentRevision;
    });
    assert.equal(image(await parts(), 'part-0'), 'busybox:1.36');

    r = await c.kubectl(['rollout', 'history', 'statefulset/part']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^1\s/m);
    assert.match(r.stdout, /^2\s/m);

    r = await c.kubectl([
      'patch',
      'statefulset',
      'part',
      '-p',
      '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}',
    ]);
    assert.equal(r.code, 0, r.stderr);
    await until('all updated, current = update', async () => {
      const s2 = (await get()).status;
      return s2.currentRevision === s2.updateRevision && s2.updatedReplicas === 3 && s2.readyReplicas === 3;
    });
    ps = await parts();
    assert.ok(ps.every((p) => (p.spec as Json).containers[0].image === 'busybox:1.37'));

    // whenScaled: Delete — claims of removed ordinals go; whenDeleted: Delete — the rest go with the set
    assert.equal((await claims()).length, 3);
    r = await c.kubectl(['scale', 'statefulset', 'part', '--replicas=1']);
    assert.equal(r.code, 0, r.stderr);
    await until('claims of part-1 and part-2 deleted', async () => {
      const cl = await claims();
      return cl.length === 1 && cl[0].endsWith('vol-part-0');
    });
    r = await c.kubectl(['delete', 'statefulset', 'part']);
    assert.equal(r.code, 0, r.stderr);
    await until('claim of part-0 deleted with the set', async () => (await claims()).length === 0);
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
