/**
 * `skiff cluster create --nodes 3` end to end: three nodes (server + two agents, each in its own
 * network and mount namespace) Ready with distinct pod CIDRs, an image imported once and pulled
 * by every node from the cluster registry, a Deployment spread over the nodes, pod-to-pod
 * traffic across nodes over the host-gw routes, and `cluster delete` leaving nothing behind.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { buildTestImage } from '../../src/runtime/index.ts';
import { until } from '../e2e/skiff.ts';

const run = promisify(execFile);
const NODE = new URL('../../node_modules/.bin/node', import.meta.url).pathname;
const SKIFF = new URL('../../bin/skiff', import.meta.url).pathname;
const CLUSTER_CLI = new URL('./skiff-cluster.ts', import.meta.url).pathname;

const cluster = (...args: string[]) => run(NODE, [CLUSTER_CLI, ...args], { timeout: 150_000 });

/** Everything on this machine that carries the cluster's name. */
async function traces(name: string): Promise<Record<string, string[]>> {
  const sh = async (cmd: string, args: string[]) => (await run(cmd, args)).stdout.split('\n');
  const procs: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(`/skiff-clusters/${name}`)) procs.push(`${pid}: ${cmd.replaceAll('\0', ' ')}`);
  }
  return {
    netns: (await sh('ip', ['netns', 'list'])).filter((l) => l.includes(name)),
    links: (await sh('ip', ['-o', 'link'])).filter((l) => l.includes(name)),
    mounts: (await readFile('/proc/mounts', 'utf8')).split('\n').filter((l) => l.includes(name)),
    iptables: (await sh('iptables', ['-S'])).filter((l) => l.includes(name)),
    // Other tests may add host tables meanwhile; the nodes' own tables live in their namespaces.
    nftables: (await sh('nft', ['list', 'tables'])).filter((l) => l.includes(name)),
    processes: procs,
  };
}

test('skiff cluster: 3 nodes, pods spread and reaching each other across nodes, clean delete', async (t) => {
  if (process.getuid?.() !== 0) throw new Error('skiff cluster needs root (network and mount namespaces)');
  const name = `t${Math.floor(Math.random() * 0xffffff)
    .toString(16)
    .padStart(6, '0')}`;
  const work = await mkdtemp(join(tmpdir(), 'skiff-cluster-test-'));
  let deleted = false;
  t.after(async () => {
    if (!deleted) await cluster('delete', name).catch((e) => process.stderr.write(`delete: ${e.message}\n`));
    await rm(work, { recursive: true, force: true });
  });

  const created = await cluster('create', '--name', name, '--nodes', '3');
  const kubeconfig = /kubeconfig: (\S+)/.exec(created.stdout)?.[1];
  assert.ok(kubeconfig, created.stdout);
  const env = { ...process.env, KUBECONFIG: kubeconfig };
  const kubectl = async (...args: string[]) => (await run('kubectl', args, { env, timeout: 60_000 })).stdout;
  assert.match((await cluster('ls')).stdout, new RegExp(`^${name}\\s+3\\s+3\\s+https://172\\.31\\.`, 'm'));

  // Three Ready nodes with distinct pod CIDRs.
  const nodes = await until(
    'three Ready nodes',
    async () => {
      const items = JSON.parse(await kubectl('get', 'nodes', '-o', 'json')).items as any[];
      const ready = items.filter((n) =>
        n.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'),
      );
      return ready.length === 3 && items;
    },
    60_000,
  );
  const cidrs = nodes.map((n: any) => n.spec.podCIDR);
  assert.equal(new Set(cidrs).size, 3, `distinct pod CIDRs: ${cidrs}`);

  // One import serves every node: each pulls from the cluster registry on node 1's address.
  const image = await buildTestImage(work);
  const imported = await run(SKIFF, ['image', 'import', image.dockerArchive], { env, timeout: 120_000 });
  assert.match(imported.stdout, /skiff\.local\/busybox:1\.35/);

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
  await cluster('delete', name);
  deleted = true;
  assert.deepEqual(await traces(name), {
    netns: [],
    links: [],
    mounts: [],
    iptables: [],
    nftables: [],
    processes: [],
  });
  assert.equal(existsSync(`/var/lib/skiff-clusters/${name}`), false);
});
