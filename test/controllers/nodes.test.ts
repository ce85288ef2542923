/** DaemonSets (one pod per node) and node failure (unreachable taint, eviction, replacement) on hollow nodes. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NODES, PODS } from '../../src/client/index.ts';
import { type Cluster, isReady, startCluster, until } from './helpers.ts';

type Json = Record<string, any>;

describe('daemonset and node lifecycle controllers', () => {
  let c: Cluster;
  before(async () => {
    c = await startCluster({
      nodes: 3,
      manager: {
        controllers: ['replicaset', 'deployment', 'daemonset', 'nodelifecycle'],
        options: { nodelifecycle: { gracePeriodMs: 2000 } },
      },
    });
  });
  after(async () => {
    await c?.close();
  });

  const podsOf = async (sel: string) =>
    (await c.client.list(PODS, { namespace: 'default', labelSelector: sel })).items.filter(
      (p) => !p.metadata?.deletionTimestamp,
    );

  it('lands one daemon pod per node, and rolls out a new template', async () => {
    const ds = {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'agent' },
      spec: {
        selector: { matchLabels: { app: 'agent' } },
        template: {
          metadata: { labels: { app: 'agent' } },
          spec: { containers: [{ name: 'a', image: 'busybox:1.36' }] },
        },
      },
    };
    let r = await c.kubectl(['apply', '-f', '-'], JSON.stringify(ds));
    assert.equal(r.code, 0, r.stderr);
    r = await c.kubectl(['rollout', 'status', 'daemonset/agent', '--timeout=30s']);
    assert.equal(r.code, 0, r.stderr);
    const pods = await podsOf('app=agent');
    assert.deepEqual(pods.map((p) => (p.spec as Json).nodeName).sort(), ['hollow-0', 'hollow-1', 'hollow-2']);
    assert.ok(pods.every(isReady));
    const tol = (pods[0].spec as Json).tolerations.map((t: Json) => t.key);
    assert.ok(tol.includes('node.kubernetes.io/unreachable'));
    r = await c.kubectl(['set', 'image', 'daemonset/agent', 'a=busybox:1.37']);
    assert.equal(r.code, 0, r.stderr);
    r = await c.kubectl(['rollout', 'status', 'daemonset/agent', '--timeout=30s']);
    assert.equal(r.code, 0, r.stderr);
    await until('new images on all nodes', async () => {
      const ps = await podsOf('app=agent');
      return (
        ps.length === 3 &&
        ps.every((p) => (p.spec as Json).containers[0].image === 'busybox:1.37' && isReady(p))
      );
    });

    // ControllerRevisions: two, numbered, named by the pods' hash; history and undo through kubectl
    const revs = JSON.parse(
      (await c.kubectl(['get', 'controllerrevisions', '-l', 'app=agent', '-o', 'json'])).stdout,
    ).items as Json[];
    assert.deepEqual(revs.map((x) => x.revision).sort(), [1, 2]);
    const newest = revs.find((x) => x.revision === 2)!;
    const hash = newest.metadata.labels['controller-revision-hash'];
    assert.equal(newest.metadata.name, `agent-${hash}`);
    assert.ok(
      (await podsOf('app=agent')).every((p) => p.metadata?.labels?.['controller-revision-hash'] === hash),
    );
    r = await c.kubectl(['rollout', 'history', 'daemonset/agent']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^1\s/m);
    assert.match(r.stdout, /^2\s/m);
    r = await c.kubectl(['rollout', 'undo', 'daemonset/agent']);
    assert.equal(r.code, 0, r.stderr);
    r = await c.kubectl(['rollout', 'status', 'daemonset/agent', '--timeout=30s']);
    assert.equal(r.code, 0, r.stderr);
    await until('old image back on all nodes', async () => {
      const ps = await podsOf('app=agent');
      return (
        ps.length === 3 &&
        ps.every((p) => (p.spec as Json).containers[0].image === 'busybox:1.36' && isReady(p))
      );
    });
    // the undone-to revision is renumbered, not copied
    const after = JSON.parse(
      (await c.kubectl(['get', 'controllerrevisions', '-l', 'app=agent', '-o', 'json'])).stdout,
    ).items as Json[];
    assert.deepEqual(after.map((x) => x.revision).sort(), [2, 3]);
  });

  it('runs daemon pods only on nodes matching the template node affinity', async () => {
    const ds = {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'picky' },
      spec: {
        selector: { matchLabels: { app: 'picky' } },
        template: {
          metadata: { labels: { app: 'picky' } },
          spec: {
            affinity: {
              nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                  nodeSelectorTerms: [
                    {
                      matchExpressions: [
                        { key: 'kubernetes.io/hostname', operator: 'NotIn', values: ['hollow-1'] },
                      ],
                    },
                  ],
                },
              },
            },
            containers: [{ name: 'a', image: 'busybox:1.36' }],
          },
        },
      },
    };
    let r = await c.kubectl(['apply', '-f', '-'], JSON.stringify(ds));
    assert.equal(r.code, 0, r.stderr);
    r = await c.kubectl(['rollout', 'status', 'daemonset/picky', '--timeout=30s']);
    assert.equal(r.code, 0, r.stderr);
    const pods = await podsOf('app=picky');
    assert.deepEqual(pods.map((p) => (p.spec as Json).nodeName).sort(), ['hollow-0', 'hollow-2']);
    const got = JSON.parse((await c.kubectl(['get', 'ds', 'picky', '-o', 'json'])).stdout);
    assert.equal(got.status.desiredNumberScheduled, 2);
  });

  it('marks a silent node unreachable and replaces its pods elsewhere', async () => {
    const d = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'svc' },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'svc' } },
        template: {
          metadata: { labels: { app: 'svc' } },
          spec: {
            containers: [{ name: 'c', image: 'busybox' }],
            tolerations: [
              {
                key: 'node.kubernetes.io/unreachable',
                operator: 'Exists',
                effect: 'NoExecute',
                tolerationSeconds: 1,
              },
            ],
          },
        },
      },
    };
    let r = await c.kubectl(['apply', '-f', '-'], JSON.stringify(d));
    assert.equal(r.code, 0, r.stderr);
    r = await c.kubectl(['rollout', 'status', 'deployment/svc', '--timeout=30s']);
    assert.equal(r.code, 0, r.stderr);
    const before = await podsOf('app=svc');
    const victim = (before[0].spec as Json).nodeName as string;
    c.nodes.stopHeartbeat(victim);
    await until('the node to be unreachable', async () => {
      const n = await c.client.get(NODES, victim);
      const ready = (n.status as Json).conditions.find((x: Json) => x.type === 'Ready');
      const taint = ((n.spec as Json).taints ?? []).find(
        (t: Json) => t.key === 'node.kubernetes.io/unreachable',
      );
      return ready.status === 'Unknown' && taint?.effect === 'NoExecute';
    });
    r = await c.kubectl(['get', 'node', victim]);
    assert.match(r.stdout, /NotReady/);
    await until(
      '3 ready pods on the other nodes',
      async () => {
        const ps = await podsOf('app=svc');
        return ps.length === 3 && ps.every((p) => isReady(p) && (p.spec as Json).nodeName !== victim);
      },
      30_000,
    );
    // the daemon pod stays: daemon pods tolerate unreachable forever
    assert.ok((await podsOf('app=agent')).some((p) => (p.spec as Json).nodeName === victim));

    c.nodes.resumeHeartbeat(victim);
    await until('the taint to go', async () => {
      const n = await c.client.get(NODES, victim);
      return !((n.spec as Json).taints ?? []).some((t: Json) => t.key === 'node.kubernetes.io/unreachable');
    });
  });
});
