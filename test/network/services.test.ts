/**
 * Services end to end through the API: kubectl creates Services, the allocator gives them IPs
 * and node ports, the EndpointSlice controller follows pod objects, the service proxy programs
 * nftables, cluster DNS answers at 10.43.0.10, and NetworkPolicy closes and opens traffic, all
 * between pod-like network namespaces on a test-unique bridge.
 *
 * The API server does not call the allocator yet, so this test wraps `objects.create`/`delete`
 * for services exactly where the hook belongs (after validation, before the write; after delete).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import { builtinRegistry, type KubeObject } from '../../src/api/index.ts';
import { startApiServer } from '../../src/apiserver/index.ts';
import { serviceIpAllocator } from '../../src/apiserver/service-ips/index.ts';
import { PODS, RestClient } from '../../src/client/index.ts';
import { runEndpointControllers, SERVICES } from '../../src/controllers/endpointslice/index.ts';
import {
  DNS_SERVICE_IP,
  ensureClusterDns,
  runNetworkPolicy,
  runNodeDns,
  runServiceProxy,
} from '../../src/network/index.ts';
import { nftListRuleset } from '../../src/network/proxy/index.ts';
import { MemoryBackend } from '../../src/store/index.ts';
import { makeTestNet, sh, type TestPod } from './netns.ts';

const run = promisify(execFile);

async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false>,
  ms = 5000,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== null && v !== false) return v as T;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ''}`);
}

test('Services through the API: ClusterIP, scaling, NodePort, LoadBalancer, DNS, NetworkPolicy', {
  timeout: 180_000,
}, async (t) => {
  const net = await makeTestNet();
  const dir = await mkdtemp(join(tmpdir(), 'skiff-svc-e2e-'));
  const backend = new MemoryBackend();
  const abort = new AbortController();
  const runners: Promise<unknown>[] = [];
  let server: Awaited<ReturnType<typeof startApiServer>> | undefined;
  let client: RestClient | undefined;
  const id = `s${net.suffix}`;
  t.after(async () => {
    abort.abort();
    await Promise.allSettled(runners);
    client?.close();
    await server?.close();
    await backend.close();
    await net.cleanup();
    await rm(dir, { recursive: true, force: true });
    const ruleset = await nftListRuleset();
    assert.ok(!ruleset.includes(`skiff-${id}`), `table skiff-${id} left behind`);
    assert.ok(!ruleset.includes(net.bridge));
  });

  server = await startApiServer({ dataDir: dir, port: 0, backend, registry: builtinRegistry() });
  // The allocator hook, where the API server will call it.
  const ips = serviceIpAllocator({ backend });
  const objects = server.objects;
  const create = objects.create.bind(objects);
  const del = objects.delete.bind(objects);
  objects.create = async (def, obj) => {
    if (def.group !== '' || def.plural !== 'services') return create(def, obj);
    await ips.allocate(obj);
    try {
      return await create(def, obj);
    } catch (e) {
      await ips.release(obj);
      throw e;
    }
  };
  objects.delete = async (def, ns, name, rev) => {
    const gone = await del(def, ns, name, rev);
    if (def.group === '' && def.plural === 'services') await ips.release(gone);
    return gone;
  };

  client = await RestClient.fromKubeconfig(server.kubeconfigPath);
  const kubectl = async (args: string[], stdin?: string) => {
    const p = run('kubectl', ['--kubeconfig', server!.kubeconfigPath, ...args], { timeout: 20_000 });
    if (stdin !== undefined) p.child.stdin?.end(stdin);
    return (await p).stdout;
  };

  const [a, b, client1] = [
    await net.addPod('a', 8080),
    await net.addPod('b', 8080),
    await net.addPod('client'),
  ];
  const c = client;
  const podObject = async (p: TestPod, labels: Record<string, string>, ready: boolean) => {
    let cur: Pod & KubeObject;
    try {
      cur = await c.get<Pod & KubeObject>(PODS, p.name, { namespace: 'default' });
    } catch {
      cur = await c.create<Pod & KubeObject>(PODS, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: p.name, namespace: 'default', labels },
        spec: {
          nodeName: 'node-a',
          containers: [{ name: 'c', image: 'busybox', ports: [{ name: 'http', containerPort: 8080 }] }],
        },
      });
    }
    await c.updateStatus(PODS, {
      ...cur,
      status: {
        phase: 'Running',
        podIP: p.ip,
        podIPs: [{ ip: p.ip }],
        conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
      },
    });
  };
  await podObject(a, { app: 'web' }, true);
  await podObject(b, { app: 'web' }, false);
  await podObject(client1, { role: 'client' }, true);

  const onError = (e: unknown) => {
    if (!abort.signal.aborted) console.error('endpoint controllers:', e);
  };
  runners.push(runEndpointControllers(c, abort.signal, { onError }));
  runners.push(
    runServiceProxy(
      { client: c, nodeName: 'node-a', nodeIPs: [net.gateway], id, clusterCIDR: net.subnet },
      abort.signal,
    ),
  );
  runners.push(
    runNetworkPolicy({ client: c, nodeName: 'node-a', id }, abort.signal).catch((e) => {
      console.error('network policy runner failed:', e);
      throw e;
    }),
  );
  await ensureClusterDns({ client: c });
  runners.push(runNodeDns({ client: c, nodeName: 'node-a', host: net.gateway }, abort.signal));

  const getSvc = (name: string) => c.get<Service & KubeObject>(SERVICES, name, { namespace: 'default' });
  await kubectl(
    ['create', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default' },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    }),
  );
  const web = await getSvc('web');
  const clusterIP = web.spec!.clusterIP!;

  await t.test('a Service created with kubectl gets a ClusterIP that reaches its pod', async () => {
    assert.match(clusterIP, /^10\.43\.\d+\.\d+$/);
    assert.deepEqual(web.spec!.clusterIPs, [clusterIP]);
    const shown = await kubectl(['get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}']);
    assert.equal(shown, clusterIP);
    const body = await until('the ClusterIP to answer', () =>
      net.fetch(client1.netns, `http://${clusterIP}/`, 1),
    );
    assert.equal(body, 'a');
  });

  await t.test('a backend becoming Ready is in the rules within a second', async () => {
    const started = Date.now();
    await podObject(b, { app: 'web' }, true);
    const seen = new Set<string | null>();
    await until(
      'pod b behind the ClusterIP',
      async () => {
        seen.add(await net.fetch(client1.netns, `http://${clusterIP}/`, 1));
        return seen.has('b');
      },
      3000,
    );
    const took = Date.now() - started;
    assert.ok(took < 1500, `took ${took} ms`);
  });

  await t.test('a NodePort Service answers on the node address', async () => {
    await kubectl(['create', 'service', 'nodeport', 'np', '--tcp=80:8080']);
    await kubectl(['set', 'selector', 'service', 'np', 'app=web']);
    const np = await getSvc('np');
    const port = np.spec!.ports![0]!.nodePort!;
    assert.ok(port >= 30000 && port <= 32767, `nodePort ${port}`);
    const body = await until('the NodePort', () =>
      net.fetch(client1.netns, `http://${net.gateway}:${port}/`, 1),
    );
    assert.ok(body === 'a' || body === 'b');
    const clash = await kubectl(
      ['create', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'np2', namespace: 'default' },
        spec: { type: 'NodePort', ports: [{ port: 80, nodePort: port }] },
      }),
    ).then(
      () => '',
      (e) => String(e.stderr),
    );
    assert.match(
      clash,
      new RegExp(`spec.ports\\[0\\].nodePort: Invalid value: ${port}: provided port is already allocated`),
    );
  });

  await t.test('a LoadBalancer Service gets the node address as ingress, and answers there', async () => {
    await kubectl(['create', 'service', 'loadbalancer', 'lb', '--tcp=8081:8080']);
    await kubectl(['set', 'selector', 'service', 'lb', 'app=web']);
    const lb = await until('load balancer status', async () => {
      const s = await getSvc('lb');
      return s.status?.loadBalancer?.ingress?.length ? s : undefined;
    });
    assert.deepEqual(
      lb.status!.loadBalancer!.ingress!.map((i) => i.ip),
      [net.gateway],
    );
    const body = await until('the LB address', () =>
      net.fetch(client1.netns, `http://${net.gateway}:8081/`, 1),
    );
    assert.ok(body === 'a' || body === 'b');
  });

  await t.test('the Service name resolves through the DNS ClusterIP', async () => {
    const dns = await c.get<Service & KubeObject>(SERVICES, 'kube-dns', { namespace: 'kube-system' });
    assert.equal(dns.spec!.clusterIP, DNS_SERVICE_IP);
    const out = await until(
      'nslookup through 10.43.0.10',
      async () => {
        const r = await sh('ip', [
          'netns',
          'exec',
          client1.netns,
          'timeout',
          '5',
          'busybox',
          'nslookup',
          'web.default.svc.cluster.local',
          DNS_SERVICE_IP,
        ]).catch(() => '');
        return r.includes(clusterIP) ? r : undefined;
      },
      10_000,
    );
    assert.match(out, new RegExp(`Address:?\\s+${clusterIP.replaceAll('.', '\\.')}`));
  });

  await t.test('a default-deny NetworkPolicy blocks, an allow rule opens', async () => {
    const direct = `http://${a.ip}:8080/`;
    assert.equal(await net.fetch(client1.netns, direct, 1), 'a');
    await kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'deny', namespace: 'default' },
        spec: { podSelector: {}, policyTypes: ['Ingress'] },
      }),
    );
    await until(
      'deny to take effect',
      async () => (await net.fetch(client1.netns, direct, 1)) === null,
      3000,
    ).catch(async (e) => {
      const table = await sh('nft', ['list', 'table', 'ip', `skiff-${id}-policy`]).catch((x) => String(x));
      throw new Error(`${e.message}\n${table}`);
    });
    assert.equal(await net.fetch(client1.netns, `http://${clusterIP}/`, 1), null, 'through the Service too');
    await kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'allow-client', namespace: 'default' },
        spec: {
          podSelector: { matchLabels: { app: 'web' } },
          ingress: [
            { from: [{ podSelector: { matchLabels: { role: 'client' } } }], ports: [{ port: 'http' }] },
          ],
        },
      }),
    );
    await until(
      'allow to take effect',
      async () => (await net.fetch(client1.netns, direct, 1)) === 'a',
      3000,
    );
    await kubectl(['delete', 'networkpolicy', 'deny', 'allow-client']);
  });

  await t.test('deleting a Service removes its rules and frees its IP', async () => {
    await kubectl(['delete', 'service', 'web']);
    await until(
      'the ClusterIP to leave the rules',
      async () => !(await nftListRuleset()).includes(clusterIP),
      3000,
    );
    assert.equal((await backend.get(`/registry/skiff/serviceips/${clusterIP}`)).kv, undefined);
  });
});
