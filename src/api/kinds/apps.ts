/** apps/v1: Deployment, ReplicaSet, StatefulSet, DaemonSet, ControllerRevision. */

import { child, defaultPodTemplate, dflt } from '../defaults/pod.ts';
import type { StatusCause } from '../errors.ts';
import {
  ageColumn,
  col,
  containersAndImages,
  formatLabels,
  nameColumn,
  podTemplateCells,
  podTemplateColumns,
  since,
} from '../printers/format.ts';
import type { KubeObject } from '../resource.ts';
import { immutable, invalid, notSupported, required } from '../validation/causes.ts';
import { defineKind, field } from './define.ts';
import {
  immutableSelector,
  intOrPercent,
  scaledValue,
  validateReplicas,
  validateSelectorAndTemplate,
} from './workload.ts';

type Json = Record<string, any>;

const spec = (o: KubeObject) => (o.spec ?? {}) as Json;
const status = (o: KubeObject) => (o.status ?? {}) as Json;
const n = (v: unknown) => (typeof v === 'number' ? v : 0);

const wideCells = (o: KubeObject) => podTemplateCells(spec(o).template, spec(o).selector);

const scale = {
  specReplicasPath: 'spec.replicas',
  statusReplicasPath: 'status.replicas',
  labelSelectorPath: 'status.selector',
};

export const deployment = defineKind({
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  plural: 'deployments',
  namespaced: true,
  shortNames: ['deploy'],
  categories: ['all'],
  status: true,
  scale,
  tracksGeneration: true,
  defaults(obj) {
    const s = child(obj, 'spec');
    dflt(s, 'replicas', 1);
    s.strategy ??= {};
    dflt(s.strategy, 'type', 'RollingUpdate');
    if (s.strategy.type === 'RollingUpdate') {
      s.strategy.rollingUpdate ??= {};
      dflt(s.strategy.rollingUpdate, 'maxUnavailable', '25%');
      dflt(s.strategy.rollingUpdate, 'maxSurge', '25%');
    }
    dflt(s, 'revisionHistoryLimit', 10);
    dflt(s, 'progressDeadlineSeconds', 600);
    defaultPodTemplate(s.template);
  },
  validate(obj) {
    const s = spec(obj);
    const causes: StatusCause[] = [
      ...validateReplicas(s),
      ...validateSelectorAndTemplate(s, { kind: 'deployment', restartAlways: true }),
    ];
    const strategy = s.strategy ?? {};
    if (strategy.type && !['Recreate', 'RollingUpdate'].includes(strategy.type)) {
      causes.push(notSupported('spec.strategy.type', strategy.type, ['Recreate', 'RollingUpdate']));
    }
    if (strategy.type === 'Recreate' && strategy.rollingUpdate) {
      causes.push({
        reason: 'FieldValueForbidden',
        field: 'spec.strategy.rollingUpdate',
        message: "Forbidden: may not be specified when strategy `type` is 'Recreate'",
      });
    }
    const ru = strategy.rollingUpdate;
    if (ru) {
      causes.push(...intOrPercent('spec.strategy.rollingUpdate.maxUnavailable', ru.maxUnavailable));
      causes.push(...intOrPercent('spec.strategy.rollingUpdate.maxSurge', ru.maxSurge));
      if (scaledValue(ru.maxUnavailable, 100, false) === 0 && scaledValue(ru.maxSurge, 100, true) === 0) {
        causes.push(
          invalid(
            'spec.strategy.rollingUpdate.maxUnavailable',
            ru.maxUnavailable,
            'may not be 0 when `maxSurge` is 0',
          ),
        );
      }
    }
    if (
      typeof s.progressDeadlineSeconds === 'number' &&
      typeof s.minReadySeconds === 'number' &&
      s.progressDeadlineSeconds <= s.minReadySeconds
    ) {
      causes.push(
        invalid(
          'spec.progressDeadlineSeconds',
          s.progressDeadlineSeconds,
          'must be greater than minReadySeconds',
        ),
      );
    }
    return causes;
  },
  validateUpdate: (obj, old) => immutableSelector(spec(obj), spec(old)),
  table: {
    columns: [
      nameColumn,
      col('Ready', 'string', 'Number of the pods that are ready, of the desired.'),
      col('Up-to-date', 'integer', 'Total number of pods running the current template.'),
      col('Available', 'integer', 'Total number of available pods (ready for at least minReadySeconds).'),
      ageColumn,
      ...podTemplateColumns,
    ],
    row: (o, now) => [
      o.metadata?.name,
      `${n(status(o).readyReplicas)}/${n(spec(o).replicas)}`,
      n(status(o).updatedReplicas),
      n(status(o).availableReplicas),
      since(o.metadata?.creationTimestamp, now),
      ...wideCells(o),
    ],
  },
});

