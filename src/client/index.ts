/**
 * Skiff's client toolkit, used by every component that talks to the API server: a typed REST
 * client built from a kubeconfig, shared informers with indexed caches, rate-limited work
 * queues, Lease-based leader election and an Event recorder.
 */
export {
  type EventRecorder,
  type EventRecorderOptions,
  type EventType,
  eventRecorder,
} from './events.ts';
export { FakeListWatcher } from './fake-list-watcher.ts';
export {
  type EventHandler,
  type InformerOptions,
  isGone,
  type ListOptions,
  type ListResult,
  type ListWatcher,
  SharedInformer,
  stripManagedFields,
  type WatchEvent,
  type WatchEventType,
  type WatchOptions,
} from './informer.ts';
export { type RestConfig, restConfigFromKubeconfig, restConfigFromKubeconfigText } from './kubeconfig.ts';
export {
  type LeaderCallbacks,
  type LeaderElectionConfig,
  type LeaseClient,
  microTime,
  runWhenLeader,
} from './leader-election.ts';
export {
  type DeleteOptions,
  EVENTS,
  type GroupVersionResource,
  LEASES,
  type ListQuery,
  type ListWatchSelector,
  leaseClientFor,
  listWatcherFor,
  NODES,
  type ObjectOptions,
  type PatchOptions,
  type PatchType,
  PODS,
  RestClient,
  resourcePath,
  statusErrorFrom,
  type WatchQuery,
  type WriteOptions,
} from './rest.ts';
export { byNamespace, CacheStore, type IndexFunc, keyOf, NAMESPACE_INDEX } from './store.ts';
export { WorkQueue, type WorkQueueOptions } from './workqueue.ts';
