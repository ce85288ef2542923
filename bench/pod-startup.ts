/**
 * Pod startup benchmark (`make bench-pod-startup`; needs root, runc, conmon, containerd):
 *
 * 1. 50 busybox pods (`sleep 3600`, image present, spec.nodeName set) on one real node, from
 *    creation to Running as a watch sees it, p50/p99: once on a Skiff node (one process, started
 *    by `startNode` as `skiff agent` does: runtime, agent, Service proxy, node DNS) and once
 *    with the same agent code over containerd (that agent process has no runtime inside), in
 *    the same run, and the ratio. Both bridges run without ipMasq (the Skiff node's Service
 *    proxy masquerades instead; the containerd config never sets it).
 * 2. The limit: `runc run -d` of 50 prepared bundles, p50/p99 per container.
 * 3. 100 pods on the Skiff node: resident memory (VmRSS) of the node process, and conmon's
 *    separately.
 *
 * PODS, BIG_PODS (0 skips step 3), SKIFF_ONLY=1 (skip containerd and raw runc),
 * SKIFF_PHASES=<file> (per-phase timing and CPU per child).
 * Everything it makes (pods, network namespaces, the bridge, containers, containerd) is torn
 * down at the end, also after an error. Runs this file again as `node` and `agent` children.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RestClient } from '../src/client/index.ts';

type Json = Record<string, any>;
const NODE = process.execPath;
const SELF = new URL(import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- children ----

/**
 * `node <json>`: a Skiff node as `skiff agent` runs it: `startNode` (src/cli/node.ts) starts
 * Skiff's runtime (CRI server), the agent (connected to it over the unix socket), the Service
 * proxy, NetworkPolicy and node DNS in this one process. The image is imported beforehand by
 * the parent, so the import code does not count against this process's memory.
 */
async function nodeChild(args: string[]): Promise<void> {
  const o = JSON.parse(args[0]) as Json;
  const { RestClient } = await import('../src/client/index.ts');
  const { startNode } = await import('../src/cli/node.ts');
  const client = await RestClient.fromKubeconfig(o.kubeconfig);
  const node = await startNode({
    client,
    dataDir: o.dataDir,
    nodeName: o.nodeName,
    podCIDR: o.podCIDR,
    bridge: o.bridge,
    routes: false,
    kubeletPort: 0,
    hostIP: '127.0.0.1',
    log: () => {},
  });
  process.stdout.write(`${JSON.stringify({ ready: true, criEndpoint: node.criEndpoint })}\n`);
  // SIGUSR2: where the memory is (V8 heap, external, array buffers), on stderr
  process.on('SIGUSR2', async () => {
    if (process.env.HEAP_SNAPSHOT_DIR) {
      const v8 = await import('node:v8');
      const file = path.join(process.env.HEAP_SNAPSHOT_DIR, `node-${Date.now()}.heapsnapshot`);
      console.error(`heap snapshot: ${v8.writeHeapSnapshot(file)}`);
    }
    const m = process.memoryUsage();
    const f = (b: number) => `${(b / 2 ** 20).toFixed(1)}`;
    console.error(
      `node memory MB: rss ${f(m.rss)}, heap ${f(m.heapUsed)}/${f(m.heapTotal)}, external ${f(m.external)}, arrayBuffers ${f(m.arrayBuffers)}`,
    );
  });
  const cpu0 = process.cpuUsage();
  await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  reportCpu('node', cpu0);
  await node.close();
  client.close();
  process.exit(0);
}

/** `agent <json AgentOptions>` */
async function agentChild(args: string[]): Promise<void> {
  const { startAgent } = await import('../src/kubelet/index.ts');
  const agent = await startAgent({ ...JSON.parse(args[0]), log: () => {} });
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  const cpu0 = process.cpuUsage();
  await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  reportCpu('agent', cpu0);
  await agent.close();
  process.exit(0);
}

