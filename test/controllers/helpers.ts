/**
 * Shared set-up for the controller tests: an API server (memory store) in a temp dir with the
 * built-in kinds; the controller manager; hollow nodes; a trivial round-robin binder (the real
 * scheduler is tested elsewhere); and kubectl.
 */

import { builtinRegistry, type KubeObject } from '../../src/api/index.ts';
import { listWatcherFor, NODES, PODS, RestClient, SharedInformer } from '../../src/client/index.ts';
import { runGarbageCollector } from '../../src/controllers/garbage-collector/index.ts';
import { type ControllerManagerOptions, startControllerManager } from '../../src/controllers/index.ts';
import { runNamespaceController } from '../../src/controllers/namespace/index.ts';
import { type HollowNodeOptions, type HollowNodes, startHollowNodes } from '../../src/hollow/index.ts';
import { MemoryBackend } from '../../src/store/index.ts';
import { startTestServer, type TestServer } from '../support/api-server.ts';
import { poller } from '../support/until.ts';

type Json = Record<string, any>;

export interface Cluster {
  server: TestServer;
  client: RestClient;
  nodes: HollowNodes;
  kubectl: TestServer['kubectl'];
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
  const ac = new AbortController();
  const backend = new MemoryBackend();
  let server: TestServer | undefined;
  let client: RestClient | undefined;
  const running: Promise<unknown>[] = [];
  const close = async () => {
    ac.abort();
    await Promise.allSettled(running);
    client?.close();
    if (server) await server.close();
    else await backend.close();
  };
  try {
    server = await startTestServer(backend, builtinRegistry(), {
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
    return { server, client, nodes, close, kubectl: server.kubectl };
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

/** Polls every 100 ms, 20 s unless told; a check that throws fails the wait. */
export const until = poller({ timeoutMs: 20_000, intervalMs: 100, retryErrors: false });

export function isReady(pod: KubeObject): boolean {
  return ((pod.status as Json)?.conditions ?? []).some(
    (c: Json) => c.type === 'Ready' && c.status === 'True',
  );
}
