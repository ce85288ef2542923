/** core/v1 Event, Node, PersistentVolume, PersistentVolumeClaim, ResourceQuota, LimitRange. */

import { child, dflt } from '../defaults/pod.ts';
import type { StatusCause } from '../errors.ts';
import { ageColumn, col, createdAtColumn, dateCell, nameColumn, since, str } from '../printers/format.ts';
import type { KubeObject } from '../resource.ts';
import { immutable, invalid, required } from '../validation/causes.ts';
import { oneOf } from '../validation/meta.ts';
import { defineKind, field } from './define.ts';

type Json = Record<string, any>;

/** One row builder for both Event APIs: core/v1 fields, with events.k8s.io/v1 fields mapped in. */
export function eventCells(e: Json, now: Date): unknown[] {
  let first = since(e.firstTimestamp, now);
  if (!e.firstTimestamp) first = since(e.eventTime, now);
  let last = e.lastTimestamp ? since(e.lastTimestamp, now) : first;
  let count = e.count ?? 0;
  if (e.series) {
    last = since(e.series.lastObservedTime, now);
    count = e.series.count ?? 0;
  } else if (count === 0) count = 1;
  const io: Json = e.involvedObject ?? {};
  const kind = String(io.kind ?? '').toLowerCase();
  const target = io.name ? `${kind}/${io.name}` : kind;
  const component = e.source?.component || e.reportingComponent || '';
  const source = e.source?.host ? `${component}, ${e.source.host}` : component;
  return [
    last,
    e.type ?? '',
    e.reason ?? '',
    target,
    io.fieldPath ?? '',
    source,
    String(e.message ?? '').trim(),
    first,
    count,
    e.metadata?.name,
  ];
}

export const eventColumns = [
  col('Last Seen', 'string', 'Time since the event was last seen.'),
  col('Type', 'string', 'Normal or Warning.'),
  col('Reason', 'string', 'A short reason for the event.'),
  col('Object', 'string', 'The object the event is about.'),
  col('Subobject', 'string', 'The part of the object the event is about.', 1),
  col('Source', 'string', 'The component that reported the event.', 1),
  col('Message', 'string', 'A human readable description.'),
  col('First Seen', 'string', 'Time since the event was first seen.', 1),
  col('Count', 'integer', 'How many times the event occurred.', 1),
  { ...nameColumn, priority: 1 },
];

const involved = (f: string) => field(`involvedObject.${f}`);

export const event = defineKind({
  group: '',
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  namespaced: true,
  shortNames: ['ev'],
  selectableFields: {
    'involvedObject.kind': involved('kind'),
    'involvedObject.namespace': involved('namespace'),
    'involvedObject.name': involved('name'),
    'involvedObject.uid': involved('uid'),
    'involvedObject.apiVersion': involved('apiVersion'),
    'involvedObject.resourceVersion': involved('resourceVersion'),
    'involvedObject.fieldPath': involved('fieldPath'),
    reason: field('reason'),
    reportingComponent: field('reportingComponent'),
    source: (o) => String((o.source as Json)?.component ?? ''),
    type: field('type'),
  },
  validate(obj) {
    const causes: StatusCause[] = [];
    const io = (obj.involvedObject ?? {}) as Json;
    const ns = obj.metadata?.namespace;
    if (io.namespace && ns && io.namespace !== ns) {
      causes.push(invalid('involvedObject.namespace', io.namespace, 'does not match event.namespace'));
    }
    causes.push(...oneOf('type', obj.type || undefined, ['Normal', 'Warning']));
    return causes;
  },
  table: { columns: eventColumns, row: (o, now) => eventCells(o as Json, now) },
});

