/** Jobs, CronJobs and default ServiceAccounts through the real kubectl, on hollow nodes. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PODS } from '../../src/client/index.ts';
import { type Cluster, startCluster, until } from './helpers.ts';

type Json = Record<string, any>;

// The manager's clock runs ahead so that a minute boundary comes about 2 s after start-up.
const offset = (60_000 - (Date.now() % 60_000) - 2000 + 120_000) % 60_000;

describe('job, cronjob and serviceaccount controllers', () => {
  let c: Cluster;
  before(async () => {
    c = await startCluster({
      manager: {
        controllers: ['job', 'cronjob', 'serviceaccount'],
        now: () => Date.now() + offset,
        options: { job: { backoffBaseMs: 1000 } },
      },
    });
  });
  after(async () => {
    await c?.close();
  });

  const job = (name: string, exit: number, extra: Json) =>
    JSON.stringify({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name },
      spec: {
        ...extra,
        template: {
          metadata: { annotations: { 'skiff.dev/hollow-exit': String(exit) } },
          spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] },
        },
      },
    });
  const get = async (what: string) =>
    JSON.parse((await c.kubectl(['get', what, '-o', 'json'])).stdout || '{}');

  it('completes a job of 3 completions, 2 at a time', async () => {
    const r = await c.kubectl(['apply', '-f', '-'], job('done', 0, { completions: 3, parallelism: 2 }));
    assert.equal(r.code, 0, r.stderr);
    const w = await c.kubectl(['wait', '--for=condition=complete', 'job/done', '--timeout=30s']);
    assert.equal(w.code, 0, w.stderr);
    const j = await get('job/done');
    assert.equal(j.status.succeeded, 3);
    assert.ok(j.status.startTime);
    assert.ok(j.status.completionTime);
    const pods = await c.client.list(PODS, { namespace: 'default', labelSelector: 'job-name=done' });
    assert.equal(pods.items.length, 3);
    assert.ok(pods.items.every((p) => (p.status as Json).phase === 'Succeeded'));
  });

  it('fails a job past its backoffLimit', async () => {
    const r = await c.kubectl(['apply', '-f', '-'], job('bad', 1, { backoffLimit: 1 }));
    assert.equal(r.code, 0, r.stderr);
    const w = await c.kubectl(['wait', '--for=condition=failed', 'job/bad', '--timeout=30s']);
    assert.equal(w.code, 0, w.stderr);
    const j = await get('job/bad');
    assert.equal(j.status.failed, 2);
    assert.equal(j.status.conditions.find((x: Json) => x.type === 'Failed').reason, 'BackoffLimitExceeded');
  });

  it('fires a cronjob on its schedule and records it', async () => {
    const cj = {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'tick' },
      spec: {
        schedule: '*/1 * * * *',
        concurrencyPolicy: 'Forbid',
        jobTemplate: { spec: JSON.parse(job('x', 0, {})).spec },
      },
    };
    const r = await c.kubectl(['apply', '-f', '-'], JSON.stringify(cj));
    assert.equal(r.code, 0, r.stderr);
    let jobName = '';
    await until(
      'a job from the cronjob',
      async () => {
        const jobs = (await get('jobs')).items as Json[];
        const mine = jobs.filter((j) => j.metadata.ownerReferences?.[0]?.name === 'tick');
        jobName = mine[0]?.metadata.name ?? '';
        return mine.length > 0;
      },
      30_000,
    );
    const j = await get(`job/${jobName}`);
    const scheduled = Date.parse(j.metadata.annotations['batch.kubernetes.io/cronjob-scheduled-timestamp']);
    assert.equal(scheduled % 60_000, 0);
    assert.equal(jobName, `tick-${scheduled / 60_000}`);
    await until(
      'lastSuccessfulTime',
      async () => !!(await get('cronjob/tick')).status?.lastSuccessfulTime,
      30_000,
    );
    const s = (await get('cronjob/tick')).status;
    assert.equal(Date.parse(s.lastScheduleTime), scheduled);
  });

  it('gives every new namespace a default serviceaccount', async () => {
    const r = await c.kubectl(['create', 'namespace', 'sa-test']);
    assert.equal(r.code, 0, r.stderr);
    await until(
      'default SA',
      async () => (await c.kubectl(['-n', 'sa-test', 'get', 'sa', 'default'])).code === 0,
    );
    await c.kubectl(['-n', 'sa-test', 'delete', 'sa', 'default']);
    await until(
      'default SA back',
      async () => (await c.kubectl(['-n', 'sa-test', 'get', 'sa', 'default'])).code === 0,
    );
    await c.kubectl(['delete', 'namespace', 'sa-test', '--wait=false']);
  });
});
