/**
 * A node: Skiff's CRI runtime (unless an external CRI endpoint such as containerd is given),
 * pod networking from the CNI plugins, and the node agent. Used by `skiff server` (the
 * in-process agent) and `skiff agent` (a node that joins a server).
 *
 * Containers outlive the node process (conmon holds them), so a restarted node adopts its
 * running pods; `skiff killall` stops everything a node made.
 */
import { execFile } from 'node:child_process';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isReason } from '../api/errors.ts';
import type { RestClient } from '../client/index.ts';
import { NODES } from '../client/index.ts';
import { type Agent, type KubeletAuth, startAgent } from '../kubelet/index.ts';
import { cniNetwork, defaultConflist } from '../network/cni/index.ts';
import { DNS_SERVICE_IP, runNetworkPolicy, runNodeDns, runServiceProxy } from '../network/index.ts';
import { runNodeRoutes } from '../network/routes/index.ts';
import { type RuntimeHandle, startRuntime } from '../runtime/index.ts';

const execFileP = promisify(execFile);

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
  /**
   * Run the node's Service proxy, NetworkPolicy enforcement and cluster DNS listener (default
   * true). Their nftables tables are named after `networkId` (default: the bridge name), so
   * nodes sharing one network namespace (tests) keep apart.
   */
  services?: boolean;
  networkId?: string;
  /** All pods' addresses, for masquerading traffic that leaves the pod network (default 10.42.0.0/16). */
  clusterCIDR?: string;
  /** Name of the Linux bridge the CNI bridge plugin attaches pods to. */
  bridge: string;
  /** An external CRI endpoint (e.g. containerd's `unix:///run/containerd/containerd.sock`); default Skiff's own runtime. */
  criEndpoint?: string;
  /** Registries every pull tries first (the cluster registry). */
  mirrors?: { url: string; caPem?: string }[];
  kubeletAddress?: string;
  kubeletPort?: number;
  /** Who may call the kubelet (logs, exec): the API server presents the cluster's join token. */
  kubeletAuth?: KubeletAuth;
  hostIP?: string;
  /** Default: the cluster DNS Service's address when `services` is on. */
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
  const services = o.services !== false;
  // The bridge plugin would make the bridge with the first pod; the DNS listener binds its
  // gateway address from the start, so make it now (the plugin adopts an existing bridge).
  const gateway = firstHost(podCIDR);
  if (services && !o.criEndpoint) await ensureBridge(o.bridge, gateway, podCIDR);
  const clusterDNS = o.clusterDNS ?? (services ? [DNS_SERVICE_IP] : undefined);
  let runtime: RuntimeHandle | undefined;
  let criEndpoint = o.criEndpoint;
  if (!criEndpoint) {
    const conflist = defaultConflist({
      name: 'skiff',
      bridge: o.bridge,
      podCIDR,
      dataDir: join(paths.cniDir, 'ipam'),
    });
    // With the Service proxy on, it masquerades pod egress outside the cluster CIDR itself, so
    // pod-to-pod traffic between nodes keeps its source address (see network/proxy render).
    if (services) for (const p of conflist.plugins) if (p.type === 'bridge') p.ipMasq = false;
    const network = cniNetwork({
      conflist,
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
        criSameProcess: runtime !== undefined,
        dataDir: paths.agentDir,
        podLogsDir: paths.podLogs,
        podCIDR,
        hostIP: o.hostIP,
        address: o.kubeletAddress ?? '127.0.0.1',
        port: o.kubeletPort ?? 10250,
        auth: o.kubeletAuth,
        clusterDNS,
        labels: o.labels,
        log: o.log,
      },
      signal,
    );
    const runners = new AbortController();
    const stopRunners = () => runners.abort();
    signal?.addEventListener('abort', stopRunners, { once: true });
    const log = o.log ?? ((m: string) => console.error(`node: ${m}`));
    const daemons: Promise<void>[] = [];
    const daemon = (name: string, p: Promise<void>) =>
      daemons.push(p.catch((e) => log(`${name} stopped: ${(e as Error).message}`)));
    if (o.routes !== false)
      daemon('routes', runNodeRoutes({ client: o.client, nodeName, log }, runners.signal));
    if (services) {
      const id = o.networkId ?? o.bridge;
      const nodeIPs = [o.hostIP ?? firstAddress() ?? gateway];
      daemon(
        'service proxy',
        runServiceProxy(
          { client: o.client, nodeName, nodeIPs, id, clusterCIDR: o.clusterCIDR ?? '10.42.0.0/16' },
          runners.signal,
        ),
      );
      daemon('network policy', runNetworkPolicy({ client: o.client, nodeName, id }, runners.signal));
      // The DNS listener sits on the bridge Skiff's runtime attaches pods to.
      if (!o.criEndpoint)
        daemon('node DNS', runNodeDns({ client: o.client, nodeName, host: gateway }, runners.signal));
    }
    return {
      nodeName,
      podCIDR,
      criEndpoint,
      agent,
      runtime,
      async close() {
        runners.abort();
        signal?.removeEventListener('abort', stopRunners);
        await Promise.all(daemons);
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

/** The first host address of an IPv4 CIDR: the bridge gateway the CNI bridge plugin uses. */
function firstHost(cidr: string): string {
  const [ip] = cidr.split('/');
  const n = ip.split('.').reduce((a, b) => a * 256 + Number(b), 0) + 1;
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

function firstAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

async function ensureBridge(bridge: string, gateway: string, podCIDR: string): Promise<void> {
  const prefix = podCIDR.split('/')[1];
  const ip = (...args: string[]) => execFileP('ip', args);
  const exists = await ip('link', 'show', bridge).then(
    () => true,
    () => false,
  );
  if (!exists) await ip('link', 'add', 'name', bridge, 'type', 'bridge');
  const { stdout } = await ip('-o', '-4', 'addr', 'show', 'dev', bridge);
  if (!stdout.includes(` ${gateway}/`)) await ip('addr', 'add', `${gateway}/${prefix}`, 'dev', bridge);
  await ip('link', 'set', bridge, 'up');
}
