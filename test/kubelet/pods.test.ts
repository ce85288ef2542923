/**
 * The agent end to end on a real node (API server, Skiff's runtime with runc, real CNI plugins,
 * busybox): pods run, report status, log, restart, probe, mount config, reach each other, and
 * leave nothing behind when deleted. One node is shared by the cases.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { PODS } from '../../src/client/index.ts';
import { startTestNode, type TestNode, until } from './harness.ts';

type Json = Record<string, any>;

describe('node agent', { timeout: 600_000 }, () => {
  let n: TestNode;
  before(async () => {
    n = await startTestNode();
  });
  after(async () => {
    await n?.destroy();
  });

  const pod = (name: string, spec: Json, extra: Json = {}): Json => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', ...extra },
    spec: { nodeName: n.nodeName, terminationGracePeriodSeconds: 2, ...spec },
  });
  const box = (name: string, script: string, more: Json = {}): Json => ({
    name,
    image: n.image,
    command: ['sh', '-c', script],
    ...more,
  });
  const get = async (name: string): Promise<Json> =>
    (await n.client.get(PODS, name, { namespace: 'default' })) as Json;
  const running = (name: string) =>
    until(`${name} running`, async () => {
      const p = await get(name);
      return p.status?.phase === 'Running' && p.status.podIP ? p : undefined;
    });
  const logs = async (name: string, container: string, query = '') => {
    const res = await fetch(`${n.agent.server.url}/containerLogs/default/${name}/${container}${query}`);
    return { code: res.status, text: await res.text() };
  };
  const containerId = (p: Json, i = 0) => p.status.containerStatuses[i].containerID.replace(/^.*:\/\//, '');

  it('registers a Ready node with capacity, addresses, nodeInfo and a Lease', async () => {
    const r = await n.kubectl(['get', 'node', n.nodeName, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const node = JSON.parse(r.stdout);
    const ready = node.status.conditions.find((c: Json) => c.type === 'Ready');
    assert.equal(ready.status, 'True');
    for (const t of ['MemoryPressure', 'DiskPressure', 'PIDPressure'])
      assert.equal(node.status.conditions.find((c: Json) => c.type === t).status, 'False');
    assert.ok(Number(node.status.capacity.cpu) >= 1);
    assert.match(node.status.capacity.memory, /^\d+Ki$/);
    assert.equal(node.status.allocatable.pods, '110');
    assert.deepEqual(
      node.status.addresses.map((a: Json) => a.type),
      ['InternalIP', 'Hostname'],
    );
    assert.match(node.status.nodeInfo.containerRuntimeVersion, /^\w+:\/\//);
    assert.ok(node.status.nodeInfo.kernelVersion);
    assert.equal(node.spec.podCIDR, n.podCIDR);
    const lease = await n.kubectl(['-n', 'kube-node-lease', 'get', 'lease', n.nodeName, '-o', 'json']);
    assert.equal(lease.code, 0, lease.stderr);
    const first = JSON.parse(lease.stdout).spec.renewTime;
    await until('the lease to be renewed', async () => {
      const l = await n.kubectl(['-n', 'kube-node-lease', 'get', 'lease', n.nodeName, '-o', 'json']);
      return JSON.parse(l.stdout).spec.renewTime !== first;
    });
  });

  it('runs a busybox pod to Running and Ready, with its logs in the file and at /containerLogs', async () => {
    const r = await n.kubectl(
      ['create', '-f', '-'],
      JSON.stringify(
        pod('hello', { containers: [box('c', 'echo hello from $(hostname); echo second line; sleep 3600')] }),
      ),
    );
    assert.equal(r.code, 0, r.stderr);
    const p = await running('hello');
    assert.ok(p.status.podIP.startsWith(n.subnetPrefix), `${p.status.podIP} outside ${n.podCIDR}`);
    assert.deepEqual(p.status.podIPs, [{ ip: p.status.podIP }]);
    assert.equal(p.status.hostIP, '127.0.0.1');
    assert.ok(p.status.startTime);
    const ready = await until('hello Ready', async () => {
      const q = await get('hello');
      return q.status.conditions?.find((c: Json) => c.type === 'Ready')?.status === 'True' ? q : undefined;
    });
    const cs = ready.status.containerStatuses[0];
    assert.equal(cs.ready, true);
    assert.equal(cs.started, true);
    assert.equal(cs.restartCount, 0);
    assert.ok(cs.state.running.startedAt);
    assert.match(cs.containerID, /^\w+:\/\/[0-9a-f]+/);
    assert.equal(cs.image, n.image);
    const types = ready.status.conditions.map((c: Json) => c.type).sort();
    assert.deepEqual(types, [
      'ContainersReady',
      'Initialized',
      'PodReadyToStartContainers',
      'PodScheduled',
      'Ready',
    ]);
    const file = `${n.podLogsDir}/default_hello_${ready.metadata.uid}/c/0.log`;
    await until(
      'the log file',
      async () => fs.existsSync(file) && fs.readFileSync(file, 'utf8').includes('second line'),
    );
    assert.match(fs.readFileSync(file, 'utf8'), /^\S+ stdout F hello from hello$/m);
    const l = await logs('hello', 'c');
    assert.equal(l.code, 200);
    assert.equal(l.text, 'hello from hello\nsecond line\n');
    assert.equal((await logs('hello', 'c', '?tailLines=1')).text, 'second line\n');
    assert.match(
      (await logs('hello', 'c', '?timestamps=true')).text,
      /^\d{4}-\d\d-\d\dT\S+ hello from hello\n/,
    );
    assert.equal((await logs('nope', 'c')).code, 404);
    // follow streams what comes later and ends when the client goes
    const ac = new AbortController();
    const res = await fetch(`${n.agent.server.url}/containerLogs/default/hello/c?follow=true`, {
      signal: ac.signal,
    });
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    assert.match(first, /hello from hello/);
    ac.abort();
    const kget = await n.kubectl(['get', 'pod', 'hello']);
    assert.match(kget.stdout, /hello\s+1\/1\s+Running\s+0/);
  });
});
