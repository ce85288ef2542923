/**
 * Which protobuf message carries each served kind. The key is `apiVersion kind`, as it appears
 * in the `runtime.Unknown` envelope's typeMeta.
 */
export interface KindEntry {
  apiVersion: string;
  kind: string;
  /** Fully qualified protobuf message name. */
  message: string;
}

const GROUPS: Record<string, { apiVersion: string; pkg: string; kinds: string[]; lists: string[] }> = {
  core: {
    apiVersion: 'v1',
    pkg: 'k8s.io.api.core.v1',
    kinds: ['Binding'],
    lists: [
      'Namespace',
      'Pod',
      'ConfigMap',
      'Secret',
      'Service',
      'Endpoints',
      'Event',
      'Node',
      'ServiceAccount',
      'PersistentVolume',
      'PersistentVolumeClaim',
      'ResourceQuota',
      'LimitRange',
      'PodTemplate',
      'ReplicationController',
    ],
  },
  policy: {
    apiVersion: 'policy/v1',
    pkg: 'k8s.io.api.policy.v1',
    kinds: ['Eviction'],
    lists: ['PodDisruptionBudget'],
  },
  events: { apiVersion: 'events.k8s.io/v1', pkg: 'k8s.io.api.events.v1', kinds: [], lists: ['Event'] },
  coordination: {
    apiVersion: 'coordination.k8s.io/v1',
    pkg: 'k8s.io.api.coordination.v1',
    kinds: [],
    lists: ['Lease'],
  },
  discovery: {
    apiVersion: 'discovery.k8s.io/v1',
    pkg: 'k8s.io.api.discovery.v1',
    kinds: [],
    lists: ['EndpointSlice'],
  },
  apps: {
    apiVersion: 'apps/v1',
    pkg: 'k8s.io.api.apps.v1',
    kinds: [],
    lists: ['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'ControllerRevision'],
  },
  autoscaling: {
    apiVersion: 'autoscaling/v1',
    pkg: 'k8s.io.api.autoscaling.v1',
    kinds: ['Scale'],
    lists: [],
  },
  autoscalingV2: {
    apiVersion: 'autoscaling/v2',
    pkg: 'k8s.io.api.autoscaling.v2',
    kinds: [],
    lists: ['HorizontalPodAutoscaler'],
  },
  batch: { apiVersion: 'batch/v1', pkg: 'k8s.io.api.batch.v1', kinds: [], lists: ['Job', 'CronJob'] },
  storage: {
    apiVersion: 'storage.k8s.io/v1',
    pkg: 'k8s.io.api.storage.v1',
    kinds: [],
    lists: ['StorageClass', 'CSIDriver', 'CSINode', 'VolumeAttachment', 'CSIStorageCapacity'],
  },
  networking: {
    apiVersion: 'networking.k8s.io/v1',
    pkg: 'k8s.io.api.networking.v1',
    kinds: [],
    lists: ['NetworkPolicy', 'Ingress', 'IngressClass'],
  },
  apiextensions: {
    apiVersion: 'apiextensions.k8s.io/v1',
    pkg: 'k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1',
    kinds: [],
    lists: ['CustomResourceDefinition'],
  },
  scheduling: {
    apiVersion: 'scheduling.k8s.io/v1',
    pkg: 'k8s.io.api.scheduling.v1',
    kinds: [],
    lists: ['PriorityClass'],
  },
  rbac: {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    pkg: 'k8s.io.api.rbac.v1',
    kinds: [],
    lists: ['Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'],
  },
  authentication: {
    apiVersion: 'authentication.k8s.io/v1',
    pkg: 'k8s.io.api.authentication.v1',
    kinds: ['TokenRequest', 'TokenReview', 'SelfSubjectReview'],
    lists: [],
  },
  authorization: {
    apiVersion: 'authorization.k8s.io/v1',
    pkg: 'k8s.io.api.authorization.v1',
    kinds: [
      'SelfSubjectAccessReview',
      'SubjectAccessReview',
      'LocalSubjectAccessReview',
      'SelfSubjectRulesReview',
    ],
    lists: [],
  },
};

const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';

function buildKinds(): Record<string, KindEntry> {
  const out: Record<string, KindEntry> = {};
  const add = (apiVersion: string, kind: string, message: string) => {
    out[`${apiVersion} ${kind}`] = { apiVersion, kind, message };
  };
  for (const g of Object.values(GROUPS)) {
    for (const kind of g.kinds) add(g.apiVersion, kind, `${g.pkg}.${kind}`);
    for (const kind of g.lists) {
      add(g.apiVersion, kind, `${g.pkg}.${kind}`);
      add(g.apiVersion, `${kind}List`, `${g.pkg}.${kind}List`);
    }
  }
  // meta/v1 kinds travel as "v1" (how clients send them) and as "meta.k8s.io/v1".
  for (const apiVersion of ['v1', 'meta.k8s.io/v1']) {
    add(apiVersion, 'Status', `${META}.Status`);
    add(apiVersion, 'DeleteOptions', `${META}.DeleteOptions`);
  }
  return out;
}

/** Every served kind, keyed by `apiVersion kind`. */
export const KINDS: Readonly<Record<string, KindEntry>> = buildKinds();

export function kindEntry(apiVersion: string, kind: string): KindEntry | undefined {
  return Object.hasOwn(KINDS, `${apiVersion} ${kind}`) ? KINDS[`${apiVersion} ${kind}`] : undefined;
}