/** With SKIFF_PHASES set: the child's own CPU time and that of its reaped children since `since`. */
function reportCpu(kind: string, since: NodeJS.CpuUsage): void {
  if (!process.env.SKIFF_PHASES) return;
  const own = process.cpuUsage(since);
  const f = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  const tick = 10; // ms per clock tick (USER_HZ 100)
  const kids = (Number(f[14]) + Number(f[15])) * tick;
  console.error(
    `cpu ${kind}: user ${(own.user / 1e3).toFixed(0)} ms, system ${(own.system / 1e3).toFixed(0)} ms, reaped children ${kids} ms`,
  );
}

/** Starts this file as a child and waits for its `{"ready":true}` line. */
async function child(kind: string, args: string[]): Promise<{ proc: ChildProcess; info: Json }> {
  // NODE_CHILD_FLAGS: V8/Node flags for the node child; default what `bin/skiff agent` runs with
  const shipped = '--max-semi-space-size=1';
  const flags = kind === 'node' ? (process.env.NODE_CHILD_FLAGS ?? shipped).split(' ').filter(Boolean) : [];
  const proc = spawn(NODE, [...flags, SELF, kind, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const info = await new Promise<Json>((resolve, reject) => {
    let buf = '';
    proc.stdout!.on('data', (d) => {
      buf += d;
      const line = buf.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line));
    });
    proc.once('exit', (code) => reject(new Error(`${kind} child exited with ${code}`)));
  });
  return { proc, info };
}

async function stopChild(p: ChildProcess | undefined): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const done = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
  await done;
  clearTimeout(t);
}

// ---- measuring ----

function rssKiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const ms = (x: number) => `${x.toFixed(0)} ms`;

/** Creates `count` pods at once; resolves with each one's creation-to-Running time (ms) seen by a watch. */
async function startPods(client: RestClient, ns: string, nodeName: string, image: string, names: string[]) {
  const { PODS } = await import('../src/client/index.ts');
  const created = new Map<string, number>();
  const running = new Map<string, number>();
  const ac = new AbortController();
  const list = await client.list(PODS, { namespace: ns });
  const watching = (async () => {
    for await (const ev of client.watch(PODS, {
      namespace: ns,
      resourceVersion: list.metadata?.resourceVersion,
      signal: ac.signal,
    })) {
      const p = ev.object as Json;
      if (p.status?.phase === 'Running' && !running.has(p.metadata.name)) {
        running.set(p.metadata.name, performance.now());
        if (names.every((n) => running.has(n))) ac.abort();
      }
    }
  })().catch((e) => {
    if (!ac.signal.aborted) throw e;
  });
  await Promise.all(
    names.map(async (name) => {
      created.set(name, performance.now());
      await client.create(PODS, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name, namespace: ns },
        spec: {
          nodeName,
          terminationGracePeriodSeconds: 0,
          containers: [{ name: 'c', image, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }],
        },
      } as never);
    }),
  );
  const deadline = setTimeout(() => ac.abort(), 300_000);
  await watching;
  clearTimeout(deadline);
  const missing = names.filter((n) => !running.has(n));
  if (missing.length) throw new Error(`${missing.length} pods never ran (e.g. ${missing[0]})`);
  return names.map((n) => running.get(n)! - created.get(n)!);
}

/** Deletes every pod and waits until the agent has removed their sandboxes from the runtime. */
async function deleteAll(client: RestClient, ns: string, criEndpoint: string): Promise<void> {
  const { PODS } = await import('../src/client/index.ts');
  const { criClient } = await import('../src/cri/index.ts');
  const pods = (await client.list(PODS, { namespace: ns })).items as Json[];
  await Promise.all(
    pods.map((p) =>
      client.delete(PODS, p.metadata.name, { namespace: ns, gracePeriodSeconds: 0 }).catch(() => {}),
    ),
  );
  const cri = criClient(criEndpoint);
  try {
    const end = Date.now() + 180_000;
    while (Date.now() < end) {
      const left = (await client.list(PODS, { namespace: ns })).items.length;
      const sandboxes = (await cri.listPodSandbox({})).items.length;
      if (!left && !sandboxes) return;
      await sleep(500);
    }
    throw new Error('pods or sandboxes still there after 180 s');
  } finally {
    cri.close();
  }
}

// ---- raw runc ----

