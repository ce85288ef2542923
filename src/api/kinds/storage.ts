/**
 * storage.k8s.io/v1's CSI kinds and snapshot.storage.k8s.io/v1. The snapshot kinds are CRDs
 * upstream; their checks are the CRDs' CEL rules, reported as the API server reports those.
 */

import { child, dflt } from '../defaults/pod.ts';
import type { StatusCause } from '../errors.ts';
import { ageColumn, col, nameColumn, since } from '../printers/format.ts';
import type { KubeObject } from '../resource.ts';
import {
  deepEqual,
  duplicate,
  forbidden,
  immutable,
  invalid,
  invalidFormatted,
  nonNegative,
  notSupported,
  required,
} from '../validation/causes.ts';
import { oneOf, validateLabelSelector } from '../validation/meta.ts';
import { isDNS1123Subdomain } from '../validation/names.ts';
import { defineKind } from './define.ts';

type Json = Record<string, any>;

const STORAGE = 'storage.k8s.io';
const SNAPSHOT = 'snapshot.storage.k8s.io';
const spec = (o: KubeObject) => (o.spec ?? {}) as Json;
const status = (o: KubeObject) => (o.status ?? {}) as Json;
const age = (o: KubeObject, now: Date) => since(o.metadata?.creationTimestamp, now);

const CSI_NAME_RE = /^[a-zA-Z0-9]([-a-zA-Z0-9.]*[a-zA-Z0-9])?$/;

/** ValidateCSIDriverName: at most 63 characters, alphanumerics, '-' and '.'. */
function validateDriverName(path: string, name: unknown): StatusCause[] {
  if (!name) return [required(path)];
  const v = String(name);
  const causes: StatusCause[] = [];
  if (v.length > 63) causes.push(invalid(path, v, 'must be no more than 63 characters'));
  if (!CSI_NAME_RE.test(v)) {
    causes.push(
      invalid(
        path,
        v,
        "a valid CSI driver name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([a-zA-Z0-9]([-a-zA-Z0-9.]*[a-zA-Z0-9])?)')",
      ),
    );
  }
  return causes;
}

const FS_GROUP_POLICIES = ['File', 'None', 'ReadWriteOnceWithFSType'];
const LIFECYCLE_MODES = ['Ephemeral', 'Persistent'];

export const csiDriver = defineKind({
  group: STORAGE,
  version: 'v1',
  kind: 'CSIDriver',
  plural: 'csidrivers',
  namespaced: false,
  defaults(obj) {
    const s = child(obj, 'spec');
    dflt(s, 'attachRequired', true);
    dflt(s, 'podInfoOnMount', false);
    dflt(s, 'storageCapacity', false);
    dflt(s, 'fsGroupPolicy', 'ReadWriteOnceWithFSType');
    dflt(s, 'requiresRepublish', false);
    dflt(s, 'seLinuxMount', false);
    if (!s.volumeLifecycleModes?.length) s.volumeLifecycleModes = ['Persistent'];
  },
  validate(obj) {
    const s = spec(obj);
    const causes = validateDriverName('metadata.name', obj.metadata?.name);
    if (typeof s.attachRequired !== 'boolean') causes.push(required('spec.attachRequired'));
    if (typeof s.podInfoOnMount !== 'boolean') causes.push(required('spec.podInfoOnMount'));
    if (typeof s.storageCapacity !== 'boolean') causes.push(required('spec.storageCapacity'));
    if (typeof s.requiresRepublish !== 'boolean') causes.push(required('spec.requiresRepublish'));
    causes.push(...oneOf('spec.fsGroupPolicy', s.fsGroupPolicy, FS_GROUP_POLICIES));
    ((s.volumeLifecycleModes as string[]) ?? []).forEach((m, i) => {
      if (!LIFECYCLE_MODES.includes(m))
        causes.push(notSupported(`spec.volumeLifecycleModes[${i}]`, m, LIFECYCLE_MODES));
    });
    const audiences = new Set<string>();
    ((s.tokenRequests as Json[]) ?? []).forEach((t, i) => {
      const p = `spec.tokenRequests[${i}]`;
      const aud = t.audience ?? '';
      if (audiences.has(aud)) causes.push(duplicate(`${p}.audience`, aud));
      audiences.add(aud);
      if (typeof t.expirationSeconds === 'number') {
        if (t.expirationSeconds < 600)
          causes.push(
            invalid(
              `${p}.expirationSeconds`,
              t.expirationSeconds,
              'may not specify a duration less than 10 minutes',
            ),
          );
        else if (t.expirationSeconds > 2 ** 32)
          causes.push(
            invalid(
              `${p}.expirationSeconds`,
              t.expirationSeconds,
              'may not specify a duration larger than 2^32 seconds',
            ),
          );
      }
    });
    return causes;
  },
  validateUpdate: (obj, old) => [
    ...immutable('spec.attachRequired', spec(obj).attachRequired, spec(old).attachRequired),
    ...immutable('spec.fsGroupPolicy', spec(obj).fsGroupPolicy, spec(old).fsGroupPolicy),
    ...immutable('spec.volumeLifecycleModes', spec(obj).volumeLifecycleModes, spec(old).volumeLifecycleModes),
  ],
  table: {
    columns: [
      nameColumn,
      col('AttachRequired', 'boolean', 'Whether volumes must be attached before mounting.'),
      col('PodInfoOnMount', 'boolean', 'Whether the mount receives pod information.'),
      col('StorageCapacity', 'boolean', 'Whether the scheduler considers storage capacity.'),
      col('TokenRequests', 'string', 'Audiences of the tokens the driver receives.'),
      col('RequiresRepublish', 'boolean', 'Whether mounts are republished periodically.'),
      col('Modes', 'string', 'The volume lifecycle modes the driver supports.'),
      ageColumn,
    ],
    row(o, now) {
      const s = spec(o);
      const modes = ((s.volumeLifecycleModes as string[]) ?? []).join(',');
      const tokens = Array.isArray(s.tokenRequests)
        ? (s.tokenRequests as Json[]).map((t) => t.audience ?? '').join(',')
        : '<unset>';
      return [
        o.metadata?.name,
        s.attachRequired ?? true,
        s.podInfoOnMount ?? false,
        s.storageCapacity ?? false,
        tokens,
        s.requiresRepublish ?? false,
        modes || '<none>',
        age(o, now),
      ];
    },
  },
});

