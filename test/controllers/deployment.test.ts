/** Deployments through the real kubectl: scale, rolling update within maxUnavailable, rollout status/history/undo/restart/pause. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '../../src/api/index.ts';
import { listWatcherFor, PODS, SharedInformer } from '../../src/client/index.ts';
import { type Cluster, isReady, startCluster, until } from './helpers.ts';

type Json = Record<string, any>;

describe('deployment controller', () => {
  let c: Cluster;
  const ac = new AbortController();
  let pods: SharedInformer;
  before(async () => {
    c = await startCluster({ manager: { controllers: ['replicaset', 'deployment'] } });
    pods = new SharedInformer(listWatcherFor(c.client, PODS, { namespace: 'default' }));
    void pods.start(ac.signal);
    await pods.waitForSync(ac.signal);
  });
  after(async () => {
    ac.abort();
    await c?.close();
  });

  const k = (...args: string[]) => c.kubectl(args);
  const readyOf = (app: string) =>
    pods.store
      .list()
      .filter((p) => p.metadata?.labels?.app === app && isReady(p) && !p.metadata?.deletionTimestamp);
  const images = (app: string) => new Set(readyOf(app).map((p) => (p.spec as Json).containers[0].image));

  it('runs 3 replicas and scales with kubectl scale', async () => {
    let r = await k('create', 'deployment', 'web', '--image=busybox:1.36', '--replicas=3');
    assert.equal(r.code, 0, r.stderr);
    r = await k('rollout', 'status', 'deployment/web', '--timeout=30s');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /successfully rolled out/);
    assert.equal(readyOf('web').length, 3);
    const rs = JSON.parse((await k('get', 'rs', '-l', 'app=web', '-o', 'json')).stdout).items as KubeObject[];
    assert.equal(rs.length, 1);
    assert.equal(rs[0].metadata?.annotations?.['deployment.kubernetes.io/revision'], '1');
    assert.ok(rs[0].metadata?.labels?.['pod-template-hash']);
    r = await k('scale', 'deployment', 'web', '--replicas=5');
    assert.equal(r.code, 0, r.stderr);
    await until('5 ready', () => readyOf('web').length === 5);
    r = await k('scale', 'deployment', 'web', '--replicas=3');
    assert.equal(r.code, 0, r.stderr);
    await until(
      '3 pods',
      () => pods.store.list().filter((p) => p.metadata?.labels?.app === 'web').length === 3,
    );
    const d = JSON.parse((await k('get', 'deploy', 'web', '-o', 'json')).stdout);
    assert.equal(d.metadata.annotations['deployment.kubernetes.io/revision'], '1');
    const avail = d.status.conditions.find((x: Json) => x.type === 'Available');
    assert.equal(avail.status, 'True');
  });

  it('rolls out a new image without dropping below replicas - maxUnavailable, and undoes it', async () => {
    // default strategy for 3 replicas: maxSurge 1, maxUnavailable 0: never fewer than 3 available
    let minSeen = Number.POSITIVE_INFINITY;
    const check = () => {
      minSeen = Math.min(minSeen, readyOf('web').length);
    };
    const off = pods.addEventHandler({ add: check, update: check, delete: check });
    let r = await k('set', 'image', 'deployment/web', 'busybox=busybox:1.37');
    assert.equal(r.code, 0, r.stderr);
    r = await k('rollout', 'status', 'deployment/web', '--timeout=60s');
    assert.equal(r.code, 0, r.stderr + r.stdout);
    await until('only the new image', () => {
      const im = images('web');
      return im.size === 1 && im.has('busybox:1.37') && readyOf('web').length === 3;
    });
    off();
    assert.ok(minSeen >= 3, `available pods dropped to ${minSeen}`);

    r = await k('rollout', 'history', 'deployment/web');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^1\s/m);
    assert.match(r.stdout, /^2\s/m);

    r = await k('rollout', 'undo', 'deployment/web');
    assert.equal(r.code, 0, r.stderr);
    r = await k('rollout', 'status', 'deployment/web', '--timeout=60s');
    assert.equal(r.code, 0, r.stderr);
    await until('back to the old image', () => {
      const im = images('web');
      return im.size === 1 && im.has('busybox:1.36') && readyOf('web').length === 3;
    });
    const d = JSON.parse((await k('get', 'deploy', 'web', '-o', 'json')).stdout);
    assert.equal(d.spec.template.spec.containers[0].image, 'busybox:1.36');
    assert.equal(d.metadata.annotations['deployment.kubernetes.io/revision'], '3');
    r = await k('rollout', 'history', 'deployment/web');
    assert.match(r.stdout, /^2\s/m);
    assert.match(r.stdout, /^3\s/m);
  });

  it('restarts, and holds a paused rollout until resumed', async () => {
    const before = new Set(readyOf('web').map((p) => p.metadata!.uid));
    let r = await k('rollout', 'restart', 'deployment/web');
    assert.equal(r.code, 0, r.stderr);
    r = await k('rollout', 'status', 'deployment/web', '--timeout=60s');
    assert.equal(r.code, 0, r.stderr);
    await until('all pods replaced', () => {
      const now = readyOf('web');
      return now.length === 3 && now.every((p) => !before.has(p.metadata!.uid));
    });

    r = await k('rollout', 'pause', 'deployment/web');
    assert.equal(r.code, 0, r.stderr);
    r = await k('set', 'image', 'deployment/web', 'busybox=busybox:1.38');
    assert.equal(r.code, 0, r.stderr);
    await new Promise((res) => setTimeout(res, 1000));
    assert.ok(!images('web').has('busybox:1.38'), 'a paused deployment rolled out');
    r = await k('rollout', 'resume', 'deployment/web');
    assert.equal(r.code, 0, r.stderr);
    r = await k('rollout', 'status', 'deployment/web', '--timeout=60s');
    assert.equal(r.code, 0, r.stderr);
    await until('the new image', () => images('web').has('busybox:1.38'));
  });

  it('recreates: old pods go before new ones come', async () => {
    let r = await k('create', 'deployment', 'rec', '--image=busybox:1.36', '--replicas=2');
    assert.equal(r.code, 0, r.stderr);
    r = await k(
      'patch',
      'deployment',
      'rec',
      '--type=merge',
      '-p',
      '{"spec":{"strategy":{"type":"Recreate","rollingUpdate":null}}}',
    );
    assert.equal(r.code, 0, r.stderr);
    r = await k('rollout', 'status', 'deployment/rec', '--timeout=30s');
    assert.equal(r.code, 0, r.stderr);
    let mixed = false;
    const check = () => {
      const live = pods.store
        .list()
        .filter(
          (p) =>
            p.metadata?.labels?.app === 'rec' &&
            (p.status as Json)?.phase === 'Running' &&
            !p.metadata?.deletionTimestamp,
        );
      if (new Set(live.map((p) => (p.spec as Json).containers[0].image)).size > 1) mixed = true;
    };
    const off = pods.addEventHandler({ add: check, update: check });
    r = await k('set', 'image', 'deployment/rec', 'busybox=busybox:1.37');
    assert.equal(r.code, 0, r.stderr);
    r = await k('rollout', 'status', 'deployment/rec', '--timeout=30s');
    assert.equal(r.code, 0, r.stderr);
    off();
    assert.equal(mixed, false);
  });
  it('reports ProgressDeadlineExceeded when a rollout stops progressing', async () => {
    const d = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'stuck' },
      spec: {
        replicas: 2,
        progressDeadlineSeconds: 2,
        selector: { matchLabels: { app: 'stuck' } },
        template: {
          metadata: { labels: { app: 'stuck' }, annotations: { 'skiff.dev/hollow-not-ready': 'true' } },
          spec: { containers: [{ name: 'c', image: 'nginx' }] },
        },
      },
    };
    let r = await c.kubectl(['apply', '-f', '-'], JSON.stringify(d));
    assert.equal(r.code, 0, r.stderr);
    r = await k('rollout', 'status', 'deployment/stuck', '--timeout=30s');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /exceeded its progress deadline/);
    const got = JSON.parse((await k('get', 'deployment', 'stuck', '-o', 'json')).stdout);
    const p = got.status.conditions.find((x: Json) => x.type === 'Progressing');
    assert.equal(p.status, 'False');
    assert.equal(p.reason, 'ProgressDeadlineExceeded');
    assert.match(p.message, /^ReplicaSet "stuck-\w+" has timed out progressing\.$/);
  });
});
