/**
 * `skiff cluster create --nodes 3` end to end: three nodes (server + two agents, each in its own
 * network and mount namespace) Ready with distinct pod CIDRs, an image imported once and pulled
 * by every node from the cluster registry, a Deployment spread over the nodes, pod-to-pod
 * traffic across nodes over the host-gw routes, and `cluster delete` leaving nothing behind.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { cluster, createTestCluster, run } from './helpers.ts';

test('skiff cluster: 3 nodes, pods spread and reaching each other across nodes, clean delete', async (t) => {
  const c = await createTestCluster(t, 't', 3);
  const { name, work, kubectl } = c;
  assert.match((await cluster('ls')).stdout, new RegExp(`^${name}\\s+3\\s+3\\s+https://172\\.31\\.`, 'm'));

  // Three Ready nodes with distinct pod CIDRs.
  const nodes = await c.readyNodes(3);
  const cidrs = nodes.map((n: any) => n.spec.podCIDR);
  assert.equal(new Set(cidrs).size, 3, `distinct pod CIDRs: ${cidrs}`);

  // One import serves every node: each pulls from the cluster registry on node 1's address.
  assert.match(await c.importTestImage(), /skiff\.local\/busybox:1\.35/);

  const manifest = join(work, 'web.yaml');
  await writeFile(
    manifest,
    `apiVersion: apps/v1
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
        command: ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www"]
`,
  );
  await kubectl('apply', '-f', manifest);
  await kubectl('rollout', 'status', 'deployment/web', '--timeout=90s');
  const pods = (JSON.parse(await kubectl('get', 'pods', '-l', 'app=web', '-o', 'json')).items as any[]).map(
    (p) => ({
      name: p.metadata.name as string,
      node: p.spec.nodeName as string,
      ip: p.status.podIP as string,
    }),
  );
  assert.equal(new Set(pods.map((p) => p.node)).size, 3, `one pod per node: ${JSON.stringify(pods)}`);
  const on = (i: number) => pods.find((p) => p.node === `${name}-${i}`)!;

  // Node 1's namespace reaches the pod on node 3 over the host-gw route.
  const viaNode = await run('ip', [
    'netns',
    'exec',
    `skiff-${name}-1`,
    'timeout',
    '5',
    'busybox',
    'wget',
    '-qO-',
    `http://${on(3).ip}:8080/`,
  ]);
  assert.equal(viaNode.stdout.trim(), on(3).name);
  // A pod on node 2 reaches the pods on nodes 3 and 1 (routes both ways, return path included).
  for (const target of [on(3), on(1)]) {
    const out = await kubectl(
      'exec',
      on(2).name,
      '--',
      'timeout',
      '5',
      'wget',
      '-qO-',
      `http://${target.ip}:8080/`,
    );
    assert.equal(out.trim(), target.name);
  }

  // Delete: nothing with the cluster's name is left.
  await c.deleteAndCheck();
});
