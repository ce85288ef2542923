/**
 * The whole path on one real node, as a user drives it: `skiff server` (SQLite, its own node
 * agent, Skiff's CRI runtime with runc and conmon, CNI bridge networking), `skiff image import`
 * into the cluster registry, `kubectl apply` of a Deployment, pods Running with pod IPs that
 * answer HTTP, scale up and down, and nothing left behind afterwards.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { buildTestImage } from '../../src/runtime/index.ts';
import { type SkiffServer, startSkiffServer, until } from './skiff.ts';

const run = promisify(execFile);
const kubeEnv = () => ({ ...process.env, KUBECONFIG: s.kubeconfig });
let s: SkiffServer;
let imageDir: string;

before(async () => {
  s = await startSkiffServer();
  imageDir = await mkdtemp(join(tmpdir(), 'skiff-e2e-image-'));
});

after(async () => {
  await s?.stop();
  if (imageDir) await rm(imageDir, { recursive: true, force: true });
});

const manifest = (replicas: number) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: httpd
        image: skiff.local/busybox:1.35
        command: ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && echo serving $(hostname) && exec httpd -f -p 8080 -h /www"]
        ports:
        - containerPort: 8080
`;

interface PodList {
  items: { metadata: { name: string }; status: { phase?: string; podIP?: string } }[];
}

async function pods(): Promise<PodList['items']> {
  return (JSON.parse(await s.kubectl('get', 'pods', '-l', 'app=web', '-o', 'json')) as PodList).items;
}

/** Names of the processes still running whose command line mentions the data dir. */
async function processesOf(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(dir) && Number(pid) !== s.proc.pid) found.push(`${pid}: ${cmd.replaceAll('\0', ' ')}`);
  }
  return found;
}

test('a Deployment from kubectl apply runs real containers that answer on their pod IPs', async () => {
  const image = await buildTestImage(imageDir);
  const imported = await s.skiff('image', 'import', image.dockerArchive);
  assert.match(imported, /skiff\.local\/busybox:1\.35 sha256:[0-9a-f]{64}/);
  assert.match(await s.skiff('image', 'ls'), /skiff\.local\/busybox\s+1\.35/);

  const file = join(imageDir, 'web.yaml');
  await writeFile(file, manifest(2));
  assert.match(await s.kubectl('apply', '-f', file), /deployment.apps\/web created/);
  await s.kubectl('rollout', 'status', 'deployment/web', '--timeout=90s');
  const running = await pods();
  assert.equal(running.length, 2);
  const prefix = s.podCIDR.split('.').slice(0, 3).join('.');
  for (const p of running) {
    assert.equal(p.status.phase, 'Running');
    assert.ok(p.status.podIP?.startsWith(`${prefix}.`), `pod IP ${p.status.podIP} in ${s.podCIDR}`);
    const { stdout } = await run('timeout', [
      '5',
      'busybox',
      'wget',
      '-qO-',
      `http://${p.status.podIP}:8080/`,
    ]);
    assert.equal(stdout.trim(), p.metadata.name, 'each pod answers with its own hostname');
  }
  assert.match(await s.kubectl('apply', '-f', file), /deployment.apps\/web unchanged/);
});

test('kubectl logs and exec reach the containers through the API server and the kubelet', async () => {
  const [pod] = await pods();
  const name = pod.metadata.name;
  assert.match(await s.kubectl('logs', name), new RegExp(`serving ${name}`));
  assert.equal((await s.kubectl('exec', name, '--', 'cat', '/www/index.html')).trim(), name);
  await assert.rejects(
    run('kubectl', ['exec', name, '--', 'sh', '-c', 'exit 3'], { env: kubeEnv() }),
    (e: any) => {
      assert.equal(e.code, 3, "the exit code of the command is kubectl's");
      return true;
    },
  );
});

test('a Service gets a cluster IP that balances over the pods, and its name resolves in cluster DNS', async () => {
  await s.kubectl('expose', 'deployment/web', '--port=80', '--target-port=8080');
  const svc = JSON.parse(await s.kubectl('get', 'service', 'web', '-o', 'json'));
  const ip: string = svc.spec.clusterIP;
  const prefix = s.serviceCIDR.split('.').slice(0, 3).join('.');
  assert.ok(ip.startsWith(`${prefix}.`), `cluster IP ${ip} in ${s.serviceCIDR}`);
  const names = new Set((await pods()).map((p) => p.metadata.name));
  const seen = new Set<string>();
  await until('both pods answer through the cluster IP', async () => {
    const { stdout } = await run('timeout', ['5', 'busybox', 'wget', '-qO-', `http://${ip}/`]);
    assert.ok(names.has(stdout.trim()), `answer ${stdout} is one of the pods`);
    seen.add(stdout.trim());
    return seen.size === 2;
  });
  const [pod] = [...names];
  const lookup = await s.kubectl('exec', pod, '--', 'nslookup', 'web.default.svc.cluster.local');
  assert.match(lookup, new RegExp(`Address:? *${ip.replaceAll('.', '\\.')}`));
});

test('scaling adds and removes real pods, and removed pods leave nothing behind', async () => {
  await s.kubectl('scale', 'deployment/web', '--replicas=3');
  await until(
    '3 running pods',
    async () => (await pods()).filter((p) => p.status.phase === 'Running').length === 3,
  );
  await s.kubectl('scale', 'deployment/web', '--replicas=0');
  await until('no pods', async () => (await pods()).length === 0, 90_000);
  await until('no container processes', async () => (await processesOf(s.dir)).length === 0, 30_000);
  const { stdout: veths } = await run('ip', ['-o', 'link', 'show', 'master', s.bridge]);
  assert.equal(veths.trim(), '', 'no veth left on the pod bridge');
  const mounts = (await readFile('/proc/mounts', 'utf8')).split('\n').filter((l) => l.includes(s.dir));
  assert.deepEqual(mounts, [], 'no mount left under the data dir');
});

test('stopping the server and killall leave the machine as it was', async () => {
  await s.kubectl('scale', 'deployment/web', '--replicas=1');
  await until('1 running pod', async () => (await pods()).some((p) => p.status.phase === 'Running'));
  const dir = s.dir;
  await s.stop();
  assert.deepEqual(await processesOf(dir), []);
  const mounts = (await readFile('/proc/mounts', 'utf8')).split('\n').filter((l) => l.includes(dir));
  assert.deepEqual(mounts, []);
  await assert.rejects(run('ip', ['link', 'show', s.bridge]), 'the CNI bridge is gone');
  const { stdout: tables } = await run('nft', ['list', 'tables']);
  assert.ok(!tables.includes(s.bridge), `no nftables table of this node is left:\n${tables}`);
});
