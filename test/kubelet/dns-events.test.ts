/**
 * Pods' /etc/resolv.conf per dnsPolicy on an agent with cluster DNS, and the kubelet's Events
 * (created, counted on repeats, shown by `kubectl describe pod`).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { EVENTS, PODS } from '../../src/client/index.ts';
import { parseResolvConf } from '../../src/kubelet/dns.ts';
import { startTestNode, type TestNode, until } from './harness.ts';

type Json = Record<string, any>;

describe('pod DNS and kubelet events', { timeout: 300_000 }, () => {
  let n: TestNode;
  before(async () => {
    n = await startTestNode({ clusterDNS: ['10.96.0.10'] });
  });
  after(async () => {
    await n?.destroy();
  });

  const create = (name: string, spec: Json, container: Json = {}) =>
    n.client.create(PODS, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default' },
      spec: {
        nodeName: n.nodeName,
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'c',
            image: n.image,
            command: ['sh', '-c', 'cat /etc/resolv.conf; sleep 3600'],
            ...container,
          },
        ],
        ...spec,
      },
    } as any);
  const logs = async (name: string) => {
    const res = await fetch(`${n.agent.server.url}/containerLogs/default/${name}/c`);
    return res.status === 200 ? res.text() : '';
  };
  const resolvOf = (name: string) =>
    until(`${name}'s resolv.conf`, async () => (await logs(name)) || undefined);
  const events = async (name: string) =>
    ((await n.client.list(EVENTS, { namespace: 'default' })).items as Json[]).filter(
      (e) => e.involvedObject.name === name,
    );

  it('ClusterFirst gets the cluster nameserver, namespace search path and ndots:5', async () => {
    await create('dns-cluster', {});
    const hostSearch = parseResolvConf(fs.readFileSync('/etc/resolv.conf', 'utf8')).searches ?? [];
    const search = ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local', ...hostSearch];
    assert.equal(
      await resolvOf('dns-cluster'),
      `search ${search.join(' ')}\nnameserver 10.96.0.10\noptions ndots:5\n`,
    );
  });

  it('Default gets the host resolv.conf; None gets only dnsConfig', async () => {
    await create('dns-default', { dnsPolicy: 'Default' });
    await create('dns-none', {
      dnsPolicy: 'None',
      dnsConfig: {
        nameservers: ['192.0.2.1'],
        searches: ['x.example'],
        options: [{ name: 'ndots', value: '2' }],
      },
    });
    const host = parseResolvConf(fs.readFileSync('/etc/resolv.conf', 'utf8'));
    assert.deepEqual(parseResolvConf(await resolvOf('dns-default')).servers, host.servers);
    assert.equal(await resolvOf('dns-none'), 'search x.example\nnameserver 192.0.2.1\noptions ndots:2\n');
  });

  it('writes Pulled, Created, Started and Killing with source kubelet, shown by kubectl describe', async () => {
    await until('dns-cluster Started event', async () =>
      (await events('dns-cluster')).find((e) => e.reason === 'Started'),
    );
    const list = await events('dns-cluster');
    const reasons = list.map((e) => e.reason);
    for (const r of ['Pulled', 'Created', 'Started']) assert.ok(reasons.includes(r), `${r} in ${reasons}`);
    const started = list.find((e) => e.reason === 'Started')!;
    assert.equal(started.type, 'Normal');
    assert.equal(started.message, 'Started container c');
    assert.deepEqual(started.source, { component: 'kubelet', host: n.nodeName });
    assert.equal(started.involvedObject.fieldPath, 'spec.containers{c}');
    assert.equal(started.count, 1);
    const d = await n.kubectl(['describe', 'pod', 'dns-cluster']);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /Normal\s+Started\s+\S+\s+kubelet\s+Started container c/);
    assert.match(d.stdout, /Normal\s+Created\s+\S+\s+kubelet\s+Created container: c/);

    await n.client.delete(PODS, 'dns-default', { namespace: 'default' });
    const killing = await until('a Killing event', async () =>
      (await events('dns-default')).find((e) => e.reason === 'Killing'),
    );
    assert.equal(killing.message, 'Stopping container c');
  });

  it('repeats are counted: BackOff for a crashing container, Unhealthy for a failing probe', async () => {
    await create('crasher', {}, { command: ['sh', '-c', 'exit 1'] });
    await create(
      'unready',
      {},
      {
        command: ['sleep', '3600'],
        readinessProbe: { exec: { command: ['sh', '-c', 'echo not yet; exit 1'] }, periodSeconds: 1 },
      },
    );
    const backoff = await until(
      'a counted BackOff',
      async () => (await events('crasher')).find((e) => e.reason === 'BackOff' && e.count >= 2),
      60_000,
    );
    assert.equal(backoff.type, 'Warning');
    assert.match(backoff.message, /^Back-off restarting failed container c in pod crasher_default\(/);
    assert.equal((await events('crasher')).filter((e) => e.reason === 'BackOff').length, 1);
    const unhealthy = await until(
      'a counted Unhealthy',
      async () => (await events('unready')).find((e) => e.reason === 'Unhealthy' && e.count >= 2),
      30_000,
    );
    assert.equal(unhealthy.type, 'Warning');
    assert.equal(unhealthy.message, 'Readiness probe failed: not yet');
  });

  it('a failed pull is Pulling then Failed; a failing postStart hook is FailedPostStartHook', async () => {
    await create('nopull', {}, { image: '127.0.0.1:1/skiff/none:1', imagePullPolicy: 'Always' });
    await create(
      'badhook',
      {},
      { command: ['sleep', '3600'], lifecycle: { postStart: { exec: { command: ['sh', '-c', 'exit 7'] } } } },
    );
    const failed = await until('Failed events', async () => {
      const l = await events('nopull');
      return l.some((e) => e.message === 'Error: ErrImagePull') ? l : undefined;
    });
    assert.ok(
      failed.some((e) => e.reason === 'Pulling' && e.message === 'Pulling image "127.0.0.1:1/skiff/none:1"'),
    );
    assert.ok(
      failed.some(
        (e) => e.reason === 'Failed' && e.type === 'Warning' && e.message.startsWith('Failed to pull image'),
      ),
    );
    const hook = await until('FailedPostStartHook', async () =>
      (await events('badhook')).find((e) => e.reason === 'FailedPostStartHook'),
    );
    assert.equal(hook.type, 'Warning');
  });
});
