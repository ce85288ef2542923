/**
 * Shared set-up for the controller tests: an API server (memory store) in a temp dir with the
 * built-in kinds, plus loose stand-ins for kinds the built-in registry does not serve yet
 * (Node, Lease, Job, ...); the controller manager; hollow nodes; a trivial round-robin binder
 * (the real scheduler is tested elsewhere); and kubectl.
 */

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  builtinRegistry,
  type KubeObject,
  type ResourceDef,
  type ResourceRegistry,
  type Schema,
} from '../../src/api/index.ts';
import { type RunningServer, startApiServer } from '../../src/apiserver/index.ts';
import { listWatcherFor, NODES, PODS, RestClient, SharedInformer } from '../../src/client/index.ts';
import { runGarbageCollector } from '../../src/controllers/garbage-collector/index.ts';
import { type ControllerManagerOptions, startControllerManager } from '../../src/controllers/index.ts';
import { runNamespaceController } from '../../src/controllers/namespace/index.ts';
import { type HollowNodeOptions, type HollowNodes, startHollowNodes } from '../../src/hollow/index.ts';
import { MemoryBackend } from '../../src/store/index.ts';

type Json = Record<string, any>;
const ALL = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const loose: Schema = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };

function looseDef(
  group: string,
  version: string,
  kind: string,
  plural: string,
  namespaced: boolean,
  status: boolean,
): ResourceDef {
  const pkg = {
    '': 'core',
    batch: 'batch',
    'coordination.k8s.io': 'coordination',
    'scheduling.k8s.io': 'scheduling',
  }[group];
  return {
    group,
    version,
    kind,
    listKind: `${kind}List`,
    plural,
    singular: kind.toLowerCase(),
    namespaced,
    verbs: ALL,
    subresources: status ? { status: true } : {},
    schemaName: `io.k8s.api.${pkg}.${version}.${kind}`,
    hasStatus: status,
    tracksGeneration: status,
    selectableFields:
      plural === 'pods' ? { 'spec.nodeName': (o) => String((o.spec as Json)?.nodeName ?? '') } : undefined,
  };
}

/** The built-in registry, with loose definitions of the kinds it lacks that controllers use. */
export function controllerTestRegistry(): ResourceRegistry {
  const base = builtinRegistry();
  const extra = [
    looseDef('', 'v1', 'Node', 'nodes', false, true),
    looseDef('', 'v1', 'Event', 'events', true, false),
    looseDef('', 'v1', 'PersistentVolumeClaim', 'persistentvolumeclaims', true, true),
    looseDef('coordination.k8s.io', 'v1', 'Lease', 'leases', true, false),
    looseDef('batch', 'v1', 'Job', 'jobs', true, true),
    looseDef('batch', 'v1', 'CronJob', 'cronjobs', true, true),
  ].filter((d) => !base.byResource(d.group, d.version, d.plural));
  const defs = [...base.all(), ...extra];
  return {
    all: () => [...defs],
    byResource: (g, v, p) =>
      base.byResource(g, v, p) ?? extra.find((d) => d.group === g && d.version === v && d.plural === p),
    byKind: (g, v, k) =>
      base.byKind(g, v, k) ?? extra.find((d) => d.group === g && d.version === v && d.kind === k),
    definitions: () => ({
      ...base.definitions(),
      ...Object.fromEntries(extra.map((d) => [d.schemaName, loose])),
    }),
  };
}

