/**
 * The EndpointSlice and Endpoints controllers, run as one loop since both follow the same
 * Services and Pods: informers on Services, Pods, managed EndpointSlices and Endpoints feed a
 * work queue of Service keys; `reconcile(key)` is level-based and writes only what differs.
 *
 *   const client = await RestClient.fromKubeconfig(path);
 *   await runEndpointControllers(client, signal);   // resolves when signal aborts
 */

import type { Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { isReason, type KubeObject } from '../../api/index.ts';
import {
  type GroupVersionResource,
  keyOf,
  listWatcherFor,
  PODS,
  type RestClient,
  SharedInformer,
  WorkQueue,
} from '../../client/index.ts';
import {
  desiredEndpoints,
  desiredSlices,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  SERVICE_NAME_LABEL,
  selects,
} from './desired.ts';

/** A kind's type as the client toolkit takes it (plain JSON with an index signature). */
type K<T> = T & KubeObject;

export const SERVICES: GroupVersionResource = { group: '', version: 'v1', resource: 'services' };
export const ENDPOINTS: GroupVersionResource = { group: '', version: 'v1', resource: 'endpoints' };
export const ENDPOINT_SLICES: GroupVersionResource = {
  group: 'discovery.k8s.io',
  version: 'v1',
  resource: 'endpointslices',
};

export interface EndpointControllerOptions {
  /** Parallel reconcilers (default 2). */
  workers?: number;
  onError?(err: unknown): void;
}

export async function runEndpointControllers(
  client: RestClient,
  signal: AbortSignal,
  opts: EndpointControllerOptions = {},
): Promise<void> {
  const onError = opts.onError ?? ((e: unknown) => console.error('endpoint-controller:', e));
  const services = new SharedInformer<K<Service>>(listWatcherFor(client, SERVICES), { onError });
  const pods = new SharedInformer<K<Pod>>(listWatcherFor(client, PODS), { onError });
  const slices = new SharedInformer<K<EndpointSlice>>(
    listWatcherFor(client, ENDPOINT_SLICES, { labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY}` }),
    { onError, indexers: { service: (s) => [serviceKeyOfSlice(s)] } },
  );
  const endpoints = new SharedInformer<K<Endpoints>>(listWatcherFor(client, ENDPOINTS), { onError });
  const queue = new WorkQueue();

  const enqueueForPod = (pod: Pod) => {
    for (const svc of services.store.byIndex('namespace', pod.metadata?.namespace ?? 'default')) {
      if (selects(svc, pod)) queue.add(keyOf(svc));
    }
  };
  services.addEventHandler({
    add: (s) => queue.add(keyOf(s)),
    update: (_, s) => queue.add(keyOf(s)),
    delete: (s) => queue.add(keyOf(s)),
  });
  pods.addEventHandler({
    add: enqueueForPod,
    update: (a, b) => {
      enqueueForPod(a);
      enqueueForPod(b);
    },
    delete: enqueueForPod,
  });
  // Someone else changed or deleted what we wrote: put it back.
  slices.addEventHandler({
    update: (_, s) => queue.add(serviceKeyOfSlice(s)),
    delete: (s) => queue.add(serviceKeyOfSlice(s)),
  });
  endpoints.addEventHandler({ delete: (e) => queue.add(keyOf(e)) });

  const informers = [services, pods, slices, endpoints];
  const running = informers.map((i) => i.start(signal));
  for (const i of informers) await i.waitForSync(signal);
  signal.addEventListener('abort', () => queue.shutDown(), { once: true });
  if (signal.aborted) queue.shutDown();

  const reconcile = async (key: string) => {
    const [ns, name] = key.split('/');
    const svc = services.store.get(key);
    const current = slices.store.byIndex('service', key);
    if (!svc?.spec?.selector || Object.keys(svc.spec.selector).length === 0) {
      // No Service, or one whose endpoints are managed by hand: drop our slices.
      for (const s of current)
        await ignoreNotFound(client.delete(ENDPOINT_SLICES, s.metadata!.name!, { namespace: ns }));
      if (!svc && endpoints.store.get(key))
        await ignoreNotFound(client.delete(ENDPOINTS, name, { namespace: ns }));
      return;
    }
    const selected = pods.store.byIndex('namespace', ns).filter((p) => selects(svc, p));
    const want = desiredSlices(svc, selected);
    const have = new Map(current.map((s) => [s.metadata!.name!, s]));
    for (const s of want) {
      const old = have.get(s.metadata!.name!);
      have.delete(s.metadata!.name!);
      if (!old) await client.create(ENDPOINT_SLICES, s as K<EndpointSlice>);
      else if (!sameSlice(old, s)) {
        await client.update(ENDPOINT_SLICES, {
          ...(s as K<EndpointSlice>),
          metadata: { ...s.metadata, resourceVersion: old.metadata?.resourceVersion },
        });
      }
    }
    for (const s of have.values()) {
      await ignoreNotFound(client.delete(ENDPOINT_SLICES, s.metadata!.name!, { namespace: ns }));
    }

    const ep = desiredEndpoints(svc, selected);
    const oldEp = endpoints.store.get(key);
    if (!oldEp) await client.create(ENDPOINTS, ep as K<Endpoints>);
    else if (JSON.stringify(oldEp.subsets ?? []) !== JSON.stringify(ep.subsets)) {
      await client.update(ENDPOINTS, {
        ...(ep as K<Endpoints>),
        metadata: { ...oldEp.metadata, labels: ep.metadata?.labels },
      });
    }
  };

  const worker = async () => {
    for (let key = await queue.get(); key !== undefined; key = await queue.get()) {
      try {
        await reconcile(key);
        queue.forget(key);
      } catch (e) {
        if (!signal.aborted) {
          // A conflict means our cache is behind; the informer catches up and we try again.
          if (!isReason(e, 'Conflict') && !isReason(e, 'AlreadyExists')) onError(e);
          queue.addRateLimited(key);
        }
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.workers ?? 2 }, worker));
  await Promise.allSettled(running);
}

function serviceKeyOfSlice(s: EndpointSlice): string {
  return `${s.metadata?.namespace ?? 'default'}/${s.metadata?.labels?.[SERVICE_NAME_LABEL] ?? ''}`;
}

function sameSlice(a: EndpointSlice, b: EndpointSlice): boolean {
  return (
    JSON.stringify([a.ports ?? [], a.endpoints ?? [], a.metadata?.labels]) ===
    JSON.stringify([b.ports ?? [], b.endpoints ?? [], b.metadata?.labels])
  );
}

async function ignoreNotFound(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (!isReason(e, 'NotFound')) throw e;
  }
}
