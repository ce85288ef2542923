import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Endpoints, Pod } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { builtinRegistry, type KubeObject } from '../../src/api/index.ts';
import { startApiServer } from '../../src/apiserver/index.ts';
import { PODS, RestClient } from '../../src/client/index.ts';
import {
  ENDPOINT_SLICES,
  ENDPOINTS,
  runEndpointControllers,
  SERVICES,
} from '../../src/controllers/endpointslice/index.ts';
import { MemoryBackend } from '../../src/store/index.ts';

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ''}`);
}

test('EndpointSlice and Endpoints controllers follow pods through a real API server', {
  timeout: 60_000,
}, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-eps-'));
  const backend = new MemoryBackend();
  const server = await startApiServer({ dataDir: dir, port: 0, backend, registry: builtinRegistry() });
  const client = await RestClient.fromKubeconfig(server.kubeconfigPath);
  const abort = new AbortController();
  const errors: unknown[] = [];
  const running = runEndpointControllers(client, abort.signal, { onError: (e) => errors.push(e) });
  t.after(async () => {
    abort.abort();
    await running.catch(() => {});
    client.close();
    await server.close();
    await backend.close();
    await rm(dir, { recursive: true, force: true });
  });
  const ns = 'default';

  await client.create(SERVICES, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: ns },
    spec: {
      selector: { app: 'web' },
      ports: [
        { name: 'http', port: 80, targetPort: 'http-port', protocol: 'TCP' },
        { name: 'metrics', port: 9090, targetPort: 9100, protocol: 'TCP' },
      ],
    },
  });
  const pod = (name: string, node: string): Pod & KubeObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: { app: 'web' } },
    spec: {
      nodeName: node,
      hostname: name,
      subdomain: 'web',
      containers: [{ name: 'c', image: 'busybox', ports: [{ name: 'http-port', containerPort: 8080 }] }],
    },
  });
  const setStatus = async (name: string, ip: string, ready: boolean) => {
    const cur = await client.get<Pod & KubeObject>(PODS, name, { namespace: ns });
    await client.updateStatus(PODS, {
      ...cur,
      status: {
        phase: 'Running',
        podIP: ip,
        podIPs: [{ ip }],
        conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
      },
    });
  };
  await client.create(PODS, pod('web-0', 'node-a'));
  await client.create(PODS, pod('web-1', 'node-b'));
  await client.create(PODS, {
    ...pod('other', 'node-a'),
    metadata: { name: 'other', namespace: ns, labels: { app: 'x' } },
  });
  await setStatus('web-0', '10.244.0.5', true);
  await setStatus('web-1', '10.244.1.7', false);
  await setStatus('other', '10.244.0.9', true);

  const slicesOf = async () =>
    (
      await client.list<EndpointSlice & KubeObject>(ENDPOINT_SLICES, {
        namespace: ns,
        labelSelector: 'kubernetes.io/service-name=web',
      })
    ).items;

  const first = await until('a slice with both pods', async () => {
    const s = await slicesOf();
    return s.length === 1 && s[0].endpoints?.length === 2 ? s[0] : undefined;
  });
  assert.equal(first.addressType, 'IPv4');
  assert.equal(
    first.metadata?.labels?.['endpointslice.kubernetes.io/managed-by'],
    'endpointslice-controller.k8s.io',
  );
  assert.equal(first.metadata?.ownerReferences?.[0].kind, 'Service');
  assert.deepEqual(
    first.ports?.map((p) => [p.name, p.port, p.protocol]),
    [
      ['http', 8080, 'TCP'],
      ['metrics', 9100, 'TCP'],
    ],
    'named targetPort resolved against the container port',
  );
  const byIp = new Map(first.endpoints!.map((e) => [e.addresses[0], e]));
  assert.deepEqual(byIp.get('10.244.0.5')?.conditions, { ready: true, serving: true, terminating: false });
  assert.deepEqual(byIp.get('10.244.1.7')?.conditions, { ready: false, serving: false, terminating: false });
  assert.equal(byIp.get('10.244.0.5')?.nodeName, 'node-a');
  assert.equal(byIp.get('10.244.0.5')?.hostname, 'web-0');
  assert.equal(byIp.get('10.244.0.5')?.targetRef?.name, 'web-0');
  assert.ok(!byIp.has('10.244.0.9'), 'the unselected pod is not an endpoint');

  const ep = await until('the Endpoints object', async () => {
    const e = await client.get<Endpoints & KubeObject>(ENDPOINTS, 'web', { namespace: ns });
    return e.subsets?.length ? e : undefined;
  });
  assert.deepEqual(
    ep.subsets?.[0].addresses?.map((a) => a.ip),
    ['10.244.0.5'],
  );
  assert.deepEqual(
    ep.subsets?.[0].notReadyAddresses?.map((a) => a.ip),
    ['10.244.1.7'],
  );

  // Readiness changes show up within a second.
  const started = Date.now();
  await setStatus('web-1', '10.244.1.7', true);
  await until(
    'web-1 ready in the slice and the Endpoints',
    async () => {
      const s = await slicesOf();
      const e = await client.get<Endpoints & KubeObject>(ENDPOINTS, 'web', { namespace: ns });
      const ready = s[0]?.endpoints?.find((x) => x.addresses[0] === '10.244.1.7')?.conditions?.ready;
      return ready && e.subsets?.[0].addresses?.length === 2 ? true : undefined;
    },
    1000,
  );
  assert.ok(Date.now() - started < 1000);

  // A deleted pod leaves; a changed selector moves the endpoints.
  await client.delete(PODS, 'web-0', { namespace: ns, gracePeriodSeconds: 0 });
  await until('web-0 gone', async () => {
    const s = await slicesOf();
    return s[0]?.endpoints?.length === 1 && s[0].endpoints[0].addresses[0] === '10.244.1.7'
      ? true
      : undefined;
  });

  // A Service without a selector has neither slices nor managed Endpoints; a deleted one loses both.
  await client.delete(SERVICES, 'web', { namespace: ns });
  await until('slices and Endpoints removed', async () => {
    const s = await slicesOf();
    const e = await client.get(ENDPOINTS, 'web', { namespace: ns }).then(
      () => true,
      () => false,
    );
    return s.length === 0 && !e ? true : undefined;
  });
  assert.deepEqual(errors, []);
});
