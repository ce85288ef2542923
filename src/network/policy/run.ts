/**
 * NetworkPolicy driven by the API: informers on Pods, Namespaces and NetworkPolicies feed
 * `NftPolicy.sync`, debounced (default 50 ms) so a change is in the kernel well within a second.
 * If the API server does not serve networking.k8s.io/v1 NetworkPolicies, it logs that policies
 * are not enforced and waits for `signal`.
 *
 *   await runNetworkPolicy({ client, nodeName: 'node-a', id: 'node-a' }, signal);
 */
import type { Namespace, Pod } from 'kubernetes-types/core/v1.js';
import type { NetworkPolicy } from 'kubernetes-types/networking/v1.js';
import { isReason } from '../../api/errors.ts';
import type { KubeObject } from '../../api/resource.ts';
import {
  type GroupVersionResource,
  listWatcherFor,
  PODS,
  type RestClient,
  SharedInformer,
  stripManagedFields,
} from '../../client/index.ts';
import { debouncedSync } from '../debounced-sync.ts';
import { NftPolicy, type PolicySyncStats } from './policy.ts';

export const NAMESPACES: GroupVersionResource = { group: '', version: 'v1', resource: 'namespaces' };
export const NETWORK_POLICIES: GroupVersionResource = {
  group: 'networking.k8s.io',
  version: 'v1',
  resource: 'networkpolicies',
};

export interface NetworkPolicyOptions {
  client: RestClient;
  /** Enforce for this node's pods. */
  nodeName: string;
  /** The nftables table suffix (`skiff-<id>-policy`). */
  id: string;
  debounceMs?: number;
  onSync?: (stats: PolicySyncStats) => void;
}

/**
 * What NetworkPolicy reads of a pod. Its informer watches every pod of the cluster, so it keeps
 * just this: a whole pod, with status and managedFields, is ten times the memory or more.
 */
export function policyPodView(p: Pod): Pod {
  const m = p.metadata ?? {};
  return {
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      labels: m.labels,
    },
    spec: {
      nodeName: p.spec?.nodeName,
      // named ports in rules resolve against these
      containers: (p.spec?.containers ?? [])
        .filter((c) => c.ports?.length)
        .map((c) => ({ name: c.name, ports: c.ports })),
    },
    status: { podIP: p.status?.podIP },
  };
}

/** Runs until `signal` aborts, then removes the policy table. */
export async function runNetworkPolicy(o: NetworkPolicyOptions, signal: AbortSignal): Promise<void> {
  try {
    await o.client.list(NETWORK_POLICIES, { limit: 1, signal });
  } catch (e) {
    if (signal.aborted) return;
    if (!isReason(e, 'NotFound')) throw e;
    console.warn('network policy: the API serves no networking.k8s.io/v1 networkpolicies; not enforced');
    await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
    return;
  }
  const policy = new NftPolicy({ id: o.id });
  const pods = new SharedInformer<KubeObject>(listWatcherFor(o.client, PODS), {
    transform: (p) => policyPodView(p as Pod) as KubeObject,
  });
  const namespaces = new SharedInformer<KubeObject>(listWatcherFor(o.client, NAMESPACES), {
    transform: stripManagedFields,
  });
  const policies = new SharedInformer<KubeObject>(listWatcherFor(o.client, NETWORK_POLICIES), {
    transform: stripManagedFields,
  });
  try {
    await debouncedSync(
      {
        name: 'network policy',
        informers: [pods, namespaces, policies],
        debounceMs: o.debounceMs,
        async sync() {
          // Not `o.onSync?.(await policy.sync(...))`: an absent callback would skip the sync itself.
          const stats = await policy.sync({
            nodeName: o.nodeName,
            pods: pods.store.list() as Pod[],
            namespaces: namespaces.store.list() as Namespace[],
            policies: policies.store.list() as NetworkPolicy[],
          });
          o.onSync?.(stats);
        },
      },
      signal,
    );
  } finally {
    await policy.close().catch((e) => console.error('network policy: cleanup failed:', e));
  }
}
