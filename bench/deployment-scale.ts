/**
 * A Deployment scaled from 0 to 5,000 replicas with the whole control plane in play: a child
 * process runs the API server (memory store), the controller manager (all controllers) and the
 * scheduler, connected in process as `skiff server` connects them; another child runs 50 hollow
 * nodes of 110 pods each (5,500 slots) over HTTPS; this process
 * creates the Deployment at 0 replicas, scales it to 5,000 and watches it.
 *
 * Measured: seconds from the scale request until status.readyReplicas (and availableReplicas)
 * reach 5,000 and until every pod is Running; pods created per second (from the scale request
 * to the last pod create seen on the watch); the control-plane child's peak RSS. A time limit
 * (LIMIT_S, default 240 s) stops the run and prints what was reached.
 *
 *   node_modules/.bin/node bench/deployment-scale.ts
 *   REPLICAS=1000 NODES=10 node_modules/.bin/node bench/deployment-scale.ts
 */
import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinRegistry, type KubeObject } from '../src/api/index.ts';
import { startApiServer } from '../src/apiserver/index.ts';
import { listWatcherFor, PODS, RestClient, SharedInformer } from '../src/client/index.ts';
import { startControllerManager } from '../src/controllers/index.ts';
import { startHollowNodes } from '../src/hollow/index.ts';
import { startScheduler } from '../src/scheduler/index.ts';
import { MemoryBackend } from '../src/store/index.ts';

type Json = Record<string, any>;
const REPLICAS = Number(process.env.REPLICAS ?? 5000);
const N_NODES = Number(process.env.NODES ?? 50);
const LIMIT_S = Number(process.env.LIMIT_S ?? 240);
const DEPLOY = { group: 'apps', version: 'v1', resource: 'deployments' };

type Msg = { kubeconfig?: string; ready?: boolean; stop?: boolean; maxRssMiB?: number; cpuS?: number };

/** Stop on `stop`: report peak RSS and CPU seconds, clean up, exit. */
function onStop(cleanup: () => Promise<void>): void {
  process.on('message', async (m: Msg) => {
    if (!m.stop) return;
    const u = process.resourceUsage();
    const report = { maxRssMiB: u.maxRSS / 1024, cpuS: (u.userCPUTime + u.systemCPUTime) / 1e6 };
    await cleanup().catch(() => {});
    process.send!(report, () => process.exit(0));
  });
  process.on('disconnect', () => process.exit(0));
}

async function controlPlane(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-bench-deployment-'));
  const backend = new MemoryBackend();
  const server = await startApiServer({ dataDir: dir, port: 0, backend, registry: builtinRegistry() });
  // as `skiff server` connects its controllers and scheduler: in process
  const client = new RestClient({ server: server.url, connect: server.connect });
  const ac = new AbortController();
  let errors = 0;
  const log = (m: string) => {
    if (errors++ < 10) console.error(m);
  };
  const running = [
    startControllerManager({ client, log }, ac.signal),
    startScheduler({ client, onError: (e) => log(`scheduler: ${(e as Error).message}`) }, ac.signal),
  ];
  onStop(async () => {
    ac.abort();
    await Promise.allSettled(running);
    client.close();
    await server.close();
    await backend.close();
    await rm(dir, { recursive: true, force: true });
  });
  process.send!({ kubeconfig: server.kubeconfigPath });
}

async function hollow(kubeconfig: string): Promise<void> {
  const client = await RestClient.fromKubeconfig(kubeconfig);
  const ac = new AbortController();
  const nodes = await startHollowNodes(
    { client, count: N_NODES, capacity: { cpu: '64', memory: '256Gi', pods: '110' }, concurrency: 32 },
    ac.signal,
  );
  onStop(async () => {
    ac.abort();
    await nodes.done.catch(() => {});
    client.close();
  });
  await nodes.ready;
  process.send!({ ready: true });
}

function child(args: string[]): { proc: ReturnType<typeof fork>; first: Promise<Msg> } {
  // the control plane with the young-generation cap bin/skiff gives `skiff server`
  const execArgv =
    args[0] === 'control-plane' ? [...process.execArgv, '--max-semi-space-size=16'] : undefined;
  const proc = fork(import.meta.filename, args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const first = new Promise<Msg>((resolve, reject) => {
    proc.once('message', (m) => resolve(m as Msg));
    proc.once('exit', (code) => reject(new Error(`${args[0]} exited with ${code}`)));
  });
  return { proc, first };
}

function stop(proc: ReturnType<typeof fork>): Promise<Msg> {
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      proc.kill('SIGKILL');
      resolve({});
    }, 30_000);
    proc.on('message', (m: Msg) => {
      if (m.maxRssMiB !== undefined) {
        clearTimeout(t);
        resolve(m);
      }
    });
    proc.once('exit', () => {
      clearTimeout(t);
      resolve({});
    });
    proc.send({ stop: true });
  });
}

