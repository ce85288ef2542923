/**
 * kube-scheduler's `SchedulingBasic` workload (scheduler_perf) with the whole control plane in
 * play: a child process runs the API server (memory store) and the scheduler, connected in
 * process as `skiff server` connects it; this process creates, over HTTPS, 5,000 Nodes (4 CPU,
 * 32Gi, 110 pods; plain Node objects with Ready status, as scheduler_perf makes them), 1,000
 * pods already bound, then 10,000 pods (100m CPU, 500Mi) as fast as it can, and watches them
 * get bound.
 *
 * Measured per run (a fresh control plane each): pods bound per second (from the first create
 * to the last binding seen), p50/p99 from a pod's create request to its binding seen on the
 * watch, the control plane's peak RSS and its CPU time per measured pod (user + system, from
 * the first measured create until the stop: comparable across runs on a noisy machine).
 * Prints each run and the median.
 *
 *   node_modules/.bin/node bench/scheduler.ts            # 3 runs
 *   RUNS=1 NODES=500 PODS=1000 node_modules/.bin/node bench/scheduler.ts
 *   PROFILE=/tmp/p RUNS=1 node_modules/.bin/node bench/scheduler.ts   # control-plane CPU profile of the measured phase
 */
import { fork } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinRegistry } from '../src/api/index.ts';
import { startApiServer } from '../src/apiserver/index.ts';
import { NODES, PODS, RestClient } from '../src/client/index.ts';
import { startScheduler } from '../src/scheduler/index.ts';
import { MemoryBackend } from '../src/store/index.ts';

const N_NODES = Number(process.env.NODES ?? 5000);
const N_PLACED = Number(process.env.PLACED ?? 1000);
const N_PODS = Number(process.env.PODS ?? 10_000);
const RUNS = Number(process.env.RUNS ?? 3);
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 32);
const PROFILE = process.env.PROFILE;
const TARGET = 1000;
const UPSTREAM_FLOOR = 680;

// ---- child: the control plane ----

async function controlPlane(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-bench-scheduler-'));
  const backend = new MemoryBackend();
  const server = await startApiServer({ dataDir: dir, port: 0, backend, registry: builtinRegistry() });
  const ac = new AbortController();
  // as `skiff server` connects its scheduler: in process
  const client = new RestClient({ server: server.url, connect: server.connect });
  let errors = 0;
  const running = startScheduler(
    {
      client,
      onError: (e) => {
        if (errors++ < 5) console.error('scheduler:', (e as Error).message);
      },
    },
    ac.signal,
  );
  process.send!({ kubeconfig: server.kubeconfigPath });
  // PROFILE: a CPU profile of the measured phase only (from the mark to the stop)
  const profiler = PROFILE ? new Session() : undefined;
  process.on('message', async (m: { stop?: boolean; mark?: boolean }) => {
    if (m.mark) {
      if (profiler) {
        profiler.connect();
        await profiler.post('Profiler.enable');
        await profiler.post('Profiler.start');
      }
      const u = process.cpuUsage();
      process.send!({ cpuMicros: u.user + u.system, sysMicros: u.system });
      return;
    }
    if (!m.stop) return;
    const u = process.cpuUsage();
    const cpuMicros = u.user + u.system;
    const sysMicros = u.system;
    const maxRssMiB = process.resourceUsage().maxRSS / 1024;
    if (profiler) {
      const { profile } = await profiler.post('Profiler.stop');
      const file = join(PROFILE!, `scheduler-${process.pid}.cpuprofile`);
      await writeFile(file, JSON.stringify(profile));
      console.error(`  profile: ${file}`);
    }
    ac.abort();
    await running.catch(() => {});
    client.close();
    await server.close();
    await backend.close();
    await rm(dir, { recursive: true, force: true });
    process.send!({ maxRssMiB, errors, cpuMicros, sysMicros }, () => process.exit(0));
  });
}

