/** Schemas of apps/v1: Deployment, ReplicaSet, StatefulSet, DaemonSet, ControllerRevision. */
import type { Schema } from '../resource.ts';
import { CORE } from './core-pod.ts';
import {
  arr,
  bool,
  int,
  int64,
  intOrString,
  kind,
  kindAndList,
  labelSelector,
  obj,
  RAW_EXTENSION,
  ref,
  str,
  time,
} from './dsl.ts';

const APPS = 'io.k8s.api.apps.v1.';
const a = (name: string, description?: string, extra?: Partial<Schema>) =>
  ref(APPS + name, description, extra);
const gvk = (k: string) => ({ group: 'apps', version: 'v1', kind: k });

const appsKind = (k: string, description: string, props: Record<string, Schema>) =>
  kindAndList(APPS, gvk(k), description, props);

const template = (d: string) => ref(`${CORE}PodTemplateSpec`, d);
const selector = labelSelector(
  'Label query over the pods this object manages; must match the template labels.',
);

function workloadCondition(name: string): Schema {
  return obj(
    `A condition of a ${name}.`,
    {
      lastTransitionTime: time('When the condition last changed.'),
      lastUpdateTime: time('When the condition was last updated.'),
      message: str('Details.'),
      reason: str('A CamelCase reason.'),
      status: str('True, False or Unknown.'),
      type: str('The condition type.'),
    },
    { required: ['type', 'status'] },
  );
}

const conds = (item: string) =>
  arr(ref(APPS + item), 'The latest observations of the state.', { mergeKey: 'type' });

