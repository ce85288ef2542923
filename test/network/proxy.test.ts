import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { NftProxier, nftListRuleset, type ProxyModel } from '../../src/network/proxy/index.ts';
import { makeTestNet, sh, type TestPod } from './netns.ts';

function service(name: string, clusterIP: string, spec: Partial<Service['spec']> = {}): Service {
  return {
    metadata: { name, namespace: 'default' },
    spec: { clusterIP, type: 'ClusterIP', ports: [{ name: 'http', port: 80, protocol: 'TCP' }], ...spec },
  };
}

function slice(svc: string, pods: TestPod[], port = 8080, ready = true): EndpointSlice {
  return {
    metadata: { name: `${svc}-abc`, namespace: 'default', labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port, protocol: 'TCP' }],
    endpoints: pods.map((p) => ({ addresses: [p.ip], conditions: { ready }, nodeName: 'node-a' })),
  };
}

test('the nftables proxy: ClusterIP, balancing, affinity, NodePort, headless, deletion', {
  timeout: 120_000,
}, async (t) => {
  const net = await makeTestNet();
  const proxy = new NftProxier({ id: `t${net.suffix}` });
  t.after(async () => {
    await proxy.close().catch(() => {});
    await net.cleanup();
    const ruleset = await nftListRuleset();
    assert.ok(!ruleset.includes(proxy.table), `table ${proxy.table} left behind`);
    assert.ok(!ruleset.includes(net.bridge));
  });

  const [a, b, client] = [
    await net.addPod('a', 8080),
    await net.addPod('b', 8080),
    await net.addPod('client'),
  ];
  const o = 96 + (Number.parseInt(net.suffix.slice(0, 2), 16) % 30);
  const ip = (n: number) => `10.${o}.${n}.10`;
  const nodePort = 30_000 + (Number.parseInt(net.suffix, 16) % 2700);
  const model: ProxyModel = {
    nodeName: 'node-a',
    nodeIPs: [net.gateway],
    services: [
      service('web', ip(1)),
      service('sticky', ip(2), {
        sessionAffinity: 'ClientIP',
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
      }),
      service('np', ip(3), {
        type: 'NodePort',
        ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort }],
      }),
      service('headless', 'None'),
      service('empty', ip(4)),
    ],
    endpointSlices: [
      slice('web', [a, b]),
      slice('sticky', [a, b]),
      slice('np', [a]),
      slice('headless', [a, b]),
    ],
  };
  const first = await proxy.sync(model);
  assert.equal(first.full, true);
  assert.equal(first.servicePorts, 4, 'the headless Service gets no rules');

  await t.test('a ClusterIP reaches the pods behind it, spread over both', async () => {
    const seen = new Map<string, number>();
    for (let i = 0; i < 24; i++) {
      const body = await net.fetch(client.netns, `http://${ip(1)}:80/`);
      assert.ok(body === 'a' || body === 'b', `request ${i} through the ClusterIP answered ${body}`);
      seen.set(body, (seen.get(body) ?? 0) + 1);
    }
    assert.equal(seen.size, 2, `both backends answer: ${JSON.stringify([...seen])}`);
  });

  await t.test('ClientIP affinity keeps one client on one pod', async () => {
    const seen = new Set<string | null>();
    for (let i = 0; i < 12; i++) seen.add(await net.fetch(client.netns, `http://${ip(2)}/`));
    assert.equal(seen.size, 1, `one backend: ${[...seen]}`);
    assert.ok(seen.has('a') || seen.has('b'));
  });

  await t.test('a pod reaches itself through its Service (hairpin)', async () => {
    const body = await net.fetch(a.netns, `http://${ip(3)}/`);
    assert.equal(body, 'a');
  });

  await t.test('a NodePort answers on the node address, from a pod and from the node', async () => {
    assert.equal(await net.fetch(client.netns, `http://${net.gateway}:${nodePort}/`), 'a');
    assert.equal(await net.fetch(undefined, `http://${net.gateway}:${nodePort}/`), 'a');
  });

  await t.test('a Service without endpoints refuses at once', async () => {
    const started = Date.now();
    assert.equal(await net.fetch(client.netns, `http://${ip(4)}/`), null);
    assert.ok(Date.now() - started < 2000, 'rejected, not timed out');
  });

  await t.test('headless Services have no rules', async () => {
    const table = await sh('nft', ['list', 'table', 'ip', proxy.table]);
    // web, sticky and np have a Service chain; empty is only in the reject map; headless nowhere.
    assert.equal(table.match(/chain svc-/g)?.length, 3);
    assert.equal(table.match(/chain sep-/g)?.length, 5);
  });

  await t.test('an endpoint change rewrites only its chains; a deleted Service leaves nothing', async () => {
    const changed = await proxy.sync({
      ...model,
      endpointSlices: [slice('web', [b]), ...model.endpointSlices.slice(1)],
    });
    assert.equal(changed.full, false);
    assert.ok(changed.chainsWritten <= 2, `wrote ${changed.chainsWritten} chains`);
    for (let i = 0; i < 6; i++) assert.equal(await net.fetch(client.netns, `http://${ip(1)}/`), 'b');

    const before = await nftListRuleset();
    const gone = await proxy.sync({
      ...model,
      services: model.services.filter((s) => s.metadata?.name !== 'web'),
      endpointSlices: model.endpointSlices.slice(1),
    });
    assert.ok(gone.chainsDeleted >= 2);
    const after = await nftListRuleset();
    assert.ok(before.includes(ip(1)) && !after.includes(ip(1)), 'the ClusterIP is gone from the rules');
    assert.equal(await net.fetch(client.netns, `http://${ip(1)}/`, 1), null);
    assert.equal((await net.fetch(client.netns, `http://${ip(2)}/`)) !== null, true, 'the others still work');
  });

  await t.test('close() removes the table', async () => {
    await proxy.close();
    assert.ok(!(await nftListRuleset()).includes(proxy.table));
  });
});
