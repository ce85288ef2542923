/**
 * The node agent: registers its Node, keeps the Lease fresh, watches the pods bound to it and
 * runs one `PodWorker` per pod over CRI, and serves logs.
 *
 *   const agent = await startAgent({ kubeconfig, nodeName: 'n1', criEndpoint: 'unix:///run/skiff/cri.sock',
 *                                    dataDir: '/var/lib/skiff/agent' }, signal);
 *   ...
 *   await agent.close();   // containers keep running; a new agent adopts them
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isReason } from '../api/errors.ts';
import { listWatcherFor, PODS, RestClient, SharedInformer, stripManagedFields } from '../client/index.ts';
import { type CriClient, criClient } from '../cri/index.ts';
import type { ObjectGetter } from './env.ts';
import { eventRecorder } from './events.ts';
import { POD_UID } from './labels.ts';
import { defaultHostIP, type NodeFacts, registerNode, renewLease, updateNodeStatus } from './node.ts';
import { cleanupOrphan, PodWorker, type WorkerEnv } from './pod-worker.ts';
import { type KubeletAuth, type KubeletServer, serveKubelet } from './server.ts';

type Json = Record<string, any>;

export interface AgentOptions {
  /** path of a kubeconfig for the API server, or ... */
  kubeconfig?: string;
  /** ... a ready client */
  client?: RestClient;
  nodeName: string;
  /** e.g. `unix:///run/skiff/cri.sock` */
  criEndpoint: string;
  /** this process serves `criEndpoint` (a Skiff node): call the runtime directly, see CriClientOptions */
  criSameProcess?: boolean;
  /** where pod directories (volumes) live: `<dataDir>/pods/<uid>` */
  dataDir: string;
  /** root of the pod log directories; default `/var/log/pods` */
  podLogsDir?: string;
  podCIDR?: string;
  /** the node's InternalIP; default the first non-loopback IPv4 address */
  hostIP?: string;
  /** kubelet server address and port (default 127.0.0.1:10250; 0 picks one) */
  address?: string;
  port?: number;
  /** serve HTTPS; `ca` verifies client certificates (the API server's) */
  tls?: { cert: string; key: string; ca?: string };
  /** require a bearer token or a `tls.ca`-signed client certificate on the kubelet server */
  auth?: KubeletAuth;
  /** cluster DNS servers for ClusterFirst pods (none: pods get the host's resolv.conf) */
  clusterDNS?: string[];
  clusterDomain?: string;
  /** the resolv.conf pods with dnsPolicy Default get (kubelet's --resolv-conf); default /etc/resolv.conf */
  resolvConf?: string;
  maxPods?: number;
  labels?: Record<string, string>;
  /** Lease renewal and node status period; default 10 s */
  leaseRenewMs?: number;
  nodeStatusMs?: number;
  /** every pod worker re-syncs this often; default 10 s */
  syncPeriodMs?: number;
  /** CrashLoopBackOff: first delay (10 s), cap (5 min), reset after running this long (10 min) */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  backoffResetMs?: number;
  log?(msg: string): void;
}

export interface Agent {
  nodeName: string;
  /** the kubelet server */
  server: KubeletServer;
  cri: CriClient;
  close(): Promise<void>;
}

