/** core/v1 Events from the controllers, read back the way users read them: kubectl describe. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EVENTS, eventRecorder } from '../../src/client/index.ts';
import { type Cluster, startCluster, until } from './helpers.ts';

type Json = Record<string, any>;

describe('controller events', () => {
  let c: Cluster;
  before(async () => {
    c = await startCluster({
      manager: {
        controllers: ['deployment', 'replicaset', 'job'],
        options: { job: { backoffBaseMs: 1500 } },
      },
    });
  });
  after(async () => {
    await c?.close();
  });

  const eventsFor = async (kind: string, name: string) =>
    (
      await c.client.list(EVENTS, {
        namespace: 'default',
        fieldSelector: `involvedObject.kind=${kind},involvedObject.name=${name}`,
      })
    ).items as Json[];

  it('records ScalingReplicaSet and SuccessfulCreate, shown by kubectl describe', async () => {
    const d = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'c', image: 'nginx' }] },
        },
      },
    };
    let r = await c.kubectl(['apply', '-f', '-'], JSON.stringify(d));
    assert.equal(r.code, 0, r.stderr);
    r = await c.kubectl(['rollout', 'status', 'deployment/web', '--timeout=30s']);
    assert.equal(r.code, 0, r.stderr);
    const rsName = JSON.parse((await c.kubectl(['get', 'rs', '-l', 'app=web', '-o', 'json'])).stdout).items[0]
      .metadata.name;
    await until('events written', async () => (await eventsFor('ReplicaSet', rsName)).length >= 3);
    const dev = await eventsFor('Deployment', 'web');
    assert.equal(dev.length, 1);
    assert.equal(dev[0].reason, 'ScalingReplicaSet');
    assert.equal(dev[0].message, `Scaled up replica set ${rsName} to 3 from 0`);
    assert.equal(dev[0].source.component, 'deployment-controller');
    assert.equal(dev[0].involvedObject.apiVersion, 'apps/v1');

    r = await c.kubectl(['describe', 'deployment', 'web']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /ScalingReplicaSet\s+.*deployment-controller\s+Scaled up replica set web-\w+ to 3 from 0/,
    );
    r = await c.kubectl(['describe', 'rs', rsName]);
    assert.equal(r.code, 0, r.stderr);
    const created =
      r.stdout.match(/SuccessfulCreate\s+.*replicaset-controller\s+Created pod: web-\S+/g) ?? [];
    assert.equal(created.length, 3, r.stdout);

    // scale down: one ScalingReplicaSet down and one SuccessfulDelete
    r = await c.kubectl(['scale', 'deployment/web', '--replicas=2']);
    assert.equal(r.code, 0, r.stderr);
    await until('scale-down events', async () =>
      (await eventsFor('ReplicaSet', rsName)).some((e) => e.reason === 'SuccessfulDelete'),
    );
    await until('scaled down event', async () =>
      (await eventsFor('Deployment', 'web')).some(
        (e) => e.message === `Scaled down replica set ${rsName} to 2 from 3`,
      ),
    );
  });

  it('records Job pod creation and completion', async () => {
    const job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'once' },
      spec: {
        template: {
          metadata: { annotations: { 'skiff.dev/hollow-exit': '0' } },
          spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] },
        },
      },
    };
    let r = await c.kubectl(['apply', '-f', '-'], JSON.stringify(job));
    assert.equal(r.code, 0, r.stderr);
    r = await c.kubectl(['wait', '--for=condition=complete', 'job/once', '--timeout=30s']);
    assert.equal(r.code, 0, r.stderr);
    await until('Completed event', async () =>
      (await eventsFor('Job', 'once')).some((e) => e.reason === 'Completed'),
    );
    r = await c.kubectl(['describe', 'job', 'once']);
    assert.match(r.stdout, /SuccessfulCreate\s+.*job-controller\s+Created pod: once-\S+/);
    assert.match(r.stdout, /Completed\s+\d+s\s+job-controller\s+Job completed/);
  });

  it('backs off before replacing a failed Job pod, then records BackoffLimitExceeded', async () => {
    const job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'flaky' },
      spec: {
        backoffLimit: 1,
        template: {
          metadata: { annotations: { 'skiff.dev/hollow-exit': '1' } },
          spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] },
        },
      },
    };
    let r = await c.kubectl(['apply', '-f', '-'], JSON.stringify(job));
    assert.equal(r.code, 0, r.stderr);
    r = await c.kubectl(['wait', '--for=condition=failed', 'job/flaky', '--timeout=30s']);
    assert.equal(r.code, 0, r.stderr);
    const pods = JSON.parse((await c.kubectl(['get', 'pods', '-l', 'job-name=flaky', '-o', 'json'])).stdout)
      .items as Json[];
    assert.equal(pods.length, 2);
    const [a, b] = pods.map((p) => Date.parse(p.metadata.creationTimestamp)).sort();
    assert.ok(b - a >= 1000, `replacement made ${b - a} ms after the first pod`);
    await until('BackoffLimitExceeded event', async () =>
      (await eventsFor('Job', 'flaky')).some(
        (e) => e.reason === 'BackoffLimitExceeded' && e.type === 'Warning',
      ),
    );
  });

  it('counts a repeated event on one Event object', async () => {
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'repeat', namespace: 'default', uid: 'u-repeat' },
    };
    const rec = eventRecorder(c.client, 'test-controller');
    for (let i = 0; i < 3; i++) rec.record(cm, 'Warning', 'Again', 'the same thing');
    rec.record(cm, 'Normal', 'Other', 'something else');
    await rec.flush();
    const evs = await eventsFor('ConfigMap', 'repeat');
    assert.equal(evs.length, 2);
    const again = evs.find((e) => e.reason === 'Again')!;
    assert.equal(again.count, 3);
    assert.equal(again.type, 'Warning');
    assert.equal(again.source.component, 'test-controller');
    assert.ok(again.lastTimestamp >= again.firstTimestamp);
  });
});