export const node = defineKind({
  group: '',
  version: 'v1',
  kind: 'Node',
  plural: 'nodes',
  namespaced: false,
  shortNames: ['no'],
  status: true,
  extraSubresources: ['proxy'],
  selectableFields: { 'spec.unschedulable': field('spec.unschedulable', 'false') },
  defaults(obj) {
    child(obj, 'spec');
    const status = child(obj, 'status');
    if (status.capacity && !status.allocatable) status.allocatable = { ...status.capacity };
    child(status, 'daemonEndpoints');
    child(status, 'nodeInfo');
  },
  validate(obj) {
    const causes: StatusCause[] = [];
    ((obj.spec as Json)?.taints ?? []).forEach((t: Json, i: number) => {
      if (!t.key) causes.push(required(`spec.taints[${i}].key`));
      if (!t.effect) causes.push(required(`spec.taints[${i}].effect`));
      else
        causes.push(
          ...oneOf(`spec.taints[${i}].effect`, t.effect, ['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
        );
    });
    return causes;
  },
  validateUpdate(obj, old) {
    const s = (obj.spec ?? {}) as Json;
    const o = (old.spec ?? {}) as Json;
    const causes: StatusCause[] = [];
    if (o.podCIDR) causes.push(...immutable('spec.podCIDRs', s.podCIDRs, o.podCIDRs));
    if (o.providerID) causes.push(...immutable('spec.providerID', s.providerID, o.providerID));
    return causes;
  },
  table: {
    columns: [
      nameColumn,
      col('Status', 'string', 'The status of the node.'),
      col('Roles', 'string', 'The roles of the node.'),
      ageColumn,
      col('Version', 'string', 'The version of the node agent.'),
      col('Internal-IP', 'string', 'The internal IP of the node.', 1),
      col('External-IP', 'string', 'The external IP of the node.', 1),
      col('OS-Image', 'string', 'The OS image of the node.', 1),
      col('Kernel-Version', 'string', 'The kernel version of the node.', 1),
      col('Container-Runtime', 'string', 'The container runtime of the node.', 1),
    ],
    row(obj, now) {
      const status = (obj.status ?? {}) as Json;
      const info: Json = status.nodeInfo ?? {};
      const states: string[] = [];
      const ready = (status.conditions ?? []).find((c: Json) => c.type === 'Ready');
      if (ready) states.push(ready.status === 'True' ? 'Ready' : 'NotReady');
      if (states.length === 0) states.push('Unknown');
      if ((obj.spec as Json)?.unschedulable) states.push('SchedulingDisabled');
      const addr = (t: string) =>
        (status.addresses ?? []).find((a: Json) => a.type === t)?.address ?? '<none>';
      return [
        obj.metadata?.name,
        states.join(','),
        nodeRoles(obj),
        since(obj.metadata?.creationTimestamp, now),
        info.kubeletVersion ?? '',
        addr('InternalIP'),
        addr('ExternalIP'),
        str(info.osImage, '<unknown>'),
        str(info.kernelVersion, '<unknown>'),
        str(info.containerRuntimeVersion, '<unknown>'),
      ];
    },
  },
});

function nodeRoles(obj: KubeObject): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(obj.metadata?.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const role = k.slice('node-role.kubernetes.io/'.length);
      if (role) roles.add(role);
    } else if (k === 'kubernetes.io/role' && v) roles.add(v);
  }
  return roles.size ? [...roles].sort().join(',') : '<none>';
}

const MODE_ABBREV: [string, string][] = [
  ['ReadWriteOnce', 'RWO'],
  ['ReadOnlyMany', 'ROX'],
  ['ReadWriteMany', 'RWX'],
  ['ReadWriteOncePod', 'RWOP'],
];

export function accessModes(modes: string[] = []): string {
  return MODE_ABBREV.filter(([m]) => modes.includes(m))
    .map(([, a]) => a)
    .join(',');
}

const ACCESS_MODES = MODE_ABBREV.map(([m]) => m);

function validateAccessModes(path: string, modes: unknown): StatusCause[] {
  if (!Array.isArray(modes) || modes.length === 0) return [required(path)];
  return modes.flatMap((m, i) => oneOf(`${path}[${i}]`, m, ACCESS_MODES).map((c) => ({ ...c, field: path })));
}

export const persistentVolume = defineKind({
  group: '',
  version: 'v1',
  kind: 'PersistentVolume',
  plural: 'persistentvolumes',
  namespaced: false,
  shortNames: ['pv'],
  status: true,
  defaults(obj) {
    const s = child(obj, 'spec');
    dflt(s, 'persistentVolumeReclaimPolicy', 'Retain');
    dflt(s, 'volumeMode', 'Filesystem');
    dflt(child(obj, 'status'), 'phase', 'Pending');
  },
  validate(obj) {
    const s = (obj.spec ?? {}) as Json;
    const causes = validateAccessModes('spec.accessModes', s.accessModes);
    if (!s.capacity?.storage) causes.push(required('spec.capacity'));
    const sources = ['hostPath', 'local', 'nfs', 'csi'].filter((k) => s[k]);
    if (sources.length === 0) causes.push(required('spec', 'must specify a volume type'));
    causes.push(
      ...oneOf('spec.persistentVolumeReclaimPolicy', s.persistentVolumeReclaimPolicy, [
        'Delete',
        'Recycle',
        'Retain',
      ]),
    );
    causes.push(...oneOf('spec.volumeMode', s.volumeMode, ['Block', 'Filesystem']));
    return causes;
  },
  validateUpdate: (obj, old) =>
    immutable('spec.volumeMode', (obj.spec as Json)?.volumeMode, (old.spec as Json)?.volumeMode),
  table: {
    columns: [
      nameColumn,
      col('Capacity', 'string', 'The size of the volume.'),
      col('Access Modes', 'string', 'How the volume may be mounted.'),
      col('Reclaim Policy', 'string', 'What happens to the volume when released.'),
      col('Status', 'string', 'The phase of the volume.'),
      col('Claim', 'string', 'The claim bound to the volume.'),
      col('StorageClass', 'string', 'The class of the volume.'),
      col('VolumeAttributesClass', 'string', 'The VolumeAttributesClass of the volume.'),
      col('Reason', 'string', 'Why the volume is in this phase.'),
      ageColumn,
      col('VolumeMode', 'string', 'Filesystem or Block.', 1),
    ],
    row(obj, now) {
      const s = (obj.spec ?? {}) as Json;
      const st = (obj.status ?? {}) as Json;
      const claim = s.claimRef ? `${s.claimRef.namespace}/${s.claimRef.name}` : '';
      const phase = obj.metadata?.deletionTimestamp ? 'Terminating' : (st.phase ?? '');
      return [
        obj.metadata?.name,
        String(s.capacity?.storage ?? ''),
        accessModes(s.accessModes),
        s.persistentVolumeReclaimPolicy ?? '',
        phase,
        claim,
        s.storageClassName ?? '',
        s.volumeAttributesClassName || '<unset>',
        st.reason ?? '',
        since(obj.metadata?.creationTimestamp, now),
        s.volumeMode || '<unset>',
      ];
    },
  },
});

