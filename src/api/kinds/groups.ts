/**
 * The smaller groups: events.k8s.io Event, coordination Lease, discovery EndpointSlice,
 * storage StorageClass, scheduling PriorityClass, policy PodDisruptionBudget, RBAC and CRDs.
 */

import { child, dflt } from '../defaults/pod.ts';
import type { StatusCause } from '../errors.ts';
import { ageColumn, col, createdAtColumn, dateCell, nameColumn, since } from '../printers/format.ts';
import type { KubeObject } from '../resource.ts';
import { forbidden, immutable, invalid, nonNegative, required } from '../validation/causes.ts';
import { oneOf, validateLabelSelector } from '../validation/meta.ts';
import { isDNS1035Label, isDNS1123Subdomain, isPathSegmentName } from '../validation/names.ts';
import { eventCells, eventColumns } from './cluster.ts';
import { defineKind, field } from './define.ts';
import { intOrPercent } from './workload.ts';

type Json = Record<string, any>;

const createdAtTable = {
  columns: [nameColumn, createdAtColumn],
  row: (o: KubeObject) => [o.metadata?.name, dateCell(o.metadata?.creationTimestamp)],
};

export const eventsV1Event = defineKind({
  group: 'events.k8s.io',
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  namespaced: true,
  shortNames: ['ev'],
  selectableFields: {
    'regarding.kind': field('regarding.kind'),
    'regarding.namespace': field('regarding.namespace'),
    'regarding.name': field('regarding.name'),
    'regarding.uid': field('regarding.uid'),
    reason: field('reason'),
    reportingController: field('reportingController'),
    type: field('type'),
  },
  validate(obj) {
    const causes: StatusCause[] = [];
    if (!obj.eventTime) causes.push(required('eventTime'));
    if (!obj.reportingController) causes.push(required('reportingController'));
    if (!obj.reportingInstance) causes.push(required('reportingInstance'));
    if (!obj.action) causes.push(required('action'));
    if (!obj.reason) causes.push(required('reason'));
    causes.push(...oneOf('type', obj.type, ['Normal', 'Warning']));
    if (!obj.type) causes.push(required('type'));
    if (typeof obj.note === 'string' && obj.note.length > 1024) {
      causes.push({
        reason: 'FieldValueTooLong',
        field: 'note',
        message: 'Too long: may not be more than 1024 bytes',
      });
    }
    return causes;
  },
  table: {
    columns: eventColumns,
    row(o, now) {
      const e = o as Json;
      // Print through the core/v1 shape, as the API server converts.
      return eventCells(
        {
          metadata: e.metadata,
          type: e.type,
          reason: e.reason,
          message: e.note,
          involvedObject: e.regarding,
          eventTime: e.eventTime,
          firstTimestamp: e.deprecatedFirstTimestamp,
          lastTimestamp: e.deprecatedLastTimestamp,
          count: e.deprecatedCount,
          series: e.series,
          source: e.deprecatedSource,
          reportingComponent: e.reportingController,
        },
        now,
      );
    },
  },
});

export const lease = defineKind({
  group: 'coordination.k8s.io',
  version: 'v1',
  kind: 'Lease',
  plural: 'leases',
  namespaced: true,
  validate(obj) {
    const s = (obj.spec ?? {}) as Json;
    const causes: StatusCause[] = [];
    if (typeof s.leaseDurationSeconds === 'number' && s.leaseDurationSeconds <= 0) {
      causes.push(invalid('spec.leaseDurationSeconds', s.leaseDurationSeconds, 'must be greater than 0'));
    }
    causes.push(...nonNegative('spec.leaseTransitions', s.leaseTransitions));
    return causes;
  },
  table: {
    columns: [nameColumn, col('Holder', 'string', 'The current holder of the lease.'), ageColumn],
    row: (o, now) => [
      o.metadata?.name,
      (o.spec as Json)?.holderIdentity ?? '',
      since(o.metadata?.creationTimestamp, now),
    ],
  },
});

function firstThree(items: string[], empty: string): string {
  if (items.length === 0) return empty;
  const head = items.slice(0, 3).join(',');
  return items.length > 3 ? `${head} + ${items.length - 3} more...` : head;
}

