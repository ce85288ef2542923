import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { builtinRegistry } from '../../api/index.ts';
import { startApiServer } from '../../apiserver/index.ts';
import { NODES, RestClient } from '../../client/index.ts';
import { MemoryBackend } from '../../store/index.ts';
import { RangeAllocator, runNodeIpam } from './index.ts';

test('RangeAllocator hands out the lowest free range and respects ranges in use', () => {
  const r = new RangeAllocator('10.42.0.0/16', 24);
  assert.equal(r.occupy('10.42.0.0/24', 'a'), true);
  assert.equal(r.occupy('10.99.0.0/24', 'x'), false, 'outside the cluster CIDR');
  assert.equal(r.occupy('10.42.5.0/25', 'x'), false, 'not a /24');
  assert.equal(r.allocate('b'), '10.42.1.0/24');
  assert.equal(r.allocate('c'), '10.42.2.0/24');
  r.release('b');
  assert.equal(r.allocate('d'), '10.42.1.0/24');
  const tiny = new RangeAllocator('10.1.0.0/30', 30);
  assert.equal(tiny.allocate('a'), '10.1.0.0/30');
  assert.equal(tiny.allocate('b'), undefined);
  assert.throws(() => new RangeAllocator('10.0.0.0/16', 8));
});

test('runNodeIpam gives every Node a distinct pod CIDR, survives a restart and reuses freed ranges', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-nodeipam-'));
  const backend = new MemoryBackend();
  const server = await startApiServer({ dataDir: dir, port: 0, backend, registry: builtinRegistry() });
  const client = await RestClient.fromKubeconfig(server.kubeconfigPath);
  const stops: AbortController[] = [];
  const runs: Promise<void>[] = [];
  t.after(async () => {
    for (const s of stops) s.abort();
    await Promise.allSettled(runs);
    client.close();
    await server.close();
    await backend.close();
    await rm(dir, { recursive: true, force: true });
  });
  const start = () => {
    const ac = new AbortController();
    stops.push(ac);
    runs.push(
      runNodeIpam(client, { clusterCIDR: '10.42.0.0/16', nodeMaskSize: 24, log: () => {} }, ac.signal),
    );
    return ac;
  };
  const node = (name: string, podCIDR?: string) =>
    client.create(NODES, {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name },
      spec: podCIDR ? { podCIDR, podCIDRs: [podCIDR] } : {},
    });
  const cidrs = async () => {
    const list = await client.list(NODES);
    return Object.fromEntries(
      list.items.map((n: any) => [n.metadata.name, n.spec?.podCIDR as string | undefined]),
    );
  };
  const settled = async (names: string[]) => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const c = await cidrs();
      if (names.every((n) => c[n])) return c;
      if (Date.now() > deadline) throw new Error(`no pod CIDR in time: ${JSON.stringify(c)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  await node('given', '10.42.0.0/24'); // set by an agent's --pod-cidr before the allocator ran
  await node('n1');
  const first = start();
  // Created concurrently while the allocator runs.
  await Promise.all(['n2', 'n3', 'n4', 'n5'].map((n) => node(n)));
  const c1 = await settled(['given', 'n1', 'n2', 'n3', 'n4', 'n5']);
  assert.equal(c1.given, '10.42.0.0/24');
  assert.equal(new Set(Object.values(c1)).size, 6, `distinct: ${JSON.stringify(c1)}`);
  for (const v of Object.values(c1)) assert.match(String(v), /^10\.42\.[0-5]\.0\/24$/);
  const n1 = (await client.get(NODES, 'n1')) as any;
  assert.deepEqual(n1.spec.podCIDRs, [n1.spec.podCIDR]);

  // A restart rebuilds the used set from the Nodes: nothing moves, new nodes get new ranges.
  first.abort();
  await client.delete(NODES, 'n3');
  start();
  await node('n6');
  await node('n7');
  const c2 = await settled(['n6', 'n7']);
  for (const n of ['given', 'n1', 'n2', 'n4', 'n5']) assert.equal(c2[n], c1[n]);
  assert.equal(c2.n6, c1.n3, 'the deleted node range is reused first');
  assert.equal(new Set(Object.values(c2)).size, Object.keys(c2).length);
});