export const persistentVolumeClaim = defineKind({
  group: '',
  version: 'v1',
  kind: 'PersistentVolumeClaim',
  plural: 'persistentvolumeclaims',
  namespaced: true,
  shortNames: ['pvc'],
  status: true,
  defaults(obj) {
    dflt(child(obj, 'spec'), 'volumeMode', 'Filesystem');
    dflt(child(obj, 'status'), 'phase', 'Pending');
  },
  validate(obj) {
    const s = (obj.spec ?? {}) as Json;
    const causes = validateAccessModes('spec.accessModes', s.accessModes);
    if (!s.resources?.requests?.storage) causes.push(required('spec.resources[storage]'));
    causes.push(...oneOf('spec.volumeMode', s.volumeMode, ['Block', 'Filesystem']));
    return causes;
  },
  validateUpdate(obj, old) {
    // Only the requested size (growing) and, once, the volume name may change.
    const a = structuredClone((obj.spec ?? {}) as Json);
    const b = structuredClone((old.spec ?? {}) as Json);
    if (a.resources?.requests && b.resources?.requests)
      a.resources.requests.storage = b.resources.requests.storage;
    if (!b.volumeName) a.volumeName = b.volumeName;
    if (immutable('spec', a, b).length) {
      return [
        {
          reason: 'FieldValueForbidden',
          field: 'spec',
          message:
            'Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims',
        },
      ];
    }
    return [];
  },
  table: {
    columns: [
      nameColumn,
      col('Status', 'string', 'The phase of the claim.'),
      col('Volume', 'string', 'The volume bound to the claim.'),
      col('Capacity', 'string', 'The size of the bound volume.'),
      col('Access Modes', 'string', 'How the volume may be mounted.'),
      col('StorageClass', 'string', 'The class of the claim.'),
      col('VolumeAttributesClass', 'string', 'The VolumeAttributesClass of the claim.'),
      ageColumn,
      col('VolumeMode', 'string', 'Filesystem or Block.', 1),
    ],
    row(obj, now) {
      const s = (obj.spec ?? {}) as Json;
      const st = (obj.status ?? {}) as Json;
      const bound = Boolean(s.volumeName);
      return [
        obj.metadata?.name,
        obj.metadata?.deletionTimestamp ? 'Terminating' : (st.phase ?? ''),
        s.volumeName ?? '',
        bound ? String(st.capacity?.storage ?? '') : '',
        bound ? accessModes(st.accessModes) : '',
        s.storageClassName ?? '',
        st.currentVolumeAttributesClassName || '<unset>',
        since(obj.metadata?.creationTimestamp, now),
        s.volumeMode || '<unset>',
      ];
    },
  },
});

export const resourceQuota = defineKind({
  group: '',
  version: 'v1',
  kind: 'ResourceQuota',
  plural: 'resourcequotas',
  namespaced: true,
  shortNames: ['quota'],
  status: true,
  table: {
    columns: [
      nameColumn,
      ageColumn,
      col('Request', 'string', 'Used and hard request quotas.'),
      col('Limit', 'string', 'Used and hard limit quotas.'),
    ],
    row(obj, now) {
      const hard: Json = (obj.spec as Json)?.hard ?? {};
      const st: Json = (obj.status ?? {}) as Json;
      const requests: string[] = [];
      const limits: string[] = [];
      for (const r of Object.keys(hard).sort()) {
        const text = `${r}: ${String(st.used?.[r] ?? '0')}/${String(st.hard?.[r] ?? '0')}`;
        (r.split('.')[0] === 'limits' && r.includes('.') ? limits : requests).push(text);
      }
      return [
        obj.metadata?.name,
        since(obj.metadata?.creationTimestamp, now),
        requests.join(', '),
        limits.join(', '),
      ];
    },
  },
});

export const limitRange = defineKind({
  group: '',
  version: 'v1',
  kind: 'LimitRange',
  plural: 'limitranges',
  namespaced: true,
  shortNames: ['limits'],
  validate(obj) {
    const causes: StatusCause[] = [];
    ((obj.spec as Json)?.limits ?? []).forEach((l: Json, i: number) => {
      if (!l.type) causes.push(required(`spec.limits[${i}].type`));
    });
    return causes;
  },
  table: {
    columns: [nameColumn, createdAtColumn],
    row: (obj) => [obj.metadata?.name, dateCell(obj.metadata?.creationTimestamp)],
  },
});