export const endpointSlice = defineKind({
  group: 'discovery.k8s.io',
  version: 'v1',
  kind: 'EndpointSlice',
  plural: 'endpointslices',
  namespaced: true,
  defaults(obj) {
    for (const p of (obj.ports as Json[]) ?? []) {
      dflt(p, 'protocol', 'TCP');
      dflt(p, 'name', '');
    }
  },
  validate(obj) {
    const causes: StatusCause[] = [];
    if (!obj.addressType) causes.push(required('addressType'));
    else causes.push(...oneOf('addressType', obj.addressType, ['IPv4', 'IPv6', 'FQDN']));
    const eps = (obj.endpoints as Json[]) ?? [];
    if (eps.length > 1000)
      causes.push({
        reason: 'FieldValueTooMany',
        field: 'endpoints',
        message: `Too many: ${eps.length}: must have at most 1000 items`,
      });
    eps.forEach((e, i) => {
      if (!e.addresses?.length)
        causes.push(required(`endpoints[${i}].addresses`, 'must contain at least 1 address'));
    });
    return causes;
  },
  validateUpdate: (obj, old) => immutable('addressType', obj.addressType, old.addressType),
  table: {
    columns: [
      nameColumn,
      col('AddressType', 'string', 'The type of the addresses.'),
      col('Ports', 'string', 'The ports of the endpoints.'),
      col('Endpoints', 'string', 'The addresses of the endpoints.'),
      ageColumn,
    ],
    row(o, now) {
      const ports = ((o.ports as Json[]) ?? []).map((p) => String(p.port ?? ''));
      const addrs = ((o.endpoints as Json[]) ?? []).flatMap((e) => e.addresses ?? []);
      return [
        o.metadata?.name,
        o.addressType ?? '',
        firstThree(ports, '<unset>'),
        firstThree(addrs, '<unset>'),
        since(o.metadata?.creationTimestamp, now),
      ];
    },
  },
});

const DEFAULT_CLASS = 'storageclass.kubernetes.io/is-default-class';

export const storageClass = defineKind({
  group: 'storage.k8s.io',
  version: 'v1',
  kind: 'StorageClass',
  plural: 'storageclasses',
  namespaced: false,
  shortNames: ['sc'],
  defaults(obj) {
    dflt(obj, 'reclaimPolicy', 'Delete');
    dflt(obj, 'volumeBindingMode', 'Immediate');
  },
  validate(obj) {
    const causes: StatusCause[] = [];
    if (!obj.provisioner) causes.push(required('provisioner'));
    else
      for (const m of isDNS1123Subdomain(String(obj.provisioner).toLowerCase()))
        causes.push(invalid('provisioner', obj.provisioner, m));
    causes.push(...oneOf('reclaimPolicy', obj.reclaimPolicy, ['Delete', 'Retain']));
    causes.push(...oneOf('volumeBindingMode', obj.volumeBindingMode, ['Immediate', 'WaitForFirstConsumer']));
    return causes;
  },
  validateUpdate: (obj, old) => [
    ...immutable('parameters', obj.parameters, old.parameters),
    ...immutable('provisioner', obj.provisioner, old.provisioner),
    ...immutable('reclaimPolicy', obj.reclaimPolicy, old.reclaimPolicy),
    ...immutable('volumeBindingMode', obj.volumeBindingMode, old.volumeBindingMode),
  ],
  table: {
    columns: [
      nameColumn,
      col('Provisioner', 'string', 'The provisioner of volumes of this class.'),
      col('ReclaimPolicy', 'string', 'What happens to volumes when released.'),
      col('VolumeBindingMode', 'string', 'When volumes are bound and provisioned.'),
      col('AllowVolumeExpansion', 'string', 'Whether claims may grow.'),
      ageColumn,
    ],
    row(o, now) {
      const a = o.metadata?.annotations ?? {};
      const isDefault =
        a[DEFAULT_CLASS] === 'true' || a['storageclass.beta.kubernetes.io/is-default-class'] === 'true';
      return [
        isDefault ? `${o.metadata?.name} (default)` : o.metadata?.name,
        o.provisioner ?? '',
        o.reclaimPolicy ?? 'Delete',
        o.volumeBindingMode ?? 'Immediate',
        o.allowVolumeExpansion === true,
        since(o.metadata?.creationTimestamp, now),
      ];
    },
  },
});

