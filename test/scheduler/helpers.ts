/** A control plane for the scheduler's end-to-end tests: API server (memory store) and scheduler. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Node } from 'kubernetes-types/core/v1.js';
import { builtinRegistry } from '../../src/api/index.ts';
import { startApiServer } from '../../src/apiserver/index.ts';
import { NODES, PODS, RestClient } from '../../src/client/index.ts';
import { type Scheduler, type StartSchedulerOptions, startScheduler } from '../../src/scheduler/index.ts';
import { MemoryBackend } from '../../src/store/index.ts';
import { kubectl } from '../apiserver/helpers.ts';

export interface Cluster {
  client: RestClient;
  kubeconfig: string;
  /** Undefined when started with `scheduler: false`. */
  scheduler: Scheduler | undefined;
  kubectl(args: string[], input?: string): ReturnType<typeof kubectl>;
  addNode(name: string, o?: NodeOptions): Promise<void>;
  /** Poll until `fn` answers something truthy. */
  until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs?: number): Promise<T>;
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
  const dir = await mkdtemp(join(tmpdir(), 'skiff-scheduler-'));
  const backend = new MemoryBackend();
  const ac = new AbortController();
  let running: Promise<void> | undefined;
  let client: RestClient | undefined;
  let server: Awaited<ReturnType<typeof startApiServer>> | undefined;
  t.after(async () => {
    ac.abort();
    await running?.catch(() => {});
    client?.close();
    await server?.close();
    await backend.close();
    await rm(dir, { recursive: true, force: true });
  });
  server = await startApiServer({ dataDir: dir, port: 0, backend, registry: builtinRegistry() });
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
  const until = async <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15_000) => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return {
    client: c,
    kubeconfig,
    scheduler,
    kubectl: (args, input) => kubectl(kubeconfig, args, input),
    until,
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