export function appsSchemas(): Record<string, Schema> {
  return {
    ...appsKind('Deployment', 'Declarative updates for pods and replica sets.', {
      spec: a('DeploymentSpec', 'The desired behaviour of the deployment.', { default: {} }),
      status: a('DeploymentStatus', 'The most recently observed state of the deployment.', { default: {} }),
    }),
    [`${APPS}DeploymentSpec`]: obj(
      'The desired behaviour of a deployment.',
      {
        minReadySeconds: int('Seconds a new pod must be ready, without crashing, to count as available.'),
        paused: bool('The deployment is paused: template changes do not roll out.'),
        progressDeadlineSeconds: int(
          'Seconds to make progress before the deployment is reported as failed; 600 by default.',
        ),
        replicas: int('Desired number of pods; 1 by default.'),
        revisionHistoryLimit: int('Old replica sets kept for rollback; 10 by default.'),
        selector,
        strategy: a('DeploymentStrategy', 'How old pods are replaced by new ones.', { default: {} }),
        template: template('The pods to create.'),
      },
      { required: ['selector', 'template'] },
    ),
    [`${APPS}DeploymentStrategy`]: obj('How a deployment replaces pods.', {
      rollingUpdate: a('RollingUpdateDeployment', 'Rolling update parameters, for type RollingUpdate.'),
      type: str('Recreate or RollingUpdate; RollingUpdate by default.', {
        enum: ['Recreate', 'RollingUpdate'],
      }),
    }),
    [`${APPS}RollingUpdateDeployment`]: obj('Rolling update parameters.', {
      maxSurge: intOrString(
        'Pods allowed above the desired count during the update (number or percentage); 25% by default.',
      ),
      maxUnavailable: intOrString(
        'Pods that may be unavailable during the update (number or percentage); 25% by default.',
      ),
    }),
    [`${APPS}DeploymentStatus`]: obj('Observed state of a deployment.', {
      availableReplicas: int('Pods available for at least minReadySeconds.'),
      collisionCount: int('Hash collisions seen while naming replica sets.'),
      conditions: conds('DeploymentCondition'),
      observedGeneration: int64('The generation the controller last acted on.'),
      readyReplicas: int('Pods with a Ready condition.'),
      replicas: int('Pods targeted by the deployment.'),
      unavailableReplicas: int('Pods still needed for 100% availability.'),
      updatedReplicas: int('Pods running the current template.'),
    }),
    [`${APPS}DeploymentCondition`]: workloadCondition('deployment'),
    ...appsKind('ReplicaSet', 'Keeps a number of identical pods running.', {
      spec: a('ReplicaSetSpec', 'The desired behaviour of the replica set.', { default: {} }),
      status: a('ReplicaSetStatus', 'The most recently observed state of the replica set.', { default: {} }),
    }),
    [`${APPS}ReplicaSetSpec`]: obj(
      'The desired behaviour of a replica set.',
      {
        minReadySeconds: int('Seconds a new pod must be ready to count as available.'),
        replicas: int('Desired number of pods; 1 by default.'),
        selector,
        template: template('The pods to create when too few exist.'),
      },
      { required: ['selector'] },
    ),
    [`${APPS}ReplicaSetStatus`]: obj(
      'Observed state of a replica set.',
      {
        availableReplicas: int('Available pods.'),
        conditions: conds('ReplicaSetCondition'),
        fullyLabeledReplicas: int('Pods whose labels match the template labels.'),
        observedGeneration: int64('The generation the controller last acted on.'),
        readyReplicas: int('Ready pods.'),
        replicas: int('Most recently observed number of pods.'),
      },
      { required: ['replicas'] },
    ),
    [`${APPS}ReplicaSetCondition`]: workloadCondition('replica set'),
    ...appsKind('StatefulSet', 'Pods with stable identities and storage, created and updated in order.', {
      spec: a('StatefulSetSpec', 'The desired behaviour of the stateful set.', { default: {} }),
      status: a('StatefulSetStatus', 'The most recently observed state of the stateful set.', {
        default: {},
      }),
    }),
    [`${APPS}StatefulSetSpec`]: obj(
      'The desired behaviour of a stateful set.',
      {
        minReadySeconds: int('Seconds a new pod must be ready to count as available.'),
        ordinals: a('StatefulSetOrdinals', 'The numbering of replicas.'),
        persistentVolumeClaimRetentionPolicy: a(
          'StatefulSetPersistentVolumeClaimRetentionPolicy',
          'What happens to claims from volumeClaimTemplates on deletion and scale-down.',
        ),
        podManagementPolicy: str('OrderedReady or Parallel; OrderedReady by default.', {
          enum: ['OrderedReady', 'Parallel'],
        }),
        replicas: int('Desired number of pods; 1 by default.'),
        revisionHistoryLimit: int('Revisions kept in history; 10 by default.'),
        selector,
        serviceName: str('The governing headless service that gives the pods their DNS names.'),
        template: template('The pods to create; each gets a unique identity.'),
        updateStrategy: a('StatefulSetUpdateStrategy', 'How pods are updated.', { default: {} }),
        volumeClaimTemplates: arr(ref(`${CORE}PersistentVolumeClaim`), 'Claims each pod gets, by name.', {
          listType: 'atomic',
        }),
      },
      { required: ['selector', 'template'] },
    ),
    [`${APPS}StatefulSetOrdinals`]: obj('Replica numbering.', {
      start: int('The first ordinal; 0 by default.'),
    }),
    [`${APPS}StatefulSetPersistentVolumeClaimRetentionPolicy`]: obj('Claim retention.', {
      whenDeleted: str('Retain or Delete, when the stateful set is deleted.'),
      whenScaled: str('Retain or Delete, when it is scaled down.'),
    }),
    [`${APPS}StatefulSetUpdateStrategy`]: obj('How a stateful set updates pods.', {
      rollingUpdate: a('RollingUpdateStatefulSetStrategy', 'Rolling update parameters.'),
      type: str('RollingUpdate or OnDelete; RollingUpdate by default.', {
        enum: ['OnDelete', 'RollingUpdate'],
      }),
    }),
    [`${APPS}RollingUpdateStatefulSetStrategy`]: obj('Rolling update parameters.', {
      maxUnavailable: intOrString('Pods that may be unavailable during the update.'),
      partition: int('Only ordinals at or above this are updated; 0 by default.'),
    }),
    [`${APPS}StatefulSetStatus`]: obj(
      'Observed state of a stateful set.',
      {
        availableReplicas: int('Available pods.'),
        collisionCount: int('Hash collisions seen.'),
        conditions: conds('StatefulSetCondition'),
        currentReplicas: int('Pods at currentRevision.'),
        currentRevision: str('Revision used for pods below the partition.'),
        observedGeneration: int64('The generation the controller last acted on.'),
        readyReplicas: int('Ready pods.'),
        replicas: int('Pods created.'),
        updateRevision: str('Revision used for pods being updated.'),
        updatedReplicas: int('Pods at updateRevision.'),
      },
      { required: ['replicas'] },
    ),
    [`${APPS}StatefulSetCondition`]: workloadCondition('stateful set'),
    ...appsKind('DaemonSet', 'Runs one copy of a pod on each eligible node.', {
      spec: a('DaemonSetSpec', 'The desired behaviour of the daemon set.', { default: {} }),
      status: a('DaemonSetStatus', 'The most recently observed state of the daemon set.', { default: {} }),
    }),
    [`${APPS}DaemonSetSpec`]: obj(
      'The desired behaviour of a daemon set.',
      {
        minReadySeconds: int('Seconds a new pod must be ready to count as available.'),
        revisionHistoryLimit: int('Revisions kept in history; 10 by default.'),
        selector,
        template: template('The pod to run on each node.'),
        updateStrategy: a('DaemonSetUpdateStrategy', 'How pods are replaced.', { default: {} }),
      },
      { required: ['selector', 'template'] },
    ),
    [`${APPS}DaemonSetUpdateStrategy`]: obj('How a daemon set updates pods.', {
      rollingUpdate: a('RollingUpdateDaemonSet', 'Rolling update parameters.'),
      type: str('RollingUpdate or OnDelete; RollingUpdate by default.', {
        enum: ['OnDelete', 'RollingUpdate'],
      }),
    }),
    [`${APPS}RollingUpdateDaemonSet`]: obj('Rolling update parameters.', {
      maxSurge: intOrString('Nodes that may run an extra new pod during the update; 0 by default.'),
      maxUnavailable: intOrString('Nodes whose pod may be unavailable during the update; 1 by default.'),
    }),
    [`${APPS}DaemonSetStatus`]: obj(
      'Observed state of a daemon set.',
      {
        collisionCount: int('Hash collisions seen.'),
        conditions: conds('DaemonSetCondition'),
        currentNumberScheduled: int('Nodes running the pod that should.'),
        desiredNumberScheduled: int('Nodes that should run the pod.'),
        numberAvailable: int('Nodes whose pod is available.'),
        numberMisscheduled: int('Nodes running the pod that should not.'),
        numberReady: int('Nodes whose pod is ready.'),
        numberUnavailable: int('Nodes whose pod is not available.'),
        observedGeneration: int64('The generation the controller last acted on.'),
        updatedNumberScheduled: int('Nodes running the updated pod.'),
      },
      { required: ['currentNumberScheduled', 'numberMisscheduled', 'desiredNumberScheduled', 'numberReady'] },
    ),
    [`${APPS}DaemonSetCondition`]: workloadCondition('daemon set'),
    ...appsKind('ControllerRevision', 'An immutable snapshot of state, used by controllers for rollback.', {
      data: ref(RAW_EXTENSION, 'The serialized state.'),
      revision: int64('The revision number.'),
    }),
    // Used by the scale subresource.
    'io.k8s.api.autoscaling.v1.Scale': kind(
      { group: 'autoscaling', version: 'v1', kind: 'Scale' },
      'The scale subresource of a workload.',
      {
        spec: ref('io.k8s.api.autoscaling.v1.ScaleSpec', 'The desired scale.', { default: {} }),
        status: ref('io.k8s.api.autoscaling.v1.ScaleStatus', 'The current scale.', { default: {} }),
      },
    ),
    'io.k8s.api.autoscaling.v1.ScaleSpec': obj('Desired scale.', {
      replicas: int('Desired number of instances.'),
    }),
    'io.k8s.api.autoscaling.v1.ScaleStatus': obj(
      'Current scale.',
      {
        replicas: int('Observed number of instances.'),
        selector: str('Label query over the pods, in the string form of a selector.'),
      },
      { required: ['replicas'] },
    ),
  };
}