async function main(): Promise<void> {
  const cp = child(['control-plane']);
  const { kubeconfig } = await cp.first;
  const hn = child(['hollow', kubeconfig!]);
  let client: RestClient | undefined;
  const ac = new AbortController();
  try {
    await hn.first;
    client = await RestClient.fromKubeconfig(kubeconfig!);
    const c = client;
    let created = 0;
    let running = 0;
    let lastCreate = 0;
    let allRunningAt = 0;
    let t0 = 0;
    const pods = new SharedInformer(listWatcherFor(c, PODS, { namespace: 'default' }), { onError: () => {} });
    const phase = new Map<string, string>();
    pods.addEventHandler({
      add: (p: KubeObject) => {
        created++;
        lastCreate = performance.now();
        phase.set(p.metadata!.uid!, (p.status as Json)?.phase ?? 'Pending');
      },
      update: (_: KubeObject, p: KubeObject) => {
        const was = phase.get(p.metadata!.uid!);
        const now = (p.status as Json)?.phase ?? 'Pending';
        if (was !== 'Running' && now === 'Running') running++;
        phase.set(p.metadata!.uid!, now);
        if (running >= REPLICAS && !allRunningAt) allRunningAt = performance.now();
      },
    });
    void pods.start(ac.signal);
    await pods.waitForSync(ac.signal);
    await c.create(DEPLOY, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'scale', namespace: 'default' },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'scale' } },
        template: {
          metadata: { labels: { app: 'scale' } },
          spec: {
            containers: [
              { name: 'c', image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '10m' } } },
            ],
          },
        },
      },
    } as KubeObject);
    await new Promise((r) => setTimeout(r, 1000));
    t0 = performance.now();
    await c.patch(DEPLOY, 'scale', { spec: { replicas: REPLICAS } }, { type: 'merge', namespace: 'default' });
    let readyAt = 0;
    let availableAt = 0;
    let last = '';
    const deadline = t0 + LIMIT_S * 1000;
    while (performance.now() < deadline) {
      const d = await c.get(DEPLOY, 'scale', { namespace: 'default' });
      const s = (d.status ?? {}) as Json;
      const now = performance.now();
      if (!readyAt && (s.readyReplicas ?? 0) >= REPLICAS) readyAt = now;
      if (!availableAt && (s.availableReplicas ?? 0) >= REPLICAS) availableAt = now;
      const line = `t=${((now - t0) / 1000).toFixed(0)}s pods created ${created}, running ${running}, ready ${s.readyReplicas ?? 0}, available ${s.availableReplicas ?? 0}`;
      if (line !== last && Math.round((now - t0) / 1000) % 10 === 0) {
        console.log(line);
        last = line;
      }
      if (readyAt && availableAt && allRunningAt) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const sec = (t: number) => (t ? ((t - t0) / 1000).toFixed(1) : `not reached in ${LIMIT_S}`);
    const createSpan = ((lastCreate || performance.now()) - t0) / 1000;
    console.log(`deployment 0 -> ${REPLICAS} replicas on ${N_NODES} hollow nodes x 110 pods`);
    console.log(`  all pods Running:            ${sec(allRunningAt)} s (${running} running)`);
    console.log(`  status.readyReplicas=${REPLICAS}:   ${sec(readyAt)} s`);
    console.log(`  status.availableReplicas:    ${sec(availableAt)} s`);
    console.log(
      `  pods created:                ${created} in ${createSpan.toFixed(1)} s = ${(created / createSpan).toFixed(0)}/s`,
    );
  } finally {
    ac.abort();
    client?.close();
    const [cpr, hnr] = await Promise.all([stop(cp.proc), stop(hn.proc)]);
    const fmt = (m: Msg) =>
      m.maxRssMiB !== undefined
        ? `${m.maxRssMiB.toFixed(0)} MiB peak RSS, ${m.cpuS?.toFixed(1)} s CPU`
        : 'n/a';
    console.log(`  control plane (API server + controllers + scheduler): ${fmt(cpr)}`);
    console.log(`  hollow nodes process: ${fmt(hnr)}`);
  }
}

const role = process.argv[2];
if (role === 'control-plane') await controlPlane();
else if (role === 'hollow') await hollow(process.argv[3]);
else await main();