// ---- parent: the client that creates nodes and pods ----

async function pool<T>(items: T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (i < items.length) await fn(items[i++]);
    }),
  );
}

function node(i: number) {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: `node-${i}`, labels: { 'kubernetes.io/hostname': `node-${i}` } },
    status: {
      capacity: { cpu: '4', memory: '32Gi', pods: '110' },
      allocatable: { cpu: '4', memory: '32Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'ready' }],
    },
  };
}

function pod(name: string, nodeName?: string) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: {
      nodeName,
      containers: [
        {
          name: 'pause',
          image: 'registry.k8s.io/pause:3.10',
          resources: { requests: { cpu: '100m', memory: '500Mi' } },
        },
      ],
    },
  };
}

interface RunResult {
  podsPerSecond: number;
  createPerSecond: number;
  p50: number;
  p99: number;
  maxRssMiB: number;
  /** Control-plane CPU (user + system) from the first measured create to the stop, per measured pod. */
  cpuPerPodMicros: number;
  /** Of which system (kernel) time. */
  sysPerPodMicros: number;
  /** This process's CPU (creates and the watch) per measured pod, until the last binding was seen. */
  clientPerPodMicros: number;
  setupSeconds: number;
}

async function run(): Promise<RunResult> {
  const child = fork(new URL(import.meta.url).pathname, ['--control-plane'], {
    // the young-generation cap bin/skiff gives `skiff server`
    execArgv: [...process.execArgv, '--max-semi-space-size=16'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    const { kubeconfig } = await new Promise<{ kubeconfig: string }>((resolve, reject) => {
      child.once('message', resolve as (m: unknown) => void);
      child.once('exit', (c) => reject(new Error(`control plane exited (${c})`)));
    });
    const client = await RestClient.fromKubeconfig(kubeconfig);
    const t0 = performance.now();
    await pool(
      Array.from({ length: N_NODES }, (_, i) => i),
      CONCURRENCY,
      async (i) => {
        const created = (await client.create(NODES, node(i) as never)) as object;
        await client.updateStatus(NODES, { ...created, status: node(i).status } as never);
      },
    );
    await pool(
      Array.from({ length: N_PLACED }, (_, i) => i),
      CONCURRENCY,
      async (i) => void (await client.create(PODS, pod(`placed-${i}`, `node-${i % N_NODES}`) as never)),
    );
    const setupSeconds = (performance.now() - t0) / 1000;

    // Watch from now on; record when each measured pod is first seen bound.
    const list = await client.list(PODS, { namespace: 'default', limit: 1 });
    const sent = new Map<string, number>();
    const bound = new Map<string, number>();
    const ac = new AbortController();
    let allBound = () => {};
    const done = new Promise<void>((r) => {
      allBound = r;
    });
    const watching = (async () => {
      let rv = list.metadata.resourceVersion;
      while (!ac.signal.aborted) {
        for await (const ev of client.watch(PODS, {
          namespace: 'default',
          resourceVersion: rv,
          signal: ac.signal,
        })) {
          const o = ev.object;
          if (o?.metadata?.resourceVersion) rv = o.metadata.resourceVersion;
          const name = o?.metadata?.name as string;
          if (ev.type === 'MODIFIED' && o.spec?.nodeName && name.startsWith('pod-') && !bound.has(name)) {
            bound.set(name, performance.now());
            if (bound.size === N_PODS) allBound();
          }
        }
      }
    })().catch((e) => {
      if (!ac.signal.aborted) console.error('watch:', e);
    });

    const names = Array.from({ length: N_PODS }, (_, i) => `pod-${i}`);
    const cpuAtStart = await new Promise<{ cpuMicros: number; sysMicros: number }>((resolve) => {
      child.once('message', resolve as (m: unknown) => void);
      child.send({ mark: true });
    });
    const start = performance.now();
    const clientCpu = process.cpuUsage();
    await pool(names, CONCURRENCY, async (name) => {
      sent.set(name, performance.now());
      await client.create(PODS, pod(name) as never);
    });
    const created = performance.now();
    const timeout = setTimeout(() => allBound(), 300_000);
    await done;
    const used = process.cpuUsage(clientCpu);
    clearTimeout(timeout);
    ac.abort();
    await watching;
    if (bound.size < N_PODS) throw new Error(`only ${bound.size}/${N_PODS} pods bound within 5 minutes`);
    const last = Math.max(...bound.values());
    const latencies = names.map((n) => bound.get(n)! - sent.get(n)!).sort((a, b) => a - b);
    const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
    client.close();

    const stats = await new Promise<{
      maxRssMiB: number;
      errors: number;
      cpuMicros: number;
      sysMicros: number;
    }>((resolve) => {
      child.once('message', resolve as (m: unknown) => void);
      child.send({ stop: true });
    });
    if (stats.errors) console.error(`  (scheduler reported ${stats.errors} errors)`);
    return {
      podsPerSecond: N_PODS / ((last - start) / 1000),
      createPerSecond: N_PODS / ((created - start) / 1000),
      p50: q(0.5),
      p99: q(0.99),
      maxRssMiB: stats.maxRssMiB,
      cpuPerPodMicros: (stats.cpuMicros - cpuAtStart.cpuMicros) / N_PODS,
      sysPerPodMicros: (stats.sysMicros - cpuAtStart.sysMicros) / N_PODS,
      clientPerPodMicros: (used.user + used.system) / N_PODS,
      setupSeconds,
    };
  } finally {
    // a stopped control plane exits by itself (writing a --cpu-prof profile); kill it only if stuck
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000).unref())]);
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
  }
}