async function rawRunc(dir: string, n: number): Promise<number[]> {
  const { ok, sh } = await import('../test/kubelet/harness.ts');
  const rootfs = path.join(dir, 'rootfs');
  fs.mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
  for (const d of ['proc', 'sys', 'dev', 'tmp']) fs.mkdirSync(path.join(rootfs, d), { recursive: true });
  fs.copyFileSync('/bin/busybox', path.join(rootfs, 'bin/busybox'));
  fs.chmodSync(path.join(rootfs, 'bin/busybox'), 0o755);
  for (const a of ['sh', 'sleep']) fs.symlinkSync('busybox', path.join(rootfs, 'bin', a));
  const root = path.join(dir, 'runc');
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const bundle = path.join(dir, `b${i}`);
    fs.mkdirSync(bundle);
    await sh('runc', ['spec', '--bundle', bundle]);
    const spec = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
    spec.process.terminal = false;
    spec.process.args = ['sleep', '3600'];
    spec.root = { path: rootfs, readonly: true };
    spec.hostname = `b${i}`;
    fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec));
    ids.push(`skiff-bench-${path.basename(dir)}-${i}`);
  }
  const times: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await new Promise<void>((resolve, reject) => {
        const p = spawn('runc', ['--root', root, 'run', '-d', '--bundle', path.join(dir, `b${i}`), ids[i]], {
          stdio: 'ignore',
        });
        p.on('error', reject);
        p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`runc run exited with ${code}`))));
      });
      times.push(performance.now() - t);
    }
  } finally {
    for (const id of ids) {
      await ok('runc', ['--root', root, 'kill', id, 'KILL']);
      await ok('runc', ['--root', root, 'delete', '--force', id]);
    }
  }
  return times;
}