export const priorityClass = defineKind({
  group: 'scheduling.k8s.io',
  version: 'v1',
  kind: 'PriorityClass',
  plural: 'priorityclasses',
  namespaced: false,
  shortNames: ['pc'],
  defaults: (obj) => dflt(obj, 'preemptionPolicy', 'PreemptLowerPriority'),
  validate(obj) {
    const causes: StatusCause[] = [];
    const name = obj.metadata?.name ?? '';
    if (name.startsWith('system-') && !['system-node-critical', 'system-cluster-critical'].includes(name)) {
      causes.push(forbidden('metadata.name', "priority class names with 'system-' prefix are reserved"));
    }
    if (typeof obj.value !== 'number') causes.push(required('value'));
    else if (obj.value > 1_000_000_000 && !name.startsWith('system-')) {
      causes.push(forbidden('value', 'maximum allowed value of a user defined priority is 1000000000'));
    }
    causes.push(...oneOf('preemptionPolicy', obj.preemptionPolicy, ['Never', 'PreemptLowerPriority']));
    return causes;
  },
  validateUpdate: (obj, old) => [
    ...immutable('value', obj.value, old.value),
    ...immutable('preemptionPolicy', obj.preemptionPolicy, old.preemptionPolicy),
  ],
  table: {
    columns: [
      nameColumn,
      col('Value', 'integer', 'The priority value.'),
      col('Global-Default', 'boolean', 'Whether this is the default priority class.'),
      ageColumn,
      col('PreemptionPolicy', 'string', 'Whether pods of this class preempt others.'),
    ],
    row: (o, now) => [
      o.metadata?.name,
      o.value ?? 0,
      o.globalDefault === true,
      since(o.metadata?.creationTimestamp, now),
      o.preemptionPolicy ?? '',
    ],
  },
});

export const podDisruptionBudget = defineKind({
  group: 'policy',
  version: 'v1',
  kind: 'PodDisruptionBudget',
  plural: 'poddisruptionbudgets',
  namespaced: true,
  shortNames: ['pdb'],
  status: true,
  tracksGeneration: true,
  validate(obj) {
    const s = (obj.spec ?? {}) as Json;
    const causes: StatusCause[] = [];
    if (s.minAvailable !== undefined && s.maxUnavailable !== undefined) {
      causes.push(invalid('spec', s, 'minAvailable and maxUnavailable cannot be both set'));
    }
    causes.push(...intOrPercent('spec.minAvailable', s.minAvailable));
    causes.push(...intOrPercent('spec.maxUnavailable', s.maxUnavailable));
    causes.push(...validateLabelSelector(s.selector, 'spec.selector'));
    causes.push(
      ...oneOf('spec.unhealthyPodEvictionPolicy', s.unhealthyPodEvictionPolicy, [
        'IfHealthyBudget',
        'AlwaysAllow',
      ]),
    );
    return causes;
  },
  table: {
    columns: [
      nameColumn,
      col('Min Available', 'string', 'The minimum number of pods that must be available.'),
      col('Max Unavailable', 'string', 'The maximum number of pods that may be unavailable.'),
      col('Allowed Disruptions', 'integer', 'The number of evictions allowed now.'),
      ageColumn,
    ],
    row(o, now) {
      const s = (o.spec ?? {}) as Json;
      return [
        o.metadata?.name,
        s.minAvailable !== undefined ? String(s.minAvailable) : 'N/A',
        s.maxUnavailable !== undefined ? String(s.maxUnavailable) : 'N/A',
        (o.status as Json)?.disruptionsAllowed ?? 0,
        since(o.metadata?.creationTimestamp, now),
      ];
    },
  },
});

const RBAC = 'rbac.authorization.k8s.io';

