/**
 * `skiff server`: the control plane in one process.
 *
 *   skiff server [--data-dir DIR] [--port N] [--bind ADDRESS] [--store sqlite|etcd|memory]
 *                [--etcd-endpoints URLS] [--disable-agent] [--hollow-nodes N] [--node-name NAME]
 *                [--pod-cidr CIDR] [--cluster-cidr CIDR] [--service-cidr CIDR] [--cni-bridge NAME] [--container-runtime-endpoint URL]
 *                [--kubelet-port N] [--registry-port N]
 */
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { builtinRegistry } from '../api/index.ts';
import type { ResourceRegistry } from '../api/resource.ts';
import {
  ensureJoinToken,
  ensurePki,
  patchEngine,
  type RunningServer,
  startApiServer,
} from '../apiserver/index.ts';
import { RestClient } from '../client/index.ts';
import { runEndpointControllers } from '../controllers/endpointslice/index.ts';
import { runGarbageCollector } from '../controllers/garbage-collector/index.ts';
import { startControllerManager } from '../controllers/index.ts';
import { runNamespaceController } from '../controllers/namespace/index.ts';
import { runNodeIpam } from '../controllers/nodeipam/index.ts';
import { ensureClusterDns } from '../network/index.ts';
import { publishRegistry, startClusterRegistry } from '../registry/index.ts';
import { startScheduler } from '../scheduler/index.ts';
import { Compactor, openBackend } from '../store/index.ts';
import { reduceHeapNow, startProcessMemoryReducer } from '../util/memory-reducer.ts';
import { writeJoinToken } from './join-token.ts';
import type { RunningNode } from './node.ts';

export interface ServerFlags {
  dataDir: string;
  port: number;
  bind: string;
  store: 'sqlite' | 'etcd' | 'memory';
  etcdEndpoints: string;
  disableAgent: boolean;
  /** Simulated nodes (kwok-like) for scale tests and benchmarks. */
  hollowNodes: number;
  nodeName?: string;
  /** This node's pod CIDR; absent: the node IPAM controller assigns one from clusterCIDR. */
  podCIDR?: string;
  clusterCIDR: string;
  /** Where Services' cluster IPs come from; the cluster DNS Service takes its 10th address. */
  serviceCIDR: string;
  cniBridge: string;
  /** An external CRI endpoint for the agent (e.g. containerd); default Skiff's own runtime. */
  containerRuntimeEndpoint?: string;
  kubeletPort: number;
  /** Port of the cluster's OCI registry (0: any free port). */
  registryPort: number;
}

export class UsageError extends Error {}

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