export const csiNode = defineKind({
  group: STORAGE,
  version: 'v1',
  kind: 'CSINode',
  plural: 'csinodes',
  namespaced: false,
  validate(obj) {
    const causes: StatusCause[] = [];
    const names = new Set<string>();
    ((spec(obj).drivers as Json[]) ?? []).forEach((d, i) => {
      const p = `spec.drivers[${i}]`;
      causes.push(...validateDriverName(`${p}.name`, d.name));
      if (d.name && names.has(d.name)) causes.push(duplicate(`${p}.name`, d.name));
      names.add(d.name);
      if (!d.nodeID) causes.push(required(`${p}.nodeID`));
      else if (String(d.nodeID).length > 192)
        causes.push(invalid(`${p}.nodeID`, d.nodeID, 'must be 192 characters or less'));
      causes.push(...nonNegative(`${p}.allocatable.count`, d.allocatable?.count));
    });
    return causes;
  },
  table: {
    columns: [nameColumn, col('Drivers', 'integer', 'The number of CSI drivers on the node.'), ageColumn],
    row: (o, now) => [o.metadata?.name, ((spec(o).drivers as Json[]) ?? []).length, age(o, now)],
  },
});

export const volumeAttachment = defineKind({
  group: STORAGE,
  version: 'v1',
  kind: 'VolumeAttachment',
  plural: 'volumeattachments',
  namespaced: false,
  status: true,
  validate(obj) {
    const s = spec(obj);
    const causes = validateDriverName('spec.attacher', s.attacher);
    const src = (s.source ?? {}) as Json;
    const hasPV = src.persistentVolumeName !== undefined && src.persistentVolumeName !== null;
    const hasInline = !!src.inlineVolumeSpec;
    const exactlyOne = 'must specify exactly one of inlineVolumeSpec and persistentVolumeName';
    if (!hasPV && !hasInline) causes.push(required('spec.source', exactlyOne));
    else if (hasPV && hasInline) causes.push(forbidden('spec.source', exactlyOne));
    else if (hasPV && !src.persistentVolumeName) {
      causes.push(
        required('spec.source.persistentVolumeName', 'must specify non empty persistentVolumeName'),
      );
    }
    if (!s.nodeName) causes.push(required('spec.nodeName'));
    else for (const m of isDNS1123Subdomain(s.nodeName)) causes.push(invalid('spec.nodeName', s.nodeName, m));
    return causes;
  },
  validateUpdate: (obj, old) =>
    deepEqual(obj.spec, old.spec)
      ? []
      : [invalidFormatted('spec', JSON.stringify(obj.spec), 'field is immutable')],
  table: {
    columns: [
      nameColumn,
      col('Attacher', 'string', 'The CSI driver that attaches the volume.'),
      col('PV', 'string', 'The persistent volume.'),
      col('Node', 'string', 'The node the volume is attached to.'),
      col('Attached', 'boolean', 'Whether the volume is attached.'),
      ageColumn,
    ],
    row(o, now) {
      const s = spec(o);
      return [
        o.metadata?.name,
        s.attacher ?? '',
        s.source?.persistentVolumeName ?? '',
        s.nodeName ?? '',
        status(o).attached === true,
        age(o, now),
      ];
    },
  },
});