export async function startAgent(opts: AgentOptions, signal?: AbortSignal): Promise<Agent> {
  const ownClient = !opts.client;
  const client = opts.client ?? (await RestClient.fromKubeconfig(opts.kubeconfig ?? ''));
  const cri = criClient(opts.criEndpoint, { sameProcess: opts.criSameProcess });
  const log = opts.log ?? ((m: string) => console.error(`agent: ${m}`));
  const abort = new AbortController();
  const stop = () => abort.abort();
  signal?.addEventListener('abort', stop, { once: true });
  const dataDir = path.resolve(opts.dataDir);
  fs.mkdirSync(path.join(dataDir, 'pods'), { recursive: true });
  const podLogsDir = opts.podLogsDir ?? '/var/log/pods';
  fs.mkdirSync(podLogsDir, { recursive: true });

  const cleanup: (() => Promise<void> | void)[] = [];
  const closeAll = async () => {
    abort.abort();
    for (const f of cleanup.reverse()) await Promise.resolve(f()).catch(() => {});
    cleanup.length = 0;
  };
  try {
    const version = await cri.version({ version: 'v1' });
    const hostIP = opts.hostIP ?? defaultHostIP();
    const pods = new SharedInformer<Json & { metadata: any }>(
      listWatcherFor(client, PODS, { fieldSelector: `spec.nodeName=${opts.nodeName}` }) as any,
      // the agent's status writes without managedFields keep the stored ones
      { transform: stripManagedFields, onError: (e) => log(`pod watch: ${(e as Error).message}`) },
    );
    const server = await serveKubelet({
      cri,
      host: opts.address,
      port: opts.port,
      tls: opts.tls,
      auth: opts.auth,
      getPod: (ns, name) => pods.store.get(`${ns}/${name}`) as Json | undefined,
      listPods: () => pods.store.list() as Json[],
    });
    cleanup.push(() => server.close());
    cleanup.push(() => cri.close());
    if (ownClient) cleanup.push(() => client.close());

    const facts: NodeFacts = {
      name: opts.nodeName,
      hostIP,
      podCIDR: opts.podCIDR,
      kubeletPort: server.port,
      runtimeVersion: `${version.runtimeName}://${version.runtimeVersion}`,
      cpu: os.availableParallelism(),
      memoryBytes: os.totalmem(),
      maxPods: opts.maxPods ?? 110,
      labels: opts.labels,
    };
    const readiness = async () => {
      try {
        const st = await cri.status({});
        const bad = st.status.conditions.filter((c) => !c.status);
        return bad.length
          ? {
              ok: false,
              message: bad.map((c) => `${c.type}=false reason:${c.reason} message:${c.message}`).join('; '),
            }
          : { ok: true, message: '' };
      } catch (e) {
        return { ok: false, message: `container runtime is down: ${(e as Error).message}` };
      }
    };
    const node = await registerNode(client, facts, await readiness());
    const nodeUid = node.metadata?.uid;
    await renewLease(client, opts.nodeName, nodeUid).catch((e) => log(`lease: ${(e as Error).message}`));
    const every = (ms: number, fn: () => Promise<unknown>) => {
      let busy = false;
      const t = setInterval(() => {
        if (busy) return;
        busy = true;
        fn()
          .catch((e) => {
            if (!abort.signal.aborted) log((e as Error).message);
          })
          .finally(() => {
            busy = false;
          });
      }, ms);
      cleanup.push(() => clearInterval(t));
    };
    every(opts.leaseRenewMs ?? 10_000, () => renewLease(client, opts.nodeName, nodeUid));
    every(opts.nodeStatusMs ?? 10_000, async () => updateNodeStatus(client, facts, await readiness()));

    const get: ObjectGetter = async (kind, namespace, name) => {
      try {
        return (await client.get({ group: '', version: 'v1', resource: kind }, name, { namespace })) as Json;
      } catch (e) {
        if (isReason(e, 'NotFound')) return undefined;
        throw e;
      }
    };
    const events = eventRecorder(client, opts.nodeName, {
      onError: (e) => {
        if (!abort.signal.aborted) log(`event: ${(e as Error).message}`);
      },
    });
    const env: WorkerEnv = {
      cri,
      client,
      nodeName: opts.nodeName,
      hostIP,
      dataDir,
      podLogsDir,
      runtimeScheme: version.runtimeName || 'cri',
      node: { cpu: facts.cpu, memory: facts.memoryBytes },
      get,
      events,
      clusterDNS: opts.clusterDNS ?? [],
      clusterDomain: opts.clusterDomain ?? 'cluster.local',
      hostResolvConf: opts.resolvConf ? fs.readFileSync(opts.resolvConf, 'utf8') : undefined,
      backoffBaseMs: opts.backoffBaseMs ?? 10_000,
      backoffMaxMs: opts.backoffMaxMs ?? 300_000,
      backoffResetMs: opts.backoffResetMs ?? 600_000,
      log,
    };

    const workers = new Map<string, PodWorker>();
    const forget = (w: PodWorker) => {
      void w.done.then(() => {
        if (workers.get(w.uid) === w && w.finished) workers.delete(w.uid);
      });
    };
    const upsert = (pod: Json) => {
      const uid = pod.metadata.uid;
      let w = workers.get(uid);
      if (!w) {
        w = new PodWorker(pod, env);
        workers.set(uid, w);
        forget(w);
      } else w.pod = pod;
      w.trigger();
    };
    pods.addEventHandler({
      add: (p) => upsert(p),
      update: (_, p) => {
        const w = workers.get(p.metadata.uid);
        const rv = Number(p.metadata.resourceVersion);
        // an update older than the worker's own status write must not roll it back
        if (w && rv < Number(w.pod.metadata.resourceVersion)) return w.trigger();
        // the worker's own status write coming back: nothing it does not know
        if (w && rv === Number(w.pod.metadata.resourceVersion)) return;
        upsert(p);
      },
      delete: (p) => {
        const w = workers.get(p.metadata.uid);
        if (!w) return;
        w.deleted = true;
        w.trigger();
      },
    });
    cleanup.push(async () => {
      for (const w of workers.values()) w.close();
    });
    const informerDone = pods.start(abort.signal);
    cleanup.push(() => informerDone);
    if (!(await pods.waitForSync(abort.signal))) throw new Error('agent stopped before the pod list arrived');

    // Pods deleted while the agent was away: their sandboxes and directories go.
    const known = new Set(pods.store.list().map((p) => p.metadata.uid));
    const sandboxes = (await cri.listPodSandbox({})).items;
    const orphans = new Set(sandboxes.map((s) => s.labels[POD_UID]).filter((u) => u && !known.has(u)));
    for (const d of fs.readdirSync(path.join(dataDir, 'pods'))) if (!known.has(d)) orphans.add(d);
    for (const uid of orphans) {
      log(`removing pod ${uid}: no longer in the API`);
      await cleanupOrphan(cri, uid, dataDir).catch((e) => log(`cleanup of ${uid}: ${(e as Error).message}`));
    }

    every(opts.syncPeriodMs ?? 10_000, async () => {
      for (const w of workers.values()) w.trigger();
    });

    return {
      nodeName: opts.nodeName,
      server,
      cri,
      close: async () => {
        signal?.removeEventListener('abort', stop);
        await closeAll();
      },
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}