function portFlag(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--${name}: not a port number: ${v}`);
  return n;
}

export function parseServerFlags(args: string[]): ServerFlags {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        'data-dir': { type: 'string', default: '/var/lib/skiff' },
        port: { type: 'string', default: '6443' },
        bind: { type: 'string', default: '0.0.0.0' },
        store: { type: 'string', default: 'sqlite' },
        'etcd-endpoints': { type: 'string', default: 'http://127.0.0.1:2379' },
        'disable-agent': { type: 'boolean', default: false },
        'hollow-nodes': { type: 'string', default: '0' },
        'node-name': { type: 'string' },
        'pod-cidr': { type: 'string' },
        'cluster-cidr': { type: 'string', default: '10.42.0.0/16' },
        'service-cidr': { type: 'string', default: '10.43.0.0/16' },
        'cni-bridge': { type: 'string', default: 'skiff0' },
        'container-runtime-endpoint': { type: 'string' },
        'kubelet-port': { type: 'string', default: '10250' },
        'registry-port': { type: 'string', default: '0' },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const store = values.store as string;
  if (!['sqlite', 'etcd', 'memory'].includes(store))
    throw new UsageError(`--store: expected sqlite, etcd or memory, got ${store}`);
  const hollow = Number(values['hollow-nodes']);
  if (!Number.isInteger(hollow) || hollow < 0)
    throw new UsageError(`--hollow-nodes: not a count: ${values['hollow-nodes']}`);
  const podCIDR = values['pod-cidr'] as string | undefined;
  if (podCIDR !== undefined && !CIDR.test(podCIDR))
    throw new UsageError(`--pod-cidr: not an IPv4 CIDR: ${podCIDR}`);
  const clusterCIDR = values['cluster-cidr'] as string;
  if (!CIDR.test(clusterCIDR)) throw new UsageError(`--cluster-cidr: not an IPv4 CIDR: ${clusterCIDR}`);
  const serviceCIDR = values['service-cidr'] as string;
  if (!CIDR.test(serviceCIDR)) throw new UsageError(`--service-cidr: not an IPv4 CIDR: ${serviceCIDR}`);
  const bridge = values['cni-bridge'] as string;
  if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(bridge))
    throw new UsageError(`--cni-bridge: not a Linux interface name (1-15 characters): ${bridge}`);
  return {
    dataDir: values['data-dir'] as string,
    port: portFlag('port', values.port as string),
    bind: values.bind as string,
    store: store as ServerFlags['store'],
    etcdEndpoints: values['etcd-endpoints'] as string,
    disableAgent: values['disable-agent'] as boolean,
    hollowNodes: hollow,
    nodeName: values['node-name'] as string | undefined,
    podCIDR,
    clusterCIDR,
    serviceCIDR,
    cniBridge: bridge,
    containerRuntimeEndpoint: values['container-runtime-endpoint'] as string | undefined,
    kubeletPort: portFlag('kubelet-port', values['kubelet-port'] as string),
    registryPort: portFlag('registry-port', values['registry-port'] as string),
  };
}

function machineAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((a) => a && !a.internal)
    .map((a) => a!.address);
}

/** The n-th address of an IPv4 CIDR (`10.43.0.0/16`, 10 → `10.43.0.10`). */
export function nthAddress(cidr: string, n: number): string {
  const v =
    cidr
      .split('/')[0]
      .split('.')
      .reduce((a, b) => a * 256 + Number(b), 0) + n;
  return [24, 16, 8, 0].map((s) => (v >>> s) & 255).join('.');
}

export function storeUrl(f: Pick<ServerFlags, 'store' | 'dataDir' | 'etcdEndpoints'>): string {
  if (f.store === 'memory') return 'memory://';
  if (f.store === 'etcd')
    return `etcd://${f.etcdEndpoints.replace(/^https?:\/\//, '').replace(/,https?:\/\//g, ',')}`;
  return `sqlite://${join(f.dataDir, 'state.db')}`;
}

export interface BootedServer extends RunningServer {
  node?: RunningNode;
  registryUrl: string;
}

/** Defaults for everything but the data dir and port (tests and benchmarks). */
export function serverFlags(o: Partial<ServerFlags> & Pick<ServerFlags, 'dataDir'>): ServerFlags {
  return { ...parseServerFlags([]), ...o };
}

/**
 * Boot, in order, like a checklist:
 *   1. store (and its compactor)       5. workload controllers, EndpointSlice controllers
 *   2. the kinds served                 6. scheduler
 *   3. API server (PKI, namespaces)     7. cluster OCI registry
 *   4. admin client                     8. node (runtime + CNI + agent), hollow nodes
 * Everything stops in reverse order on `close()`. Containers outlive the server (see `skiff killall`).
 */