export const replicaSet = defineKind({
  group: 'apps',
  version: 'v1',
  kind: 'ReplicaSet',
  plural: 'replicasets',
  namespaced: true,
  shortNames: ['rs'],
  categories: ['all'],
  status: true,
  scale,
  tracksGeneration: true,
  selectableFields: { 'status.replicas': field('status.replicas', '0') },
  defaults(obj) {
    const s = child(obj, 'spec');
    dflt(s, 'replicas', 1);
    defaultPodTemplate(s.template);
  },
  validate: (obj) => [
    ...validateReplicas(spec(obj)),
    ...validateSelectorAndTemplate(spec(obj), { kind: 'deployment', restartAlways: true }),
  ],
  validateUpdate: (obj, old) => immutableSelector(spec(obj), spec(old)),
  table: {
    columns: [
      nameColumn,
      col('Desired', 'integer', 'Number of desired pods.'),
      col('Current', 'integer', 'Number of actual pods.'),
      col('Ready', 'integer', 'Number of ready pods.'),
      ageColumn,
      ...podTemplateColumns,
    ],
    row: (o, now) => [
      o.metadata?.name,
      n(spec(o).replicas),
      n(status(o).replicas),
      n(status(o).readyReplicas),
      since(o.metadata?.creationTimestamp, now),
      ...wideCells(o),
    ],
  },
});

