/**
 * The service proxy driven by the API: informers on Services, EndpointSlices and Nodes, and a
 * debounced `NftProxier.sync` after every change, so a burst of events (a Deployment scaling
 * up) costs one kernel transaction. A failed sync is retried after a second.
 *
 * The built-in load balancer (as k3s's ServiceLB): every node answers on a LoadBalancer Service's
 * port at its own addresses (the proxy renders that), and `status.loadBalancer.ingress` lists the
 * Ready nodes' addresses. Exactly one node writes that status: the Ready node whose name sorts
 * first (no election needed; when readiness changes the next one takes over). With no Node
 * objects at all (a proxy run without a node agent) this node writes its own `nodeIPs`.
 *
 *   await runServiceProxy({ client, nodeName: 'node-a', nodeIPs: ['192.168.1.5'], id: 'node-a' }, signal);
 */
import type { LoadBalancerIngress, Node, Service } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/index.ts';
import {
  type GroupVersionResource,
  listWatcherFor,
  NODES,
  type RestClient,
  SharedInformer,
  stripManagedFields,
} from '../../client/index.ts';
import { debouncedSync } from '../debounced-sync.ts';
import { NftProxier } from './proxier.ts';

export const SERVICES: GroupVersionResource = { group: '', version: 'v1', resource: 'services' };
export const ENDPOINT_SLICES: GroupVersionResource = {
  group: 'discovery.k8s.io',
  version: 'v1',
  resource: 'endpointslices',
};

export interface ServiceProxyOptions {
  client: RestClient;
  nodeName: string;
  /** Addresses NodePorts and load balancers answer on. */
  nodeIPs: string[];
  /** The nftables table suffix (`skiff-<id>`). */
  id: string;
  /** The pods' CIDR; see ProxyModel.clusterCIDR. */
  clusterCIDR?: string;
  /** How long to let a burst of changes settle before syncing (default 50 ms). */
  debounceMs?: number;
  /** Called after each sync (tests, metrics). */
  onSync?: (stats: Awaited<ReturnType<NftProxier['sync']>>) => void;
}

type Obj = KubeObject & Record<string, any>;

const isReady = (n: Node) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

/** The node that writes load balancer status, or undefined if there are no Ready nodes. */
export function loadBalancerWriter(nodes: Node[]): string | undefined {
  return nodes
    .filter(isReady)
    .map((n) => n.metadata?.name ?? '')
    .sort()[0];
}

function nodeAddresses(nodes: Node[]): string[] {
  const out: string[] = [];
  for (const n of nodes.filter(isReady).sort((a, b) => (a.metadata!.name! < b.metadata!.name! ? -1 : 1))) {
    const addrs = n.status?.addresses ?? [];
    const pick = addrs.filter((a) => a.type === 'ExternalIP').length
      ? addrs.filter((a) => a.type === 'ExternalIP')
      : addrs.filter((a) => a.type === 'InternalIP');
    for (const a of pick) if (!out.includes(a.address)) out.push(a.address);
  }
  return out;
}

function sameIngress(a: LoadBalancerIngress[] = [], b: LoadBalancerIngress[] = []): boolean {
  return a.length === b.length && a.every((x, i) => x.ip === b[i]?.ip && x.ipMode === b[i]?.ipMode);
}

/** Runs until `signal` aborts, then removes the proxy's table. */
export async function runServiceProxy(o: ServiceProxyOptions, signal: AbortSignal): Promise<void> {
  const proxier = new NftProxier({ id: o.id });
  // managedFields are a third of a small object; a status write without them keeps the stored ones
  const opts = { transform: stripManagedFields };
  const services = new SharedInformer<Obj>(listWatcherFor(o.client, SERVICES), opts);
  const slices = new SharedInformer<Obj>(listWatcherFor(o.client, ENDPOINT_SLICES), opts);
  const nodes = new SharedInformer<Obj>(listWatcherFor(o.client, NODES), opts);

  // A failed proxier sync still lets the load balancer status be written; each retries on its own.
  const sync = async (retryLater: () => void) => {
    try {
      const stats = await proxier.sync({
        nodeName: o.nodeName,
        nodeIPs: o.nodeIPs,
        services: services.store.list() as Service[],
        endpointSlices: slices.store.list() as never,
        clusterCIDR: o.clusterCIDR,
      });
      o.onSync?.(stats);
    } catch (e) {
      if (signal.aborted) return;
      console.error('service proxy: sync failed, retrying:', e);
      retryLater();
    }
    if (signal.aborted) return;
    await writeLoadBalancerStatus().catch((e) => {
      // Usually a Conflict with a newer write; the informer brings it, then we try again.
      if (!signal.aborted) console.error('service proxy: load balancer status:', e.message);
      retryLater();
    });
  };

  async function writeLoadBalancerStatus(): Promise<void> {
    if (!nodes.hasSynced()) return;
    const all = nodes.store.list() as Node[];
    const writer = all.length ? loadBalancerWriter(all) : o.nodeName;
    if (writer !== o.nodeName) return;
    const ips = all.length ? nodeAddresses(all) : o.nodeIPs;
    const ingress: LoadBalancerIngress[] = ips.map((ip) => ({ ip, ipMode: 'VIP' }));
    for (const svc of services.store.list()) {
      if (svc.spec?.type !== 'LoadBalancer' || svc.spec?.loadBalancerClass) continue;
      if (sameIngress(svc.status?.loadBalancer?.ingress, ingress)) continue;
      await o.client.updateStatus(SERVICES, {
        ...svc,
        status: { ...svc.status, loadBalancer: { ingress } },
      });
    }
  }

  try {
    await debouncedSync(
      {
        name: 'service proxy',
        informers: [services, slices, nodes],
        // Nodes only matter to the load balancer status, which waits for them itself.
        ready: () => services.hasSynced() && slices.hasSynced(),
        debounceMs: o.debounceMs,
        sync,
      },
      signal,
    );
  } finally {
    await proxier.close().catch((e) => console.error('service proxy: cleanup failed:', e));
  }
}