export async function boot(
  flags: ServerFlags,
  extra: { registry?: ResourceRegistry } = {},
): Promise<BootedServer> {
  const stopping = new AbortController();
  const signal = stopping.signal;
  const closers: (() => Promise<void>)[] = [];
  const daemons: Promise<void>[] = [];
  const daemon = (name: string, p: Promise<void>) =>
    daemons.push(
      p.catch((e) => {
        if (!signal.aborted) process.stderr.write(`skiff: ${name} stopped: ${(e as Error).message}\n`);
      }),
    );
  const close = async () => {
    stopping.abort();
    for (const c of closers.reverse()) await c().catch(() => {});
    await Promise.all(daemons);
  };
  try {
    const backend = await openBackend(storeUrl(flags)); // 1
    closers.push(() => backend.close());
    daemon('compactor', new Compactor(backend).start(signal));
    const registry = extra.registry ?? builtinRegistry(); // 2
    // A server bound to one address names it in its certificate (when the PKI is first made).
    // (all of this machine's addresses when it binds them all, for agents joining from elsewhere).
    await ensurePki(flags.dataDir, { sans: flags.bind === '0.0.0.0' ? machineAddresses() : [flags.bind] });
    // Nodes join with this token, and the API server presents it to their kubelets (logs, exec).
    const joinToken = await ensureJoinToken(flags.dataDir);
    const server = await startApiServer({
      // 3
      dataDir: flags.dataDir,
      port: flags.port,
      bind: flags.bind,
      backend,
      registry,
      patch: patchEngine,
      controllers: [runGarbageCollector, runNamespaceController],
      kubelet: { token: joinToken },
      serviceIps: { cidr: flags.serviceCIDR },
    });
    closers.push(() => server.close());
    // 4: in process, as upstream's loopback client (no TLS or sockets for our own components)
    const client = new RestClient({ server: server.url, connect: server.connect });
    closers.push(async () => client.close());
    daemon('controller manager', startControllerManager({ client }, signal)); // 5
    daemon('endpoint controllers', runEndpointControllers(client, signal));
    daemon('node IPAM', runNodeIpam(client, { clusterCIDR: flags.clusterCIDR, nodeMaskSize: 24 }, signal));
    const clusterDNS = nthAddress(flags.serviceCIDR, 10);
    await ensureClusterDns({ client, clusterIP: clusterDNS });
    daemon('scheduler', startScheduler({ client }, signal)); // 6
    const pki = await ensurePki(flags.dataDir); // 7
    await writeJoinToken(flags.dataDir, pki.ca.cert, joinToken);
    const images = await startClusterRegistry({
      dataDir: flags.dataDir,
      pki,
      host: flags.bind === '0.0.0.0' ? '127.0.0.1' : flags.bind,
      port: flags.registryPort,
    });
    closers.push(() => images.close());
    await publishRegistry(client, { url: images.url, caPem: images.caPem });
    let node: RunningNode | undefined;
    if (!flags.disableAgent) {
      // 8: loaded only here (runtime, CRI, kubelet, node networking): a server without an agent
      // never holds their code nor the gRPC and proto-loader libraries (~7 MB of RSS)
      const { startNode } = await import('./node.ts');
      node = await startNode(
        {
          client,
          dataDir: flags.dataDir,
          nodeName: flags.nodeName,
          podCIDR: flags.podCIDR,
          bridge: flags.cniBridge,
          criEndpoint: flags.containerRuntimeEndpoint,
          mirrors: [{ url: images.url, caPem: images.caPem }],
          kubeletPort: flags.kubeletPort,
          kubeletAddress: flags.bind,
          kubeletAuth: { tokens: [joinToken] },
          // On a node address other than "everywhere", the kubelet listens there and reports it.
          ...(flags.bind !== '0.0.0.0' ? { hostIP: flags.bind } : {}),
          clusterCIDR: flags.clusterCIDR,
          clusterDNS: [clusterDNS],
        },
        signal,
      );
      closers.push(() => node!.close());
    }
    if (flags.hollowNodes > 0) {
      const { startHollowNodes } = await import('../hollow/index.ts');
      const hollow = await startHollowNodes(
        { client, count: flags.hollowNodes, namePrefix: 'hollow-node-' },
        signal,
      );
      await hollow.ready;
    }
    return { ...server, node, registryUrl: images.url, close };
  } catch (e) {
    await close();
    throw e;
  }
}

export async function serverCommand(args: string[]): Promise<number> {
  let flags: ServerFlags;
  try {
    flags = parseServerFlags(args);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`skiff server: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  let server: BootedServer;
  try {
    server = await boot(flags);
  } catch (e) {
    process.stderr.write(`skiff server: ${(e as Error).message}\n`);
    return 1;
  }
  const node = server.node
    ? `node ${server.node.nodeName} (CRI ${server.node.criEndpoint}, pod CIDR ${server.node.podCIDR})`
    : 'no node agent (--disable-agent)';
  process.stdout.write(
    `skiff: API server listening on ${server.url} (store: ${flags.store})\n` +
      `skiff: ${node}; cluster registry ${server.registryUrl}\n` +
      `admin kubeconfig: ${server.kubeconfigPath}\n` +
      `join a node: skiff agent --server ${server.url} --token "$(cat ${join(flags.dataDir, 'join-token')})"\n` +
      `  export KUBECONFIG=${server.kubeconfigPath}\n  kubectl get nodes\n`,
  );
  // Heap a burst left behind goes back to the system once the server is idle (bin/skiff gives
  // the server --expose-gc for it; see src/util/memory-reducer.ts). Start-up is such a burst,
  // one the reducer does not see: one memory-reducing collection now gives back the young
  // generation it grew (~16 MB) and the garbage it left.
  reduceHeapNow();
  const reducer = startProcessMemoryReducer();
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  reducer?.stop();
  process.stdout.write('skiff: shutting down\n');
  await server.close();
  return 0;
}