/** A Quantity's text as the API returns it (numbers print bare). */
const quantity = (q: unknown) => (q === undefined || q === null ? undefined : String(q));

export const csiStorageCapacity = defineKind({
  group: STORAGE,
  version: 'v1',
  kind: 'CSIStorageCapacity',
  plural: 'csistoragecapacities',
  namespaced: true,
  validate(obj) {
    const causes: StatusCause[] = [];
    if (!obj.storageClassName) causes.push(required('storageClassName'));
    else
      for (const m of isDNS1123Subdomain(String(obj.storageClassName)))
        causes.push(invalid('storageClassName', obj.storageClassName, m));
    causes.push(...validateLabelSelector(obj.nodeTopology, 'nodeTopology'));
    for (const f of ['capacity', 'maximumVolumeSize']) {
      const q = quantity(obj[f]);
      if (q?.startsWith('-')) causes.push(invalid(f, q, 'must be greater than or equal to 0'));
    }
    return causes;
  },
  table: {
    columns: [
      nameColumn,
      col('StorageClassName', 'string', 'The storage class the capacity is for.'),
      col('Capacity', 'string', 'The capacity the driver reported.'),
      ageColumn,
    ],
    row: (o, now) => [
      o.metadata?.name,
      o.storageClassName ?? '',
      quantity(o.capacity) ?? '<unset>',
      age(o, now),
    ],
  },
});

// --- snapshot.storage.k8s.io/v1 ---

/** A failed CEL rule of the upstream CRDs, as the API server reports it. */
function rule(path: string, message: string): StatusCause {
  return invalidFormatted(path, '"object"', message);
}

/** A CRD printer column: `date` columns print as ages, missing values as null (`<none>`). */
function crdColumn(name: string, type: 'string' | 'integer' | 'boolean' | 'date', description: string) {
  return col(name, type, description);
}
const crdAge = crdColumn('Age', 'date', 'Time since the object was created (creationTimestamp).');
const orNull = (v: unknown) => (v === undefined || v === '' ? null : v);

function oneSource(src: Json, a: string, b: string, path: string): StatusCause[] {
  const has = (k: string) => src[k] !== undefined && src[k] !== null;
  return has(a) !== has(b) ? [] : [rule(path, `exactly one of ${a} or ${b} must be set`)];
}

function sourceUnchanged(src: Json = {}, old: Json = {}, keys: string[], path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  for (const k of keys) {
    if (old[k] !== undefined && src[k] === undefined) causes.push(rule(path, `${k} is required once set`));
    else if (old[k] !== undefined && src[k] !== old[k])
      causes.push(invalid(`${path}.${k}`, src[k], `${k} is immutable`));
  }
  return causes;
}

export const volumeSnapshot = defineKind({
  group: SNAPSHOT,
  version: 'v1',
  kind: 'VolumeSnapshot',
  plural: 'volumesnapshots',
  namespaced: true,
  shortNames: ['vs'],
  status: true,
  tracksGeneration: true,
  validate(obj) {
    const s = spec(obj);
    if (!obj.spec) return [required('spec')];
    const causes: StatusCause[] = [];
    if (!s.source) causes.push(required('spec.source'));
    else
      causes.push(
        ...oneSource(s.source, 'persistentVolumeClaimName', 'volumeSnapshotContentName', 'spec.source'),
      );
    if (s.volumeSnapshotClassName === '') {
      causes.push(
        invalid(
          'spec.volumeSnapshotClassName',
          '',
          'volumeSnapshotClassName must not be the empty string when set',
        ),
      );
    }
    return causes;
  },
  validateUpdate: (obj, old) =>
    sourceUnchanged(
      spec(obj).source,
      spec(old).source,
      ['persistentVolumeClaimName', 'volumeSnapshotContentName'],
      'spec.source',
    ),
  table: {
    columns: [
      nameColumn,
      crdColumn('ReadyToUse', 'boolean', 'Whether a volume can be restored from the snapshot.'),
      crdColumn('SourcePVC', 'string', 'The claim the snapshot was taken of.'),
      crdColumn('SourceSnapshotContent', 'string', 'The existing snapshot content the snapshot binds to.'),
      crdColumn('RestoreSize', 'string', 'The smallest volume size a restore needs.'),
      crdColumn('SnapshotClass', 'string', 'The class of the snapshot.'),
      crdColumn('SnapshotContent', 'string', 'The VolumeSnapshotContent the snapshot is bound to.'),
      crdColumn('CreationTime', 'date', 'When the storage system took the snapshot.'),
      crdAge,
    ],
    row(o, now) {
      const s = spec(o);
      const st = status(o);
      return [
        o.metadata?.name,
        st.readyToUse ?? null,
        orNull(s.source?.persistentVolumeClaimName),
        orNull(s.source?.volumeSnapshotContentName),
        orNull(quantity(st.restoreSize)),
        orNull(s.volumeSnapshotClassName),
        orNull(st.boundVolumeSnapshotContentName),
        st.creationTime ? since(st.creationTime, now) : null,
        age(o, now),
      ];
    },
  },
});

