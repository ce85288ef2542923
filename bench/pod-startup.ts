/**
 * Pod startup benchmark (`make bench-pod-startup`; needs root, runc, conmon, containerd):
 *
 * 1. Busybox pods (`sleep 3600`, image present, spec.nodeName set) on one real node, from
 *    creation to Running as a watch sees it, on a Skiff node (one process, started by
 *    `startNode` as `skiff agent` does: runtime, agent, Service proxy, node DNS) and on the
 *    same agent code over containerd (that agent process has no runtime inside), in the same
 *    run, with the ratios. Two modes, as upstream's node density test has them:
 *    - sequence: each pod is created once the previous one is Running: the latency of one pod
 *      on a node that is not busy (the p50 < 300 ms / p99 < 800 ms target);
 *    - batch: all pods created in the same instant: on 2 cores this is bounded by CPU (pods x
 *      CPU per pod / cores), so it reports pods/s as well.
 *    Each mode also reports CPU time per pod: of the node process (for containerd: agent plus
 *    containerd) and of everything the node started (a cpuacct cgroup: runc, conmon, CNI
 *    plugins, shims; not the containers, which runc moves to their own cgroups).
 *    Both bridges run without ipMasq (the Skiff node's Service proxy masquerades instead; the
 *    containerd config never sets it).
 * 2. The limit: `runc run -d` of prepared bundles, serially, p50/p99 per container.
 * 3. 100 pods on the Skiff node: resident memory (VmRSS) of the node process, and conmon's
 *    separately.
 *
 * PODS (50), BIG_PODS (100; 0 skips step 3), MODES (`sequence,batch`), SKIFF_ONLY=1 (skip
 * containerd and raw runc), SKIFF_PHASES=<file> (per-phase timing and CPU per child).
 * Everything it makes (pods, network namespaces, the bridge, containers, containerd, the
 * cgroup) is torn down at the end, also after an error. Runs this file again as `node` and
 * `agent` children.
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
  await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  await node.close();
  client.close();
  process.exit(0);
}

/** `agent <json AgentOptions>` */
async function agentChild(args: string[]): Promise<void> {
  const { startAgent } = await import('../src/kubelet/index.ts');
  const agent = await startAgent({ ...JSON.parse(args[0]), log: () => {} });
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  await agent.close();
  process.exit(0);
}

