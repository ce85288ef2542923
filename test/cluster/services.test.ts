/**
 * Services, cluster DNS and NetworkPolicy on a real `skiff cluster create --nodes 3` cluster:
 * a Deployment of busybox httpd spread one pod per node behind a Service, reached by name from
 * pods (cluster DNS from their resolv.conf) and across nodes, NodePort on every node's address,
 * ClientIP session affinity, NetworkPolicy deny and allow, endpoints following a scale-up, and
 * `cluster delete` leaving the machine as it was.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { until } from '../e2e/skiff.ts';
import { createTestCluster, run } from './helpers.ts';

// Addresses we ask for explicitly (a user may pick a ClusterIP and a node port in the ranges).
const WEB_IP = '10.43.0.100';
const STICKY_IP = '10.43.0.101';
const NODE_PORT = 30880;

const manifest = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      topologySpreadConstraints:
      - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: web}}}
      containers:
      - name: httpd
        image: skiff.local/busybox:1.35
        ports: [{name: http, containerPort: 8080}]
        readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
        command: ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www"]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  clusterIP: ${WEB_IP}
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080, nodePort: ${NODE_PORT}}]
---
apiVersion: v1
kind: Service
metadata: {name: sticky}
spec:
  clusterIP: ${STICKY_IP}
  sessionAffinity: ClientIP
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`;

const client = (name: string, node: string, role: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, labels: {role: ${role}}}
spec:
  nodeName: ${node}
  terminationGracePeriodSeconds: 1
  containers: [{name: c, image: skiff.local/busybox:1.35, command: ["sleep", "3600"]}]
`;

test('skiff cluster: Services, DNS and NetworkPolicy across 3 nodes', { timeout: 300_000 }, async (t) => {
  const c = await createTestCluster(t, 'v', 3);
  const { name, work, kubectl } = c;
  /** A shell command in a pod, through the API server's pods/exec. */
  const podSh = (pod: string, script: string) => kubectl('exec', pod, '--', 'sh', '-c', script);
  /** A command in node i's network namespace (as a process on that node). */
  const onNode = async (i: number, ...cmd: string[]) =>
    (await run('ip', ['netns', 'exec', `skiff-${name}-${i}`, ...cmd], { timeout: 30_000 })).stdout;
  const state = JSON.parse(await readFile(`/var/lib/skiff-clusters/${name}/cluster.json`, 'utf8'));
  const nodeIPs: string[] = state.nodes.map((n: { ip: string }) => n.ip);

  await c.readyNodes(3);
  await c.importTestImage();
  await writeFile(join(work, 'web.yaml'), manifest);
  await writeFile(
    join(work, 'clients.yaml'),
    [client('client-a', `${name}-3`, 'client'), client('client-b', `${name}-1`, 'other')].join('---\n'),
  );
  await kubectl('apply', '-f', join(work, 'web.yaml'), '-f', join(work, 'clients.yaml'));
  await kubectl('rollout', 'status', 'deployment/web', '--timeout=90s');
  await kubectl('wait', '--for=condition=Ready', 'pod/client-a', 'pod/client-b', '--timeout=60s');
  const webPods = async () =>
    (JSON.parse(await kubectl('get', 'pods', '-l', 'app=web', '-o', 'json')).items as any[]).map((p) => ({
      name: p.metadata.name as string,
      node: p.spec.nodeName as string,
      ip: p.status.podIP as string,
    }));
  const pods = await webPods();
  assert.equal(new Set(pods.map((p) => p.node)).size, 3, `one web pod per node: ${JSON.stringify(pods)}`);
  const names = new Set(pods.map((p) => p.name));
  // The Service's endpoints are all three pods before any traffic case starts.
  await until(
    'the web EndpointSlice lists 3 ready pods',
    async () => {
      const slices = JSON.parse(
        await kubectl('get', 'endpointslices', '-l', 'kubernetes.io/service-name=web', '-o', 'json'),
      ).items as any[];
      return slices.flatMap((s) => s.endpoints ?? []).filter((e: any) => e.conditions?.ready).length === 3;
    },
    20_000,
  );

  await t.test('a pod reaches the Service by IP on pods of other nodes', async () => {
    // client-a is on node 3; 20 requests spread over the 3 pods reach the other nodes' pods.
    const out = await podSh('client-a', wgetLoop(`http://${WEB_IP}/`, 20));
    const seen = answers(out, names);
    const remote = pods.filter((p) => p.node !== `${name}-3` && seen.has(p.name));
    assert.ok(remote.length >= 1, `a pod on another node answered: ${[...seen]}`);
  });

  await t.test('a pod on the server node reaches web.default.svc.cluster.local (cluster DNS)', async () => {
    const resolv = await podSh('client-b', 'cat /etc/resolv.conf');
    assert.match(resolv, /nameserver 10\.43\.0\.10/);
    const out = await podSh('client-b', wgetLoop('http://web.default.svc.cluster.local/', 10));
    const seen = answers(out, names);
    assert.ok(
      pods.some((p) => p.node !== `${name}-1` && seen.has(p.name)),
      `a pod on another node answered: ${[...seen]}`,
    );
  });

  await t.test('a pod on an agent node reaches web.default.svc.cluster.local (cluster DNS)', async () => {
    const out = await podSh('client-a', 'timeout 5 wget -qO- http://web.default.svc.cluster.local/');
    assert.ok(names.has(out.trim()), `answer: ${out}`);
  });

  await t.test('NodePort answers on every node address', async () => {
    for (const ip of nodeIPs) {
      // From the host, outside the cluster.
      const { stdout } = await run('timeout', ['5', 'busybox', 'wget', '-qO-', `http://${ip}:${NODE_PORT}/`]);
      assert.ok(names.has(stdout.trim()), `NodePort on ${ip} from the host: ${stdout}`);
      // From another node.
      const other = nodeIPs.indexOf(ip) === 0 ? 2 : 1;
      const viaNode = await onNode(
        other,
        'timeout',
        '5',
        'busybox',
        'wget',
        '-qO-',
        `http://${ip}:${NODE_PORT}/`,
      );
      assert.ok(names.has(viaNode.trim()), `NodePort on ${ip} from node ${other}: ${viaNode}`);
    }
  });

  await t.test(
    'sessionAffinity: ClientIP keeps a client on one pod; without it requests spread',
    async () => {
      const sticky = answers(await podSh('client-a', wgetLoop(`http://${STICKY_IP}/`, 10)), names);
      assert.equal(sticky.size, 1, `one pod for 10 requests with ClientIP affinity: ${[...sticky]}`);
      const spread = answers(await podSh('client-a', wgetLoop(`http://${WEB_IP}/`, 20)), names);
      assert.ok(spread.size >= 2, `20 requests without affinity reach at least 2 pods: ${[...spread]}`);
    },
  );

  await t.test('NetworkPolicy: default deny blocks, an allow rule opens exactly what it names', async () => {
    const target = pods.find((p) => p.node === `${name}-2`)!;
    const get = (pod: string) =>
      podSh(pod, `timeout 3 wget -qO- http://${target.ip}:8080/ || echo blocked`).then((s) => s.trim());
    assert.equal(await get('client-a'), target.name, 'open before any policy');
    await writeFile(
      join(work, 'deny.yaml'),
      `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-deny}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
`,
    );
    try {
      await kubectl('apply', '-f', join(work, 'deny.yaml'));
      await until('default deny blocks client-a', async () => (await get('client-a')) === 'blocked', 10_000);
      assert.equal(await get('client-b'), 'blocked');
      await writeFile(
        join(work, 'allow.yaml'),
        `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-allow-clients}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{podSelector: {matchLabels: {role: client}}}]
    ports: [{port: 8080, protocol: TCP}]
`,
      );
      await kubectl('apply', '-f', join(work, 'allow.yaml'));
      await until(
        'the allow rule lets client-a in',
        async () => (await get('client-a')) === target.name,
        10_000,
      );
      assert.equal(await get('client-b'), 'blocked', 'a client the rule does not name stays out');
    } finally {
      // The cases after this one need the web pods open again, whatever happened here.
      await kubectl('delete', 'networkpolicy', 'web-deny', 'web-allow-clients', '--ignore-not-found');
    }
  });

  await t.test(
    'scaling updates the EndpointSlice within a second of Ready, and the new pod gets traffic',
    async () => {
      await kubectl('scale', 'deployment/web', '--replicas=4');
      let readyAt = 0;
      let newPod: { name: string; ip: string } | undefined;
      let listedAt = 0;
      const deadline = Date.now() + 60_000;
      while (!listedAt && Date.now() < deadline) {
        const list = JSON.parse(await kubectl('get', 'pods,endpointslices', '-o', 'json')).items as any[];
        const now = Date.now();
        const fresh = list.find(
          (o) =>
            o.kind === 'Pod' &&
            o.metadata.labels?.app === 'web' &&
            !names.has(o.metadata.name) &&
            o.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'),
        );
        if (fresh && !readyAt) {
          readyAt = now;
          newPod = { name: fresh.metadata.name, ip: fresh.status.podIP };
        }
        if (
          newPod &&
          list.some(
            (o) =>
              o.kind === 'EndpointSlice' &&
              o.metadata.labels?.['kubernetes.io/service-name'] === 'web' &&
              o.endpoints?.some((e: any) => e.addresses?.includes(newPod!.ip) && e.conditions?.ready),
          )
        )
          listedAt = now;
        else await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(newPod, 'the new pod became Ready');
      assert.ok(listedAt, 'the new pod appeared in the EndpointSlice');
      // One listing is taken between the two observations, so the bound includes its duration.
      assert.ok(listedAt - readyAt <= 1000, `listed ${listedAt - readyAt} ms after it was seen Ready`);
      const seen = new Set<string>();
      for (let i = 0; i < 4 && !seen.has(newPod.name); i++)
        for (const s of (await podSh('client-a', wgetLoop(`http://${WEB_IP}/`, 20))).split('\n')) seen.add(s);
      assert.ok(seen.has(newPod.name), `the new pod ${newPod.name} answered: ${[...seen]}`);
    },
  );

  await t.test('the API server allocates a ClusterIP and NodePort when none is asked for', async () => {
    await kubectl('create', 'service', 'nodeport', 'auto', '--tcp=80:8080');
    const svc = JSON.parse(await kubectl('get', 'service', 'auto', '-o', 'json'));
    assert.match(svc.spec.clusterIP ?? '', /^10\.43\./, 'allocated ClusterIP');
    assert.ok(svc.spec.ports[0].nodePort >= 30000, 'allocated node port');
  });

  await c.deleteAndCheck();
});

/** A shell loop of `n` wget calls, one answer (or "fail") a line. */
function wgetLoop(url: string, n: number): string {
  return `for i in $(seq ${n}); do timeout 5 wget -qO- ${url} || echo fail; done`;
}

/** The distinct answers of a wget loop; every one must come from a pod in `names`. */
function answers(out: string, names: Set<string>): Set<string> {
  const lines = out.split('\n').filter(Boolean);
  for (const l of lines) assert.ok(names.has(l), `an answer from a web pod, got "${l}" in:\n${out}`);
  return new Set(lines);
}
