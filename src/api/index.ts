/**
 * Skiff's built-in kinds: `builtinRegistry()` returns a fresh `ResourceRegistry` with every
 * kind's names, verbs, subresources, schema, defaulting, validation and table printer.
 *
 *   const reg = builtinRegistry();
 *   const def = reg.byResource('apps', 'v1', 'deployments');
 *   def.defaults?.(obj);
 *   const causes = def.validate?.(obj) ?? [];
 *   if (causes.length) throw invalid(def.group, def.kind, obj.metadata.name, causes);
 */

import { controllerRevision, daemonSet, deployment, replicaSet, statefulSet } from './kinds/apps.ts';
import { horizontalPodAutoscaler, podTemplate, replicationController } from './kinds/autoscaling.ts';
import { cronJob, job } from './kinds/batch.ts';
import {
  event,
  limitRange,
  node,
  persistentVolume,
  persistentVolumeClaim,
  resourceQuota,
} from './kinds/cluster.ts';
import { configMap, namespace, secret, serviceAccount } from './kinds/config.ts';
import {
  clusterRole,
  clusterRoleBinding,
  customResourceDefinition,
  endpointSlice,
  eventsV1Event,
  lease,
  podDisruptionBudget,
  priorityClass,
  role,
  roleBinding,
  storageClass,
} from './kinds/groups.ts';
import { ingress, ingressClass, networkPolicy } from './kinds/networking.ts';
import { pod } from './kinds/pod.ts';
import {
  localSubjectAccessReview,
  selfSubjectAccessReview,
  selfSubjectReview,
  selfSubjectRulesReview,
  subjectAccessReview,
  tokenReview,
} from './kinds/review.ts';
import { endpoints, service } from './kinds/service.ts';
import {
  csiDriver,
  csiNode,
  csiStorageCapacity,
  volumeAttachment,
  volumeSnapshot,
  volumeSnapshotClass,
  volumeSnapshotContent,
} from './kinds/storage.ts';
import { makeRegistry } from './registry.ts';
import type { ResourceRegistry } from './resource.ts';
import { builtinSchemas } from './schema/index.ts';

export * from './errors.ts';
export { defaultTokenRequest, validateTokenRequest } from './kinds/review.ts';
export { humanDuration } from './printers/format.ts';
export type * from './resource.ts';
export { refName } from './schema/dsl.ts';
export { selectorMatches } from './validation/meta.ts';

export function builtinRegistry(): ResourceRegistry {
  return makeRegistry(
    [
      // core/v1
      namespace,
      pod,
      configMap,
      secret,
      service,
      endpoints,
      event,
      node,
      serviceAccount,
      persistentVolume,
      persistentVolumeClaim,
      resourceQuota,
      limitRange,
      podTemplate,
      replicationController,
      // the named groups
      eventsV1Event,
      lease,
      endpointSlice,
      deployment,
      replicaSet,
      statefulSet,
      daemonSet,
      controllerRevision,
      job,
      cronJob,
      horizontalPodAutoscaler,
      storageClass,
      priorityClass,
      podDisruptionBudget,
      role,
      roleBinding,
      clusterRole,
      clusterRoleBinding,
      customResourceDefinition,
      networkPolicy,
      ingress,
      ingressClass,
      csiDriver,
      csiNode,
      volumeAttachment,
      csiStorageCapacity,
      volumeSnapshot,
      volumeSnapshotContent,
      volumeSnapshotClass,
      // create-only, never stored
      tokenReview,
      selfSubjectReview,
      subjectAccessReview,
      localSubjectAccessReview,
      selfSubjectAccessReview,
      selfSubjectRulesReview,
    ],
    builtinSchemas,
  );
}