/** Starts this file as a child and waits for its `{"ready":true}` line. */
async function child(
  kind: string,
  args: string[],
  group: CpuGroup,
): Promise<{ proc: ChildProcess; info: Json }> {
  // NODE_CHILD_FLAGS: V8/Node flags for the node child; default what `bin/skiff agent` runs with
  const shipped = '--max-semi-space-size=1';
  const flags = kind === 'node' ? (process.env.NODE_CHILD_FLAGS ?? shipped).split(' ').filter(Boolean) : [];
  const proc = spawn(NODE, [...flags, SELF, kind, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  if (proc.pid) group.add(proc.pid);
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

/** User + system CPU (ms) a live process has used, from /proc/<pid>/stat (10 ms ticks). */
function procCpuMs(pid: number): number {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * 10; // utime, stime: fields 14 and 15
  } catch {
    return 0;
  }
}

/**
 * A cpuacct cgroup (v1) for one node's processes: what they and everything they start use,
 * including processes that have exited since (runc, CNI plugins). `close` moves what is left
 * back to the root and removes it.
 */
class CpuGroup {
  readonly dir: string;
  constructor(name: string) {
    this.dir = path.join('/sys/fs/cgroup/cpuacct', name);
    fs.mkdirSync(this.dir);
  }
  add(pid: number): void {
    fs.writeFileSync(path.join(this.dir, 'cgroup.procs'), String(pid));
  }
  ms(): number {
    return Number(fs.readFileSync(path.join(this.dir, 'cpuacct.usage'), 'utf8')) / 1e6;
  }
  close(): void {
    if (!fs.existsSync(this.dir)) return;
    const left = fs.readFileSync(path.join(this.dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean);
    for (const pid of left) {
      try {
        fs.writeFileSync('/sys/fs/cgroup/cpuacct/cgroup.procs', pid);
      } catch {} // exited meanwhile
    }
    fs.rmdirSync(this.dir);
  }
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const ms = (x: number) => `${x.toFixed(0)} ms`;

type Mode = 'sequence' | 'batch';

interface Run {
  /** creation-to-Running per pod, ms */
  latencies: number[];
  /** first creation to last Running, ms */
  wallMs: number;
  /** CPU per pod, ms: the node's own processes, and its whole cgroup */
  procCpu: number;
  groupCpu: number;
  /** the 1-minute load average when it began */
  load: number;
}

/**
 * Creates the pods `names`: all at once (batch), or each once the previous one is Running
 * (sequence). Resolves with each one's creation-to-Running time as a watch sees it, and the
 * CPU the node used meanwhile.
 */
async function startPods(
  client: RestClient,
  o: { ns: string; nodeName: string; image: string; names: string[]; mode: Mode },
  cpu: { pids: number[]; group: CpuGroup },
): Promise<Run> {
  const { PODS } = await import('../src/client/index.ts');
  const created = new Map<string, number>();
  const running = new Map<string, number>();
  const waiters = new Map<string, () => void>();
  const ac = new AbortController();
  const list = await client.list(PODS, { namespace: o.ns });
  const watching = (async () => {
    for await (const ev of client.watch(PODS, {
      namespace: o.ns,
      resourceVersion: list.metadata?.resourceVersion,
      signal: ac.signal,
    })) {
      const p = ev.object as Json;
      if (p.status?.phase === 'Running' && !running.has(p.metadata.name)) {
        running.set(p.metadata.name, performance.now());
        waiters.get(p.metadata.name)?.();
      }
    }
  })()
    .catch((e) => {
      if (!ac.signal.aborted) throw e;
    })
    .finally(() => ac.abort());
  const seen = (name: string) =>
    new Promise<void>((resolve, reject) => {
      if (running.has(name)) return resolve();
      waiters.set(name, resolve);
      ac.signal.addEventListener('abort', () => reject(new Error(`pod ${name} never ran`)), { once: true });
    });
  const create = async (name: string) => {
    created.set(name, performance.now());
    await client.create(PODS, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: o.ns },
      spec: {
        nodeName: o.nodeName,
        terminationGracePeriodSeconds: 0,
        containers: [
          { name: 'c', image: o.image, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] },
        ],
      },
    } as never);
  };
  const cpuNow = () => ({ proc: cpu.pids.reduce((a, p) => a + procCpuMs(p), 0), group: cpu.group.ms() });
  const deadline = setTimeout(() => ac.abort(), 300_000);
  const load = os.loadavg()[0];
  const cpu0 = cpuNow();
  const t0 = performance.now();
  try {
    if (o.mode === 'batch') await Promise.all(o.names.map(async (n) => Promise.all([seen(n), create(n)])));
    else for (const n of o.names) await Promise.all([seen(n), create(n)]);
  } finally {
    clearTimeout(deadline);
    ac.abort();
    await watching;
  }
  const wallMs = performance.now() - t0;
  const cpu1 = cpuNow();
  const n = o.names.length;
  return {
    latencies: o.names.map((x) => running.get(x)! - created.get(x)!),
    wallMs,
    procCpu: (cpu1.proc - cpu0.proc) / n,
    groupCpu: (cpu1.group - cpu0.group) / n,
    load,
  };
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
  const modes = (process.env.MODES ?? 'sequence,batch').split(',') as Mode[];
  if (!N || modes.some((m) => m !== 'sequence' && m !== 'batch'))
    throw new Error('PODS must be a number > 0 and MODES a list of sequence and batch');
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
  const describe = (r: Run, mode: Mode) => [
    `p50 ${ms(pct(r.latencies, 50))}`,
    `p99 ${ms(pct(r.latencies, 99))}`,
    ...(mode === 'batch' ? [`${((N / r.wallMs) * 1000).toFixed(1)} pods/s`] : []),
    `CPU/pod: node ${ms(r.procCpu)}, with children ${ms(r.groupCpu)}`,
    `load ${r.load.toFixed(2)}`,
  ];
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
    /** Each mode on one node, the pods deleted after each. */
    const measure = async (
      tag: string,
      nodeName: string,
      image: string,
      criEndpoint: string,
      cpu: { pids: number[]; group: CpuGroup },
    ) => {
      const out = new Map<Mode, Run>();
      for (const mode of modes) {
        const names = Array.from({ length: N }, (_, i) => `${tag}${mode[0]}-${i}`);
        out.set(mode, await startPods(client, { ns: 'default', nodeName, image, names, mode }, cpu));
        await deleteAll(client, 'default', criEndpoint);
      }
      return out;
    };

    // -- Skiff's node: runtime and agent in one process --
    const nodeDir = path.join(dir, 'node');
    const { ImageStore, buildTestImage } = await import('../src/runtime/index.ts');
    const img = await buildTestImage(path.join(dir, 'image'));
    await new ImageStore(path.join(nodeDir, 'runtime')).importArchive(img.dockerArchive);
    const image = img.name;
    const skiffGroup = new CpuGroup(`skiff-bench-${suffix}-s`);
    closers.push(async () => skiffGroup.close());
    const node = await child(
      'node',
      [
        JSON.stringify({
          kubeconfig: api.kubeconfigPath,
          dataDir: nodeDir,
          nodeName: 'bench-skiff',
          podCIDR,
          bridge,
        }),
      ],
      skiffGroup,
    );
    closers.push(() => stopChild(node.proc));
    const socket = `unix://${path.join(stateDir, 'cri.sock')}`;
    closers.push(() => deleteAll(client, 'default', socket).catch(() => {}));
    const skiff = await measure('s', 'bench-skiff', image, socket, {
      pids: [node.proc.pid!],
      group: skiffGroup,
    });
    for (const [mode, r] of skiff) table([`${mode} of ${N} pods, Skiff runtime`, ...describe(r, mode)]);

    // -- 100 pods on the Skiff node: memory --
    if (BIG > 0) {
      const names = Array.from({ length: BIG }, (_, i) => `sm-${i}`);
      const mode = 'batch';
      await startPods(
        client,
        { ns: 'default', nodeName: 'bench-skiff', image, names, mode },
        {
          pids: [],
          group: skiffGroup,
        },
      );
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
      await deleteAll(client, 'default', socket);
    }
    await stopChild(node.proc);
    if (skiffOnly) return;

    // -- containerd, with the same agent in a process of its own --
    const cd = await startTestContainerd();
    closers.push(() => cd.close());
    const cdGroup = new CpuGroup(`skiff-bench-${suffix}-c`);
    closers.push(async () => cdGroup.close());
    cdGroup.add(cd.pid);
    const cdAgent = await child(
      'agent',
      [JSON.stringify(agentOpts('bench-containerd', cd.endpoint, 'containerd'))],
      cdGroup,
    );
    closers.push(() => stopChild(cdAgent.proc));
    closers.push(() => deleteAll(client, 'default', cd.endpoint).catch(() => {}));
    const ctd = await measure('c', 'bench-containerd', cd.image, cd.endpoint, {
      pids: [cd.pid, cdAgent.proc.pid!],
      group: cdGroup,
    });
    for (const [mode, r] of ctd) table([`${mode} of ${N} pods, containerd 1.6`, ...describe(r, mode)]);
    for (const mode of modes) {
      const s = skiff.get(mode)!;
      const c = ctd.get(mode)!;
      const x = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
      table([
        `${mode}: Skiff / containerd`,
        `p50 ${x(pct(s.latencies, 50), pct(c.latencies, 50))}`,
        `p99 ${x(pct(s.latencies, 99), pct(c.latencies, 99))}`,
        `CPU/pod with children ${x(s.groupCpu, c.groupCpu)}`,
      ]);
    }
    await stopChild(cdAgent.proc);

    // -- raw runc --
    const rawDir = path.join(dir, 'raw');
    fs.mkdirSync(rawDir);
    const raw = await rawRunc(rawDir, N);
    table([
      `${N} x runc run -d (serial)`,
      `p50 ${ms(pct(raw, 50))}`,
      `p99 ${ms(pct(raw, 99))}`,
      `load ${os.loadavg()[0].toFixed(2)}`,
    ]);
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
