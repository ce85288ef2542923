/** A control plane for the scheduler's end-to-end tests: API server (memory store) and scheduler. */
import type { TestContext } from 'node:test';
import type { Node } from 'kubernetes-types/core/v1.js';
import { builtinRegistry } from '../../src/api/index.ts';
import { NODES, PODS, RestClient } from '../../src/client/index.ts';
import { type Scheduler, type StartSchedulerOptions, startScheduler } from '../../src/scheduler/index.ts';
import { MemoryBackend } from '../../src/store/index.ts';
import { startTestServer, type TestServer } from '../support/api-server.ts';
import { poller, type Until } from '../support/until.ts';

export interface Cluster {
  client: RestClient;
  kubeconfig: string;
  /** Undefined when started with `scheduler: false`. */
  scheduler: Scheduler | undefined;
  kubectl: TestServer['kubectl'];
  addNode(name: string, o?: NodeOptions): Promise<void>;
  /** Poll until `fn` answers something truthy (every 100 ms, 15 s unless told). */
  until: Until;
  nodeOf(name: string, namespace?: string): Promise<string | undefined>;
}

export interface NodeOptions {
  cpu?: string;
  memory?: string;
  labels?: Record<string, string>;
  taints?: NonNullable<Node['spec']>['taints'];
}

/** Start everything; `t.after` stops it and removes the directory, even when the test fails. */
export async function startCluster(
  t: TestContext,
  o: Partial<StartSchedulerOptions> = {},
  withScheduler = true,
): Promise<Cluster> {
  const backend = new MemoryBackend();
  const ac = new AbortController();
  let running: Promise<void> | undefined;
  let client: RestClient | undefined;
  let server: TestServer | undefined;
  t.after(async () => {
    ac.abort();
    await running?.catch(() => {});
    client?.close();
    if (server) await server.close();
    else await backend.close();
  });
  server = await startTestServer(backend, builtinRegistry());
  client = await RestClient.fromKubeconfig(server.kubeconfigPath);
  const c = client;
  let ready: (s: Scheduler) => void;
  const started = new Promise<Scheduler>((r) => {
    ready = r;
  });
  let scheduler: Scheduler | undefined;
  if (withScheduler) {
    running = startScheduler(
      { client: c, initialBackoffMs: 100, maxBackoffMs: 1000, onReady: (s) => ready(s), ...o },
      ac.signal,
    );
    scheduler = await Promise.race([
      started,
      running.then(() => {
        throw new Error('scheduler stopped before it was ready');
      }),
    ]);
  }
  const kubeconfig = server.kubeconfigPath;
  return {
    client: c,
    kubeconfig,
    scheduler,
    kubectl: server.kubectl,
    until: poller({ timeoutMs: 15_000, intervalMs: 100, retryErrors: false }),
    async addNode(name, n = {}) {
      const node: Node = {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name, labels: { 'kubernetes.io/hostname': name, ...n.labels } },
        spec: n.taints ? { taints: n.taints } : {},
        status: {
          capacity: { cpu: n.cpu ?? '4', memory: n.memory ?? '32Gi', pods: '110' },
          allocatable: { cpu: n.cpu ?? '4', memory: n.memory ?? '32Gi', pods: '110' },
          conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'ready' }],
        },
      };
      // the API server keeps a new Node's status empty, as the kubelet's later status write fills it
      const created = (await c.create(NODES, node as never)) as object;
      await c.updateStatus(NODES, { ...created, status: node.status } as never);
    },
    async nodeOf(name, namespace = 'default') {
      const p = (await c.get(PODS, name, { namespace })) as { spec?: { nodeName?: string } };
      return p.spec?.nodeName;
    },
  };
}
