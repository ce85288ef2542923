/**
 * Skiff's scheduler: kube-scheduler's framework (extension points, plugins by name, Status codes
 * as values), its in-tree plugins, a scheduling queue and a `Scheduler` that binds through a
 * `Binder` and reports through an `EventRecorder`.
 */

export { SchedulerCache } from './cache.ts';
export { FitError, unavailableMessage } from './framework/fit-error.ts';
export {
  Framework,
  type FrameworkOptions,
  numFeasibleNodesToFind,
  type ScheduleResult,
} from './framework/framework.ts';
export * from './framework/helpers.ts';
export type * from './framework/interface.ts';
export {
  type HostPort,
  NodeInfo,
  PodInfo,
  parseQuantity,
  Resource,
  type Snapshot,
  snapshotOf,
} from './framework/node-info.ts';
export {
  asError,
  Code,
  CycleState,
  SKIP,
  Status,
  SUCCESS,
  unresolvable,
  unschedulable,
} from './framework/status.ts';
export { Names } from './plugins/names.ts';
export { DEFAULT_PROFILE, inTreeRegistry, type PluginConfig, Registry } from './plugins/registry.ts';
export { type ClusterEvent, type QueueOptions, SchedulingQueue } from './queue.ts';
export {
  type Binder,
  type EventRecorder,
  type PodStatusWriter,
  Scheduler,
  type SchedulerOptions,
} from './scheduler.ts';
export {
  type LeaderElectionOptions,
  PRIORITY_CLASSES,
  type StartSchedulerOptions,
  startScheduler,
} from './start.ts';
