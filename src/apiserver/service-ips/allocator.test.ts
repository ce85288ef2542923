import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { KubeObject } from '../../api/index.ts';
import { type Backend, openBackend } from '../../store/index.ts';
import { NODE_PORT_PREFIX, SERVICE_IP_PREFIX, serviceIpAllocator } from './index.ts';

let n = 0;
function svc(spec: Record<string, unknown> = {}, name = `s${n++}`): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default', uid: `uid-${name}` },
    spec: { type: 'ClusterIP', ports: [{ port: 80, protocol: 'TCP' }], ...spec },
  };
}
const spec = (o: KubeObject) => o.spec as Record<string, any>;

/** Stores the Service the way the API server would, so repair sees it. */
async function store(b: Backend, o: KubeObject): Promise<void> {
  await b.create(`/registry/core/services/default/${o.metadata!.name}`, JSON.stringify(o));
}

function suite(name: string, open: () => Promise<{ backend: Backend; done: () => Promise<void> }>) {
  describe(`service IP allocation on ${name}`, () => {
    const withBackend = (fn: (b: Backend) => Promise<void>) => async () => {
      const { backend, done } = await open();
      try {
        await fn(backend);
      } finally {
        await done();
      }
    };

    test(
      'dynamic, explicit, conflicts, headless, ExternalName, release',
      withBackend(async (backend) => {
        const a = serviceIpAllocator({ backend });
        const s1 = svc();
        await a.allocate(s1);
        const ip = spec(s1).clusterIP as string;
        assert.match(ip, /^10\.43\.\d+\.\d+$/);
        assert.deepEqual(spec(s1).clusterIPs, [ip]);
        assert.ok(!ip.startsWith('10.43.0.'), `dynamic IPs avoid the static band: ${ip}`);
        assert.ok((await backend.get(SERVICE_IP_PREFIX + ip)).kv, 'recorded as a key');

        const dns = svc({ clusterIP: '10.43.0.10' });
        await a.allocate(dns);
        assert.deepEqual(spec(dns).clusterIPs, ['10.43.0.10']);
        await assert.rejects(a.allocate(svc({ clusterIP: '10.43.0.10' }, 'other')), (e: any) => {
          assert.equal(e.code, 422);
          assert.match(
            e.message,
            /spec\.clusterIPs: Invalid value: .*failed to allocate IP 10\.43\.0\.10: provided IP is already allocated/,
          );
          return true;
        });
        await assert.rejects(a.allocate(svc({ clusterIP: '10.99.0.1' })), /not in the valid range/);
        // Same Service again (a retried create) is fine.
        await a.allocate(dns);

        const headless = svc({ clusterIP: 'None' });
        await a.allocate(headless);
        assert.deepEqual(spec(headless).clusterIPs, ['None']);
        const ext = svc({ type: 'ExternalName', externalName: 'example.com' });
        await a.allocate(ext);
        assert.equal(spec(ext).clusterIP, undefined);

        const np = svc({
          type: 'NodePort',
          ports: [
            { port: 80, protocol: 'TCP', nodePort: 30080 },
            { port: 53, protocol: 'UDP' },
            { port: 53, protocol: 'TCP' },
          ],
        });
        await a.allocate(np);
        const ports = spec(np).ports;
        assert.equal(ports[0].nodePort, 30080);
        assert.ok(ports[1].nodePort >= 30000 && ports[1].nodePort <= 32767);
        assert.equal(ports[2].nodePort, ports[1].nodePort, 'TCP and UDP of one port share a node port');
        const clash = svc({ type: 'NodePort', ports: [{ port: 81, protocol: 'TCP', nodePort: 30080 }] });
        await assert.rejects(a.allocate(clash), (e: any) => {
          assert.match(
            e.message,
            /spec\.ports\[0\]\.nodePort: Invalid value: 30080: provided port is already allocated/,
          );
          return true;
        });
        assert.equal(spec(clash).clusterIP, undefined, 'a failed allocation takes nothing');
        assert.equal((await backend.list(SERVICE_IP_PREFIX)).items.length, 3);

        const lb = svc({ type: 'LoadBalancer', allocateLoadBalancerNodePorts: false });
        await a.allocate(lb);
        assert.equal(spec(lb).ports[0].nodePort, undefined);

        await a.release(np);
        await a.release(s1);
        assert.equal((await backend.get(NODE_PORT_PREFIX + 30080)).kv, undefined);
        assert.equal((await backend.get(SERVICE_IP_PREFIX + ip)).kv, undefined);
        // Releasing someone else's value does nothing.
        await a.release(svc({ clusterIP: '10.43.0.10' }, 'intruder'));
        assert.ok((await backend.get(SERVICE_IP_PREFIX + '10.43.0.10')).kv);
      }),
    );

    test(
      'updates keep allocated values, follow type changes, release what is dropped',
      withBackend(async (backend) => {
        const a = serviceIpAllocator({ backend });
        const old = svc({ ports: [{ port: 80, protocol: 'TCP' }] });
        await a.allocate(old);
        const ip = spec(old).clusterIP;

        const toNodePort = svc(
          { type: 'NodePort', ports: [{ port: 80, protocol: 'TCP' }] },
          old.metadata!.name,
        );
        await a.onUpdate(old, toNodePort);
        assert.equal(spec(toNodePort).clusterIP, ip, 'kept the IP the update omitted');
        const np = spec(toNodePort).ports[0].nodePort;
        assert.ok(np >= 30000);

        const more = structuredClone(toNodePort);
        spec(more).ports.push({ port: 443, protocol: 'TCP' });
        delete spec(more).ports[0].nodePort;
        await a.onUpdate(toNodePort, more);
        assert.equal(spec(more).ports[0].nodePort, np, 'kept the node port');
        assert.ok(spec(more).ports[1].nodePort >= 30000, 'a new port gets one');

        const back = structuredClone(more);
        spec(back).type = 'ClusterIP';
        await a.onUpdate(more, back);
        assert.equal(spec(back).ports[0].nodePort, undefined);
        assert.equal((await backend.list(NODE_PORT_PREFIX)).items.length, 0, 'node ports released');

        const ext = structuredClone(back);
        spec(ext).type = 'ExternalName';
        spec(ext).externalName = 'example.com';
        await a.onUpdate(back, ext);
        assert.equal(spec(ext).clusterIP, undefined);
        assert.equal((await backend.list(SERVICE_IP_PREFIX)).items.length, 0, 'IP released');
      }),
    );

    test(
      '100 parallel allocations from two allocators get distinct values',
      withBackend(async (backend) => {
        const a = serviceIpAllocator({ backend, cidr: '10.43.0.0/24' });
        const b = serviceIpAllocator({ backend, cidr: '10.43.0.0/24' });
        const svcs = Array.from({ length: 100 }, (_, i) =>
          svc({ type: 'NodePort', ports: [{ port: 80, protocol: 'TCP' }] }, `p${i}`),
        );
        await Promise.all(svcs.map((s, i) => (i % 2 ? a : b).allocate(s)));
        const ips = new Set(svcs.map((s) => spec(s).clusterIP));
        const ports = new Set(svcs.map((s) => spec(s).ports[0].nodePort));
        assert.equal(ips.size, 100);
        assert.equal(ports.size, 100);
        assert.equal((await backend.list(SERVICE_IP_PREFIX)).items.length, 100);
        assert.ok(!ips.has('10.43.0.1'), '10.43.0.1 is never dynamic');
      }),
    );

    test(
      'a /29 runs out with a clear message',
      withBackend(async (backend) => {
        const a = serviceIpAllocator({ backend, cidr: '10.43.0.0/29' });
        const got: string[] = [];
        for (let i = 0; i < 5; i++) {
          const s = svc();
          await a.allocate(s);
          got.push(spec(s).clusterIP);
        }
        assert.deepEqual(got.sort(), ['10.43.0.2', '10.43.0.3', '10.43.0.4', '10.43.0.5', '10.43.0.6']);
        await assert.rejects(
          a.allocate(svc()),
          /failed to allocate a serviceIP: range is full \(10\.43\.0\.0\/29\)/,
        );
        const k = svc({ clusterIP: '10.43.0.1' }, 'kubernetes');
        await a.allocate(k);
        assert.equal(spec(k).clusterIP, '10.43.0.1', 'the reserved first address can be asked for');
      }),
    );

    test(
      'repair releases orphans after the grace period and records unrecorded values',
      withBackend(async (backend) => {
        let now = 1_000_000;
        const a = serviceIpAllocator({ backend, graceMs: 30_000, now: () => now });
        const kept = svc({ type: 'NodePort' });
        await a.allocate(kept);
        await store(backend, kept);
        const orphan = svc({ type: 'NodePort' }); // allocated, then the server "crashed"
        await a.allocate(orphan);
        const lost = svc({ clusterIP: '10.43.0.20' }); // written, but its key is missing
        await store(backend, lost);

        let r = await a.repairOnce();
        assert.deepEqual(r, { released: 0, recorded: 1, conflicts: 0 }, 'young orphans stay');
        assert.ok((await backend.get(SERVICE_IP_PREFIX + '10.43.0.20')).kv);
        now += 31_000;
        r = await a.repairOnce();
        assert.equal(r.released, 2, 'the orphan IP and node port');
        assert.equal((await backend.get(SERVICE_IP_PREFIX + spec(orphan).clusterIP)).kv, undefined);
        assert.ok((await backend.get(SERVICE_IP_PREFIX + spec(kept).clusterIP)).kv, 'in-use IP stays');
        assert.ok((await backend.get(NODE_PORT_PREFIX + spec(kept).ports[0].nodePort)).kv);

        const abort = new AbortController();
        const loop = a.repair(abort.signal);
        abort.abort();
        await loop;
      }),
    );
  });
}

suite('memory', async () => {
  const backend = await openBackend('memory://');
  return { backend, done: () => backend.close() };
});

suite('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-svcips-'));
  const backend = await openBackend(`sqlite://${join(dir, 'state.db')}`);
  return {
    backend,
    done: async () => {
      await backend.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
