/** ReplicaSets through the real kubectl: pods created, owned, replaced, scaled, adopted. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PODS } from '../../src/client/index.ts';
import { type Cluster, isReady, startCluster, until } from './helpers.ts';

type Json = Record<string, any>;

describe('replicaset controller', () => {
  let c: Cluster;
  before(async () => {
    c = await startCluster({ manager: { controllers: ['replicaset'] } });
  });
  after(async () => {
    await c?.close();
  });

  const rs = (name: string, replicas: number) =>
    JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name },
      spec: {
        replicas,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: [{ name: 'c', image: 'busybox' }] },
        },
      },
    });
  const podsOf = async (app: string) =>
    (await c.client.list(PODS, { namespace: 'default', labelSelector: `app=${app}` })).items;

  it('creates owned pods that hollow nodes run, and reports status', async () => {
    const r = await c.kubectl(['apply', '-f', '-'], rs('web', 3));
    assert.equal(r.code, 0, r.stderr);
    await until('3 ready pods', async () => (await podsOf('web')).filter(isReady).length === 3);
    const pods = await podsOf('web');
    assert.equal(pods.length, 3);
    for (const p of pods) {
      const ref = p.metadata!.ownerReferences![0];
      assert.equal(ref.kind, 'ReplicaSet');
      assert.equal(ref.controller, true);
      assert.equal(ref.blockOwnerDeletion, true);
      assert.match((p.status as Json).podIP, /^10\.\d+\.\d+\.\d+$/);
    }
    await until('status', async () => {
      const out = await c.kubectl(['get', 'rs', 'web', '-o', 'json']);
      const s = JSON.parse(out.stdout).status ?? {};
      return (
        s.replicas === 3 && s.readyReplicas === 3 && s.availableReplicas === 3 && s.fullyLabeledReplicas === 3
      );
    });
  });

  it('replaces a deleted pod and scales up and down with kubectl scale', async () => {
    const victim = (await podsOf('web'))[0].metadata!.name!;
    let r = await c.kubectl(['delete', 'pod', victim, '--wait=false']);
    assert.equal(r.code, 0, r.stderr);
    await until('a replacement', async () => {
      const ps = await podsOf('web');
      return ps.filter(isReady).length === 3 && !ps.some((p) => p.metadata!.name === victim);
    });
    r = await c.kubectl(['scale', 'rs', 'web', '--replicas=5']);
    assert.equal(r.code, 0, r.stderr);
    await until('5 ready pods', async () => (await podsOf('web')).filter(isReady).length === 5);
    r = await c.kubectl(['scale', 'rs', 'web', '--replicas=1']);
    assert.equal(r.code, 0, r.stderr);
    await until('1 pod left', async () => (await podsOf('web')).length === 1);
  });

  it('adopts a matching orphan instead of creating a pod', async () => {
    await c.client.create(PODS, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'orphan', namespace: 'default', labels: { app: 'adopt' } },
      spec: { containers: [{ name: 'c', image: 'busybox' }] },
    });
    const r = await c.kubectl(['apply', '-f', '-'], rs('adopt', 1));
    assert.equal(r.code, 0, r.stderr);
    await until('the orphan adopted', async () => {
      const p = await c.client.get(PODS, 'orphan', { namespace: 'default' });
      return p.metadata?.ownerReferences?.[0]?.name === 'adopt';
    });
    await new Promise((res) => setTimeout(res, 500));
    assert.equal((await podsOf('adopt')).length, 1);
  });
});