export interface Cluster {
  server: RunningServer;
  client: RestClient;
  nodes: HollowNodes;
  kubectl(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  close(): Promise<void>;
}

/** Server + controller manager + hollow nodes + binder; `close()` undoes all of it. */
export async function startCluster(
  o: {
    nodes?: number;
    manager?: Partial<ControllerManagerOptions>;
    hollow?: Partial<HollowNodeOptions>;
    binder?: boolean;
  } = {},
): Promise<Cluster> {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-controllers-'));
  const ac = new AbortController();
  const backend = new MemoryBackend();
  let server: RunningServer | undefined;
  let client: RestClient | undefined;
  const running: Promise<unknown>[] = [];
  const close = async () => {
    ac.abort();
    await Promise.allSettled(running);
    client?.close();
    await server?.close();
    await backend.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    server = await startApiServer({
      dataDir: dir,
      port: 0,
      backend,
      registry: controllerTestRegistry(),
      controllers: [runGarbageCollector, runNamespaceController],
    });
    client = await RestClient.fromKubeconfig(server.kubeconfigPath);
    const nodes = await startHollowNodes(
      { client, count: o.nodes ?? 3, namePrefix: 'hollow-', leaseRenewMs: 500, ...o.hollow },
      ac.signal,
    );
    await nodes.ready;
    running.push(nodes.done);
    running.push(startControllerManager({ client, log: () => {}, ...o.manager }, ac.signal));
    if (o.binder !== false) running.push(runTestBinder(client, ac.signal));
    const kubeconfigPath = server.kubeconfigPath;
    return { server, client, nodes, close, kubectl: (args, input) => kubectl(kubeconfigPath, args, input) };
  } catch (e) {
    await close();
    throw e;
  }
}

/**
 * Binds unbound pods round-robin to Ready nodes without NoSchedule/NoExecute taints (or to
 * the node a DaemonSet pod's `matchFields metadata.name` names) through pods/binding.
 */
export async function runTestBinder(client: RestClient, signal: AbortSignal): Promise<void> {
  const pods = new SharedInformer(listWatcherFor(client, PODS), { onError: () => {} });
  const nodes = new SharedInformer(listWatcherFor(client, NODES), { onError: () => {} });
  let rr = 0;
  const inflight = new Set<string>();
  const bind = async (pod: KubeObject) => {
    const spec = pod.spec as Json;
    if (spec?.nodeName || pod.metadata?.deletionTimestamp || inflight.has(pod.metadata!.uid!)) return;
    const fixed = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution
      ?.nodeSelectorTerms?.[0]?.matchFields?.[0]?.values?.[0] as string | undefined;
    let target = fixed;
    if (!target) {
      const ok = nodes.store
        .list()
        .filter(
          (n) =>
            (n.status as Json)?.conditions?.find((c: Json) => c.type === 'Ready')?.status === 'True' &&
            !((n.spec as Json)?.taints ?? []).some((t: Json) => t.effect !== 'PreferNoSchedule'),
        )
        .map((n) => n.metadata!.name!)
        .sort();
      if (!ok.length) return;
      target = ok[rr++ % ok.length];
    }
    inflight.add(pod.metadata!.uid!);
    try {
      await client.request(
        'POST',
        `/api/v1/namespaces/${pod.metadata!.namespace}/pods/${pod.metadata!.name}/binding`,
        {
          body: {
            apiVersion: 'v1',
            kind: 'Binding',
            metadata: { name: pod.metadata!.name },
            target: { kind: 'Node', name: target },
          },
          signal,
        },
      );
    } catch {
      // already bound or gone; a later event retries otherwise
    } finally {
      inflight.delete(pod.metadata!.uid!);
    }
  };
  pods.addEventHandler({ add: (p) => void bind(p), update: (_, p) => void bind(p) });
  const retry = setInterval(() => {
    for (const p of pods.store.list()) void bind(p);
  }, 500);
  signal.addEventListener('abort', () => clearInterval(retry), { once: true });
  await Promise.all([pods.start(signal), nodes.start(signal)]);
}

export function kubectl(
  kubeconfig: string,
  args: string[],
  input?: string,
  timeoutMs = 60_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      'kubectl',
      args,
      { env: { ...process.env, KUBECONFIG: kubeconfig, HOME: join(kubeconfig, '..') }, timeout: timeoutMs },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : 1
          : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin!.end(input);
  });
}

export async function until(
  what: string,
  check: () => Promise<boolean> | boolean,
  ms = 20_000,
): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(100);
  }
  assert.fail(`timed out waiting for ${what}`);
}

export function isReady(pod: KubeObject): boolean {
  return ((pod.status as Json)?.conditions ?? []).some(
    (c: Json) => c.type === 'Ready' && c.status === 'True',
  );
}