export const statefulSet = defineKind({
  group: 'apps',
  version: 'v1',
  kind: 'StatefulSet',
  plural: 'statefulsets',
  namespaced: true,
  shortNames: ['sts'],
  categories: ['all'],
  status: true,
  scale,
  tracksGeneration: true,
  defaults(obj) {
    const s = child(obj, 'spec');
    dflt(s, 'replicas', 1);
    dflt(s, 'podManagementPolicy', 'OrderedReady');
    s.updateStrategy ??= {};
    dflt(s.updateStrategy, 'type', 'RollingUpdate');
    if (s.updateStrategy.type === 'RollingUpdate') {
      s.updateStrategy.rollingUpdate ??= {};
      dflt(s.updateStrategy.rollingUpdate, 'partition', 0);
    }
    s.persistentVolumeClaimRetentionPolicy ??= {};
    dflt(s.persistentVolumeClaimRetentionPolicy, 'whenDeleted', 'Retain');
    dflt(s.persistentVolumeClaimRetentionPolicy, 'whenScaled', 'Retain');
    dflt(s, 'revisionHistoryLimit', 10);
    defaultPodTemplate(s.template);
    for (const claim of s.volumeClaimTemplates ?? []) {
      claim.spec ??= {};
      dflt(claim.spec, 'volumeMode', 'Filesystem');
      claim.status ??= {};
      dflt(claim.status, 'phase', 'Pending');
    }
  },
  validate(obj) {
    const s = spec(obj);
    const causes = [
      ...validateReplicas(s),
      ...validateSelectorAndTemplate(s, { kind: 'statefulset', restartAlways: true }),
    ];
    if (s.podManagementPolicy && !['OrderedReady', 'Parallel'].includes(s.podManagementPolicy)) {
      causes.push(
        invalid('spec.podManagementPolicy', s.podManagementPolicy, "must be 'OrderedReady' or 'Parallel'"),
      );
    }
    const t = s.updateStrategy?.type;
    if (t && !['RollingUpdate', 'OnDelete'].includes(t)) {
      causes.push(notSupported('spec.updateStrategy.type', t, ['OnDelete', 'RollingUpdate']));
    }
    const partition = s.updateStrategy?.rollingUpdate?.partition;
    if (typeof partition === 'number' && partition < 0) {
      causes.push(
        invalid(
          'spec.updateStrategy.rollingUpdate.partition',
          partition,
          'must be greater than or equal to 0',
        ),
      );
    }
    return causes;
  },
  validateUpdate(obj, old) {
    // Only replicas, ordinals, template, updateStrategy, retention policy and minReadySeconds may change.
    const a = { ...spec(obj) };
    const b = { ...spec(old) };
    for (const k of [
      'replicas',
      'ordinals',
      'template',
      'updateStrategy',
      'persistentVolumeClaimRetentionPolicy',
      'minReadySeconds',
      'revisionHistoryLimit',
    ]) {
      delete a[k];
      delete b[k];
    }
    if (immutable('spec', a, b).length) {
      return [
        {
          reason: 'FieldValueForbidden',
          field: 'spec',
          message:
            "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        },
      ];
    }
    return [];
  },
  table: {
    columns: [
      nameColumn,
      col('Ready', 'string', 'Number of the pods that are ready, of the desired.'),
      ageColumn,
      col('Containers', 'string', 'Names of each container in the template.', 1),
      col('Images', 'string', 'Images referenced by each container in the template.', 1),
    ],
    row: (o, now) => [
      o.metadata?.name,
      `${n(status(o).readyReplicas)}/${n(spec(o).replicas)}`,
      since(o.metadata?.creationTimestamp, now),
      ...containersAndImages(spec(o).template),
    ],
  },
});

export const daemonSet = defineKind({
  group: 'apps',
  version: 'v1',
  kind: 'DaemonSet',
  plural: 'daemonsets',
  namespaced: true,
  shortNames: ['ds'],
  categories: ['all'],
  status: true,
  tracksGeneration: true,
  defaults(obj) {
    const s = child(obj, 'spec');
    s.updateStrategy ??= {};
    dflt(s.updateStrategy, 'type', 'RollingUpdate');
    if (s.updateStrategy.type === 'RollingUpdate') {
      s.updateStrategy.rollingUpdate ??= {};
      dflt(s.updateStrategy.rollingUpdate, 'maxUnavailable', 1);
      dflt(s.updateStrategy.rollingUpdate, 'maxSurge', 0);
    }
    dflt(s, 'revisionHistoryLimit', 10);
    defaultPodTemplate(s.template);
  },
  validate(obj) {
    const s = spec(obj);
    const causes = [
      ...validateSelectorAndTemplate(s, { kind: 'daemonset', restartAlways: true }),
      ...validateReplicas({ minReadySeconds: s.minReadySeconds }),
    ];
    const t = s.updateStrategy?.type;
    if (t && !['RollingUpdate', 'OnDelete'].includes(t)) {
      causes.push(notSupported('spec.updateStrategy.type', t, ['OnDelete', 'RollingUpdate']));
    }
    const ru = s.updateStrategy?.rollingUpdate;
    if (ru) {
      causes.push(...intOrPercent('spec.updateStrategy.rollingUpdate.maxUnavailable', ru.maxUnavailable));
      causes.push(...intOrPercent('spec.updateStrategy.rollingUpdate.maxSurge', ru.maxSurge));
    }
    return causes;
  },
  validateUpdate: (obj, old) => immutableSelector(spec(obj), spec(old)),
  table: {
    columns: [
      nameColumn,
      col('Desired', 'integer', 'The number of nodes that should run the daemon pod.'),
      col('Current', 'integer', 'The number of nodes running at least one daemon pod.'),
      col('Ready', 'integer', 'The number of nodes whose daemon pod is ready.'),
      col('Up-to-date', 'integer', 'The number of nodes running the updated daemon pod.'),
      col('Available', 'integer', 'The number of nodes whose daemon pod is available.'),
      col('Node Selector', 'string', 'The node selector of the pod template.'),
      ageColumn,
      ...podTemplateColumns,
    ],
    row: (o, now) => [
      o.metadata?.name,
      n(status(o).desiredNumberScheduled),
      n(status(o).currentNumberScheduled),
      n(status(o).numberReady),
      n(status(o).updatedNumberScheduled),
      n(status(o).numberAvailable),
      formatLabels(spec(o).template?.spec?.nodeSelector),
      since(o.metadata?.creationTimestamp, now),
      ...wideCells(o),
    ],
  },
});

export const controllerRevision = defineKind({
  group: 'apps',
  version: 'v1',
  kind: 'ControllerRevision',
  plural: 'controllerrevisions',
  namespaced: true,
  validate: (obj) =>
    typeof obj.revision === 'number' && obj.revision < 0
      ? [invalid('revision', obj.revision, 'must be greater than or equal to 0')]
      : obj.revision === undefined
        ? [required('revision')]
        : [],
  validateUpdate: (obj, old) => immutable('data', obj.data, old.data),
  table: {
    columns: [
      nameColumn,
      col('Controller', 'string', 'The controller that owns this revision.'),
      col('Revision', 'integer', 'The revision number.'),
      ageColumn,
    ],
    row(o, now) {
      const owner = (o.metadata?.ownerReferences ?? []).find((r) => r.controller);
      let controller = '<none>';
      if (owner) {
        const group = owner.apiVersion.includes('/') ? owner.apiVersion.split('/')[0] : '';
        controller = `${owner.kind.toLowerCase()}${group ? `.${group}` : ''}/${owner.name}`;
      }
      return [o.metadata?.name, controller, o.revision ?? 0, since(o.metadata?.creationTimestamp, now)];
    },
  },
});