function validateRules(obj: KubeObject): StatusCause[] {
  const causes: StatusCause[] = [];
  ((obj.rules as Json[]) ?? []).forEach((r, i) => {
    const p = `rules[${i}]`;
    if (!r.verbs?.length) causes.push(required(`${p}.verbs`, 'verbs must contain at least one value'));
    if (r.nonResourceURLs?.length) {
      if (obj.metadata?.namespace || obj.kind === 'Role') {
        causes.push(
          invalid(
            `${p}.nonResourceURLs`,
            r.nonResourceURLs,
            'namespaced rules cannot apply to non-resource URLs',
          ),
        );
      }
      if (r.apiGroups?.length || r.resources?.length || r.resourceNames?.length) {
        causes.push(
          invalid(
            `${p}.nonResourceURLs`,
            r.nonResourceURLs,
            'rules cannot apply to both regular resources and non-resource URLs',
          ),
        );
      }
    } else {
      if (!r.apiGroups?.length) {
        causes.push(required(`${p}.apiGroups`, 'resource rules must supply at least one api group'));
      }
      if (!r.resources?.length)
        causes.push(required(`${p}.resources`, 'resource rules must supply at least one resource'));
    }
  });
  return causes;
}

function defaultBinding(obj: KubeObject): void {
  const ref = child(obj, 'roleRef');
  dflt(ref, 'apiGroup', RBAC);
  for (const s of (obj.subjects as Json[]) ?? []) {
    if (s.kind === 'User' || s.kind === 'Group') dflt(s, 'apiGroup', RBAC);
    if (s.kind === 'ServiceAccount') dflt(s, 'apiGroup', '');
  }
}

function validateBinding(obj: KubeObject, cluster: boolean): StatusCause[] {
  const ref = (obj.roleRef ?? {}) as Json;
  const causes: StatusCause[] = [];
  if (ref.apiGroup !== RBAC)
    causes.push(invalid('roleRef.apiGroup', ref.apiGroup ?? '', `supported values: "${RBAC}"`));
  const kinds = cluster ? ['ClusterRole'] : ['Role', 'ClusterRole'];
  if (!kinds.includes(ref.kind))
    causes.push({
      reason: 'FieldValueNotSupported',
      field: 'roleRef.kind',
      message: `Unsupported value: ${JSON.stringify(ref.kind ?? '')}: supported values: ${kinds.map((k) => `"${k}"`).join(', ')}`,
    });
  if (!ref.name) causes.push(required('roleRef.name'));
  else for (const m of isPathSegmentName(ref.name)) causes.push(invalid('roleRef.name', ref.name, m));
  ((obj.subjects as Json[]) ?? []).forEach((s, i) => {
    const p = `subjects[${i}]`;
    if (!s.name) causes.push(required(`${p}.name`));
    causes.push(...oneOf(`${p}.kind`, s.kind, ['ServiceAccount', 'User', 'Group']));
    if (s.kind === 'ServiceAccount' && cluster && !s.namespace) causes.push(required(`${p}.namespace`));
  });
  return causes;
}

function bindingTable() {
  return {
    columns: [
      nameColumn,
      col('Role', 'string', 'The role the binding grants.'),
      ageColumn,
      col('Users', 'string', 'The users the role is granted to.', 1),
      col('Groups', 'string', 'The groups the role is granted to.', 1),
      col('ServiceAccounts', 'string', 'The service accounts the role is granted to.', 1),
    ],
    row(o: KubeObject, now: Date) {
      const subjects = (o.subjects as Json[]) ?? [];
      const ref = (o.roleRef ?? {}) as Json;
      const of = (k: string) => subjects.filter((s) => s.kind === k);
      return [
        o.metadata?.name,
        `${ref.kind}/${ref.name}`,
        since(o.metadata?.creationTimestamp, now),
        of('User')
          .map((s) => s.name)
          .join(', '),
        of('Group')
          .map((s) => s.name)
          .join(', '),
        of('ServiceAccount')
          .map((s) => `${s.namespace ?? ''}/${s.name}`)
          .join(', '),
      ];
    },
  };
}

