/**
 * A node: Skiff's CRI runtime (unless an external CRI endpoint such as containerd is given),
 * pod networking from the CNI plugins, and the node agent. Used by `skiff server` (the
 * in-process agent) and `skiff agent` (a node that joins a server).
 *
 * Containers outlive the node process (conmon holds them), so a restarted node adopts its
 * running pods; `skiff killall` stops everything a node made.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { isReason } from '../api/errors.ts';
import type { RestClient } from '../client/index.ts';
import { NODES } from '../client/index.ts';
import { type Agent, startAgent } from '../kubelet/index.ts';
import { cniNetwork, defaultConflist } from '../network/cni/index.ts';
import { runNodeRoutes } from '../network/routes/index.ts';
import { type RuntimeHandle, startRuntime } from '../runtime/index.ts';

export interface NodeOptions {
  client: RestClient;
  dataDir: string;
  nodeName?: string;
  /**
   * The pod network of this node (host-local IPAM hands out addresses from it). Without one the
   * node registers its Node and waits for the node IPAM controller to set `spec.podCIDR`.
   */
  podCIDR?: string;
  /** How long to wait for that (default 60 s). */
  podCIDRTimeoutMs?: number;
  /** Program host-gw routes to the other nodes' pod CIDRs (default true; see network/routes). */
  routes?: boolean;
  /** Name of the Linux bridge the CNI bridge plugin attaches pods to. */
  bridge: string;
  /** An external CRI endpoint (e.g. containerd's `unix:///run/containerd/containerd.sock`); default Skiff's own runtime. */
  criEndpoint?: string;
  /** Registries every pull tries first (the cluster registry). */
  mirrors?: { url: string; caPem?: string }[];
  kubeletAddress?: string;
  kubeletPort?: number;
  hostIP?: string;
  clusterDNS?: string[];
  labels?: Record<string, string>;
  log?(msg: string): void;
}

export interface RunningNode {
  nodeName: string;
  podCIDR: string;
  criEndpoint: string;
  agent: Agent;
  runtime?: RuntimeHandle;
  close(): Promise<void>;
}

/** Paths of a node's state under its data dir; `skiff killall` uses the same. */
export function nodePaths(dataDir: string) {
  return {
    runtimeRoot: join(dataDir, 'runtime'),
    runtimeState: join(dataDir, 'run'),
    criSocket: join(dataDir, 'run', 'cri.sock'),
    cniDir: join(dataDir, 'cni'),
    agentDir: join(dataDir, 'agent'),
    podLogs: join(dataDir, 'logs', 'pods'),
  };
}

export async function startNode(o: NodeOptions, signal?: AbortSignal): Promise<RunningNode> {
  const paths = nodePaths(o.dataDir);
  const nodeName = o.nodeName ?? hostname().toLowerCase();
  const podCIDR =
    o.podCIDR ?? (await waitForPodCIDR(o.client, nodeName, o.podCIDRTimeoutMs ?? 60_000, signal));
  let runtime: RuntimeHandle | undefined;
  let criEndpoint = o.criEndpoint;
  if (!criEndpoint) {
    const network = cniNetwork({
      conflist: defaultConflist({
        name: 'skiff',
        bridge: o.bridge,
        podCIDR,
        dataDir: join(paths.cniDir, 'ipam'),
      }),
      binDirs: ['/usr/lib/cni', '/opt/cni/bin'],
      cacheDir: join(paths.cniDir, 'cache'),
    });
    runtime = await startRuntime({
      root: paths.runtimeRoot,
      stateDir: paths.runtimeState,
      socket: paths.criSocket,
      network,
      mirrors: o.mirrors,
    });
    criEndpoint = `unix://${runtime.socket}`;
  }
  try {
    const agent = await startAgent(
      {
        client: o.client,
        nodeName,
        criEndpoint,
        dataDir: paths.agentDir,
        podLogsDir: paths.podLogs,
        podCIDR,
        hostIP: o.hostIP,
        address: o.kubeletAddress ?? '127.0.0.1',
        port: o.kubeletPort ?? 10250,
        clusterDNS: o.clusterDNS,
        labels: o.labels,
        log: o.log,
      },
      signal,
    );
    const routesStop = new AbortController();
    const stopRoutes = () => routesStop.abort();
    signal?.addEventListener('abort', stopRoutes, { once: true });
    const routes =
      o.routes === false
        ? Promise.resolve()
        : runNodeRoutes({ client: o.client, nodeName, log: o.log }, routesStop.signal).catch((e) =>
            (o.log ?? console.error)(`routes stopped: ${(e as Error).message}`),
          );
    return {
      nodeName,
      podCIDR,
      criEndpoint,
      agent,
      runtime,
      async close() {
        routesStop.abort();
        signal?.removeEventListener('abort', stopRoutes);
        await routes;
        await agent.close();
        await runtime?.close();
      },
    };
  } catch (e) {
    await runtime?.close();
    throw e;
  }
}

/**
 * Register a bare Node (the agent fills in its status right after) and wait until the node IPAM
 * controller has given it a pod CIDR: the runtime's CNI configuration needs the range first.
 */
async function waitForPodCIDR(
  client: RestClient,
  nodeName: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<string> {
  try {
    await client.create(NODES, { apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName }, spec: {} });
  } catch (e) {
    if (!isReason(e, 'AlreadyExists')) throw e;
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const node = (await client.get(NODES, nodeName)) as { spec?: { podCIDR?: string } };
    if (node.spec?.podCIDR) return node.spec.podCIDR;
    if (signal?.aborted) throw new Error(`node ${nodeName}: stopped while waiting for a pod CIDR`);
    if (Date.now() > deadline)
      throw new Error(
        `node ${nodeName}: no pod CIDR after ${timeoutMs / 1000} s (is the node IPAM controller running?)`,
      );
    await new Promise((r) => setTimeout(r, 500));
  }
}