// ---- main ----

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the pod startup benchmark needs root');
  const { startApiServer } = await import('../src/apiserver/index.ts');
  const { RestClient } = await import('../src/client/index.ts');
  const { startTestContainerd } = await import('../src/runtime/index.ts');
  const { MemoryBackend } = await import('../src/store/index.ts');
  const { destroyLeftovers, testRegistry } = await import('../test/kubelet/harness.ts');
  const N = Number(process.env.PODS ?? 50);
  const BIG = Number(process.env.BIG_PODS ?? 100);
  // SKIFF_ONLY=1: only the Skiff runtime part (for profiling; the comparison rows are left out)
  const skiffOnly = !!process.env.SKIFF_ONLY;
  const suffix = randomBytes(3).toString('hex');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-bench-pods-'));
  const bridge = `skb${suffix}`;
  const prefix = `10.${100 + (randomBytes(1)[0] % 100)}.${randomBytes(1)[0]}.`;
  const podCIDR = `${prefix}0/24`;
  const stateDir = path.join(dir, 'node', 'run'); // nodePaths(dataDir).runtimeState
  const closers: (() => Promise<void>)[] = [];
  const rows: string[][] = [];
  const table = (r: string[]) => {
    rows.push(r);
    console.log(r.join('  |  '));
  };
  try {
    const backend = new MemoryBackend();
    const api = await startApiServer({
      dataDir: path.join(dir, 'api'),
      port: 0,
      backend,
      registry: testRegistry(),
    });
    closers.push(async () => {
      await api.close();
      await backend.close();
    });
    const client = await RestClient.fromKubeconfig(api.kubeconfigPath);
    closers.push(async () => client.close());
    const agentOpts = (nodeName: string, criEndpoint: string, sub: string) => ({
      kubeconfig: api.kubeconfigPath,
      nodeName,
      criEndpoint,
      dataDir: path.join(dir, sub, 'agent'),
      podLogsDir: path.join(dir, sub, 'logs'),
      podCIDR,
      hostIP: '127.0.0.1',
      port: 0,
      maxPods: 200,
    });

    // -- Skiff's node: runtime and agent in one process --
    const nodeDir = path.join(dir, 'node');
    const { ImageStore, buildTestImage } = await import('../src/runtime/index.ts');
    const img = await buildTestImage(path.join(dir, 'image'));
    await new ImageStore(path.join(nodeDir, 'runtime')).importArchive(img.dockerArchive);
    const image = img.name;
    const node = await child('node', [
      JSON.stringify({
        kubeconfig: api.kubeconfigPath,
        dataDir: nodeDir,
        nodeName: 'bench-skiff',
        podCIDR,
        bridge,
      }),
    ]);
    closers.push(() => stopChild(node.proc));
    const socket = path.join(stateDir, 'cri.sock');
    closers.push(() => deleteAll(client, 'default', `unix://${socket}`).catch(() => {}));
    const names = Array.from({ length: N }, (_, i) => `s-${i}`);
    const skiff = await startPods(client, 'default', 'bench-skiff', image, names);
    table([`${N} pods, Skiff runtime`, `p50 ${ms(pct(skiff, 50))}`, `p99 ${ms(pct(skiff, 99))}`]);

    // -- 100 pods on the Skiff node: memory --
    if (BIG > N) {
      const more = Array.from({ length: BIG - N }, (_, i) => `s-${N + i}`);
      await startPods(client, 'default', 'bench-skiff', image, more);
      await sleep(3000);
      const conmons = fs
        .readdirSync(path.join(stateDir, 'containers'))
        .map((id) =>
          Number(fs.readFileSync(path.join(stateDir, 'containers', id, 'conmon.pid'), 'utf8').trim()),
        )
        .filter((p) => p > 0);
      const nodeRss = rssKiB(node.proc.pid!);
      node.proc.kill('SIGUSR2');
      const conmonRss = conmons.reduce((a, p) => a + rssKiB(p), 0);
      const mb = (k: number) => `${(k / 1024).toFixed(1)} MB`;
      table([
        `${BIG} pods, Skiff node: RSS`,
        `node process (runtime + agent + proxy/DNS) ${mb(nodeRss)} (target < 150 MB)`,
        `conmon ${mb(conmonRss)} in ${conmons.length} (${mb(conmonRss / Math.max(1, conmons.length))} each)`,
      ]);
    }
    await deleteAll(client, 'default', `unix://${socket}`);
    await stopChild(node.proc);
    if (skiffOnly) return;

    // -- containerd --
    const cd = await startTestContainerd();
    closers.push(() => cd.close());
    const cdAgent = await child('agent', [
      JSON.stringify(agentOpts('bench-containerd', cd.endpoint, 'containerd')),
    ]);
    closers.push(() => stopChild(cdAgent.proc));
    closers.push(() => deleteAll(client, 'default', cd.endpoint).catch(() => {}));
    const cnames = Array.from({ length: N }, (_, i) => `c-${i}`);
    const ctd = await startPods(client, 'default', 'bench-containerd', cd.image, cnames);
    table([`${N} pods, containerd 1.6`, `p50 ${ms(pct(ctd, 50))}`, `p99 ${ms(pct(ctd, 99))}`]);
    table([
      'Skiff / containerd',
      `p50 ${(pct(skiff, 50) / pct(ctd, 50)).toFixed(2)}x`,
      `p99 ${(pct(skiff, 99) / pct(ctd, 99)).toFixed(2)}x`,
    ]);
    await deleteAll(client, 'default', cd.endpoint);
    await stopChild(cdAgent.proc);

    // -- raw runc --
    const rawDir = path.join(dir, 'raw');
    fs.mkdirSync(rawDir);
    const raw = await rawRunc(rawDir, N);
    table([`${N} x runc run -d (serial)`, `p50 ${ms(pct(raw, 50))}`, `p99 ${ms(pct(raw, 99))}`]);
  } finally {
    for (const c of closers.reverse())
      await c().catch((e) => console.error(`teardown: ${(e as Error).message}`));
    await destroyLeftovers(dir, stateDir, bridge, [bridge, prefix, `skiff-b-${bridge}`]);
  }
  console.log('\n| measurement | values |\n| --- | --- |');
  for (const r of rows) console.log(`| ${r[0]} | ${r.slice(1).join(', ')} |`);
}

const [kind, ...rest] = process.argv.slice(2);
const run = kind === 'node' ? nodeChild(rest) : kind === 'agent' ? agentChild(rest) : main();
run.then(
  () => {
    if (!kind) process.exit(0);
  },
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