async function main(): Promise<void> {
  console.log(
    `SchedulingBasic: ${N_NODES} nodes, ${N_PLACED} pods placed, ${N_PODS} pods measured; API server + scheduler in one child process, client in this one`,
  );
  const results: RunResult[] = [];
  const began = Date.now();
  for (let i = 0; i < RUNS; i++) {
    // keep the whole bench within ~10 minutes
    if (i > 0 && Date.now() - began > 6 * 60_000) break;
    const r = await run();
    results.push(r);
    console.log(
      `run ${i + 1}: ${r.podsPerSecond.toFixed(0)} pods/s bound (created at ${r.createPerSecond.toFixed(0)}/s), p50 ${r.p50.toFixed(0)} ms, p99 ${r.p99.toFixed(0)} ms, peak RSS ${r.maxRssMiB.toFixed(0)} MiB, control plane CPU ${r.cpuPerPodMicros.toFixed(0)} µs/pod (${r.sysPerPodMicros.toFixed(0)} system), client ${r.clientPerPodMicros.toFixed(0)} µs/pod (setup ${r.setupSeconds.toFixed(1)} s)`,
    );
  }
  const med = (f: (r: RunResult) => number) => {
    const v = results.map(f).sort((a, b) => a - b);
    return v[Math.floor(v.length / 2)];
  };
  const rows: [string, string][] = [
    ['pods bound per second (median)', med((r) => r.podsPerSecond).toFixed(0)],
    ['  target', `>= ${TARGET}`],
    ["  upstream's CI floor (SchedulingBasic 5000 nodes)", `>= ${UPSTREAM_FLOOR}`],
    ['p50 creation to binding (ms)', med((r) => r.p50).toFixed(0)],
    ['p99 creation to binding (ms)', med((r) => r.p99).toFixed(0)],
    ['control plane peak RSS (MiB)', med((r) => r.maxRssMiB).toFixed(0)],
    ['control plane CPU per measured pod (µs)', med((r) => r.cpuPerPodMicros).toFixed(0)],
    ['runs', String(results.length)],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  console.log('');
  for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
}

if (process.argv.includes('--control-plane')) await controlPlane();
else await main();