const DELETION_POLICIES = ['Delete', 'Retain'];

export const volumeSnapshotContent = defineKind({
  group: SNAPSHOT,
  version: 'v1',
  kind: 'VolumeSnapshotContent',
  plural: 'volumesnapshotcontents',
  namespaced: false,
  shortNames: ['vsc', 'vscs'],
  status: true,
  tracksGeneration: true,
  validate(obj) {
    if (!obj.spec) return [required('spec')];
    const s = spec(obj);
    const causes: StatusCause[] = [];
    if (!s.deletionPolicy) causes.push(required('spec.deletionPolicy'));
    else causes.push(...oneOf('spec.deletionPolicy', s.deletionPolicy, DELETION_POLICIES));
    if (!s.driver) causes.push(required('spec.driver'));
    if (!s.source) causes.push(required('spec.source'));
    else causes.push(...oneSource(s.source, 'volumeHandle', 'snapshotHandle', 'spec.source'));
    if (!s.volumeSnapshotRef) causes.push(required('spec.volumeSnapshotRef'));
    else {
      if (!s.volumeSnapshotRef.name)
        causes.push(
          rule(
            'spec.volumeSnapshotRef',
            'both spec.volumeSnapshotRef.name and spec.volumeSnapshotRef.namespace must be set',
          ),
        );
      else if (!s.volumeSnapshotRef.namespace)
        causes.push(
          rule(
            'spec.volumeSnapshotRef',
            'both spec.volumeSnapshotRef.name and spec.volumeSnapshotRef.namespace must be set',
          ),
        );
    }
    causes.push(...oneOf('spec.sourceVolumeMode', s.sourceVolumeMode, ['Block', 'Filesystem']));
    return causes;
  },
  validateUpdate: (obj, old) => [
    ...sourceUnchanged(spec(obj).source, spec(old).source, ['volumeHandle', 'snapshotHandle'], 'spec.source'),
    ...(spec(old).sourceVolumeMode !== undefined
      ? immutable('spec.sourceVolumeMode', spec(obj).sourceVolumeMode, spec(old).sourceVolumeMode).map(
          (c) => ({
            ...c,
            message: `Invalid value: "string": sourceVolumeMode is immutable`,
          }),
        )
      : []),
  ],
  table: {
    columns: [
      nameColumn,
      crdColumn('ReadyToUse', 'boolean', 'Whether a volume can be restored from the snapshot.'),
      crdColumn('RestoreSize', 'integer', 'The smallest volume size in bytes a restore needs.'),
      crdColumn('DeletionPolicy', 'string', 'What happens to the stored snapshot when this object goes.'),
      crdColumn('Driver', 'string', 'The CSI driver that took the snapshot.'),
      crdColumn('VolumeSnapshotClass', 'string', 'The class the snapshot was taken with.'),
      crdColumn('VolumeSnapshot', 'string', 'The VolumeSnapshot bound to this content.'),
      crdColumn('VolumeSnapshotNamespace', 'string', 'The namespace of that VolumeSnapshot.'),
      crdAge,
    ],
    row(o, now) {
      const s = spec(o);
      const st = status(o);
      return [
        o.metadata?.name,
        st.readyToUse ?? null,
        st.restoreSize ?? null,
        orNull(s.deletionPolicy),
        orNull(s.driver),
        orNull(s.volumeSnapshotClassName),
        orNull(s.volumeSnapshotRef?.name),
        orNull(s.volumeSnapshotRef?.namespace),
        age(o, now),
      ];
    },
  },
});

export const volumeSnapshotClass = defineKind({
  group: SNAPSHOT,
  version: 'v1',
  kind: 'VolumeSnapshotClass',
  plural: 'volumesnapshotclasses',
  namespaced: false,
  shortNames: ['vsclass', 'vsclasses'],
  validate(obj) {
    const causes: StatusCause[] = [];
    if (!obj.driver) causes.push(required('driver'));
    if (!obj.deletionPolicy) causes.push(required('deletionPolicy'));
    else causes.push(...oneOf('deletionPolicy', obj.deletionPolicy, DELETION_POLICIES));
    return causes;
  },
  table: {
    columns: [
      nameColumn,
      crdColumn('Driver', 'string', 'The CSI driver that takes snapshots of this class.'),
      crdColumn(
        'DeletionPolicy',
        'string',
        'What happens to stored snapshots of this class when their content goes.',
      ),
      crdAge,
    ],
    row: (o, now) => [o.metadata?.name, orNull(o.driver), orNull(o.deletionPolicy), age(o, now)],
  },
});