const rbacKind = (kind: string, plural: string, namespaced: boolean) => ({
  group: RBAC,
  version: 'v1',
  kind,
  plural,
  namespaced,
  name: isPathSegmentName,
});

export const role = defineKind({
  ...rbacKind('Role', 'roles', true),
  validate: validateRules,
  table: createdAtTable,
});
export const clusterRole = defineKind({
  ...rbacKind('ClusterRole', 'clusterroles', false),
  validate: validateRules,
  table: createdAtTable,
});
export const roleBinding = defineKind({
  ...rbacKind('RoleBinding', 'rolebindings', true),
  defaults: defaultBinding,
  validate: (o) => validateBinding(o, false),
  validateUpdate: (o, old) =>
    immutable('roleRef', o.roleRef, old.roleRef).map((c) => ({
      ...c,
      message: `Invalid value: ${JSON.stringify(o.roleRef)}: cannot change roleRef`,
    })),
  table: bindingTable(),
});
export const clusterRoleBinding = defineKind({
  ...rbacKind('ClusterRoleBinding', 'clusterrolebindings', false),
  defaults: defaultBinding,
  validate: (o) => validateBinding(o, true),
  validateUpdate: (o, old) =>
    immutable('roleRef', o.roleRef, old.roleRef).map((c) => ({
      ...c,
      message: `Invalid value: ${JSON.stringify(o.roleRef)}: cannot change roleRef`,
    })),
  table: bindingTable(),
});

export const customResourceDefinition = defineKind({
  group: 'apiextensions.k8s.io',
  version: 'v1',
  kind: 'CustomResourceDefinition',
  plural: 'customresourcedefinitions',
  namespaced: false,
  shortNames: ['crd', 'crds'],
  categories: ['api-extensions'],
  status: true,
  tracksGeneration: true,
  defaults(obj) {
    const s = child(obj, 'spec');
    const conv = child(s, 'conversion');
    dflt(conv, 'strategy', 'None');
    const names = child(s, 'names');
    if (names.kind) {
      dflt(names, 'singular', String(names.kind).toLowerCase());
      dflt(names, 'listKind', `${names.kind}List`);
    }
  },
  validate(obj) {
    const s = (obj.spec ?? {}) as Json;
    const names: Json = s.names ?? {};
    const causes: StatusCause[] = [];
    if (!s.group) causes.push(required('spec.group'));
    else if (!s.group.includes('.'))
      causes.push(invalid('spec.group', s.group, 'should be a domain with at least one dot'));
    if (obj.metadata?.name && names.plural && s.group && obj.metadata.name !== `${names.plural}.${s.group}`) {
      causes.push(invalid('metadata.name', obj.metadata.name, 'must be spec.names.plural+"."+spec.group'));
    }
    if (!names.plural) causes.push(required('spec.names.plural'));
    else
      for (const m of isDNS1035Label(names.plural))
        causes.push(invalid('spec.names.plural', names.plural, m));
    if (!names.kind) causes.push(required('spec.names.kind'));
    causes.push(...oneOf('spec.scope', s.scope, ['Cluster', 'Namespaced']));
    if (!s.scope) causes.push(required('spec.scope'));
    const versions: Json[] = s.versions ?? [];
    if (versions.length === 0)
      causes.push(required('spec.versions', 'must have exactly one version marked as storage version'));
    else if (versions.filter((v) => v.storage).length !== 1) {
      causes.push(
        invalid('spec.versions', versions, 'must have exactly one version marked as storage version'),
      );
    }
    versions.forEach((v, i) => {
      if (!v.name) causes.push(required(`spec.versions[${i}].name`));
      if (!v.schema?.openAPIV3Schema)
        causes.push(required(`spec.versions[${i}].schema.openAPIV3Schema`, 'schemas are required'));
    });
    return causes;
  },
  validateUpdate(obj, old) {
    const s = (obj.spec ?? {}) as Json;
    const o = (old.spec ?? {}) as Json;
    return [
      ...immutable('spec.group', s.group, o.group),
      ...immutable('spec.names.plural', s.names?.plural, o.names?.plural),
      ...immutable('spec.scope', s.scope, o.scope),
    ];
  },
  table: createdAtTable,
});
