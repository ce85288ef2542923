/**
 * Skiff's workload controllers, run by one controller manager over the client toolkit.
 *
 *   const ac = new AbortController();
 *   const done = startControllerManager({ kubeconfig, controllers: ['*', '-cronjob'] }, ac.signal);
 *   ...; ac.abort(); await done;
 *
 * Names: replicaset, deployment, serviceaccount, job, cronjob, daemonset, statefulset,
 * nodelifecycle, podgc. (The garbage collector and namespace controller run inside the API server.)
 */

import { cronJobController } from './cronjob/index.ts';
import { daemonSetController } from './daemonset/index.ts';
import { deploymentController } from './deployment/index.ts';
import { jobController } from './job/index.ts';
import { nodeLifecycleController } from './nodelifecycle/index.ts';
import { podGCController } from './podgc/index.ts';
import { replicaSetController } from './replicaset/index.ts';
import type { Controller } from './runtime/controller.ts';
import { type ControllerManagerOptions, runControllers } from './runtime/manager.ts';
import { serviceAccountController } from './serviceaccount/index.ts';
import { statefulSetController } from './statefulset/index.ts';

export { nextTime, parseSchedule } from './cronjob/schedule.ts';
export {
  type Controller,
  ControllerBuilder,
  type ControllerContext,
  controllerFor,
  type Reconcile,
  type ReconcilerFactory,
  type Request,
  type Result,
  TerminalError,
} from './runtime/controller.ts';
export { Expectations } from './runtime/expectations.ts';
export { InformerFactory } from './runtime/informers.ts';
export { type ControllerManagerOptions, selectControllers } from './runtime/manager.ts';

/** Every controller by name, in start order. */
export function builtinControllers(): Record<string, Controller> {
  return {
    replicaset: replicaSetController,
    deployment: deploymentController,
    serviceaccount: serviceAccountController,
    job: jobController,
    cronjob: cronJobController,
    daemonset: daemonSetController,
    statefulset: statefulSetController,
    nodelifecycle: nodeLifecycleController,
    podgc: podGCController,
  };
}

/** Run the controllers until `signal` aborts (see ControllerManagerOptions). */
export function startControllerManager(o: ControllerManagerOptions, signal: AbortSignal): Promise<void> {
  return runControllers(builtinControllers(), o, signal);
}
