import type { KubeObject } from '../../api/index.ts';
import {
  type GroupVersionResource,
  listWatcherFor,
  type RestClient,
  SharedInformer,
  stripManagedFields,
} from '../../client/index.ts';
import type { DnsServer } from './server.ts';

const SERVICES: GroupVersionResource = { group: '', version: 'v1', resource: 'services' };
const ENDPOINT_SLICES: GroupVersionResource = {
  group: 'discovery.k8s.io',
  version: 'v1',
  resource: 'endpointslices',
};

/**
 * Keeps a DNS server's zone in step with the API: informers on Services and EndpointSlices, and
 * a rebuild (coalesced to one per tick) after every change. Resolves when `signal` aborts.
 */
export async function runClusterDns(
  client: RestClient,
  server: DnsServer,
  signal: AbortSignal,
): Promise<void> {
  const services = new SharedInformer<KubeObject>(listWatcherFor(client, SERVICES), {
    transform: stripManagedFields,
  });
  const slices = new SharedInformer<KubeObject>(listWatcherFor(client, ENDPOINT_SLICES), {
    transform: stripManagedFields,
  });
  let pending = false;
  const rebuild = () => {
    if (pending) return;
    pending = true;
    setImmediate(() => {
      pending = false;
      server.update({
        services: services.store.list() as never,
        endpointSlices: slices.store.list() as never,
      });
    });
  };
  for (const inf of [services, slices])
    inf.addEventHandler({ add: rebuild, update: rebuild, delete: rebuild });
  await Promise.allSettled([services.start(signal), slices.start(signal)]);
}
