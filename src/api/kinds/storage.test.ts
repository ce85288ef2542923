import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtinRegistry } from '../index.ts';
import type { KubeObject, ResourceDef } from '../resource.ts';

const reg = builtinRegistry();
const now = new Date('2024-01-01T12:00:00Z');
const ago = (s: number) => new Date(now.getTime() - s * 1000).toISOString();
const def = (group: string, plural: string): ResourceDef => {
  const d = reg.byResource(group, 'v1', plural);
  assert.ok(d, plural);
  return d;
};
const messages = (causes: { field?: string; message?: string }[] = []) =>
  causes.map((c) => `${c.field}: ${c.message}`);
const S = 'storage.k8s.io';
const SNAP = 'snapshot.storage.k8s.io';

test('storage and snapshot kinds are found by resource and kind, with schemas', () => {
  const defs = reg.definitions();
  for (const [group, plural, kind, namespaced, schema] of [
    [S, 'csidrivers', 'CSIDriver', false, 'io.k8s.api.storage.v1.CSIDriver'],
    [S, 'csinodes', 'CSINode', false, 'io.k8s.api.storage.v1.CSINode'],
    [S, 'volumeattachments', 'VolumeAttachment', false, 'io.k8s.api.storage.v1.VolumeAttachment'],
    [S, 'csistoragecapacities', 'CSIStorageCapacity', true, 'io.k8s.api.storage.v1.CSIStorageCapacity'],
    [SNAP, 'volumesnapshots', 'VolumeSnapshot', true, 'io.k8s.storage.snapshot.v1.VolumeSnapshot'],
    [
      SNAP,
      'volumesnapshotcontents',
      'VolumeSnapshotContent',
      false,
      'io.k8s.storage.snapshot.v1.VolumeSnapshotContent',
    ],
    [
      SNAP,
      'volumesnapshotclasses',
      'VolumeSnapshotClass',
      false,
      'io.k8s.storage.snapshot.v1.VolumeSnapshotClass',
    ],
  ] as const) {
    const d = def(group, plural);
    assert.equal(reg.byKind(group, 'v1', kind), d);
    assert.equal(d.namespaced, namespaced, kind);
    assert.equal(d.schemaName, schema);
    assert.ok(defs[schema]);
  }
  assert.deepEqual(def(SNAP, 'volumesnapshots').shortNames, ['vs']);
  assert.deepEqual(def(SNAP, 'volumesnapshotcontents').shortNames, ['vsc', 'vscs']);
  assert.deepEqual(def(SNAP, 'volumesnapshotclasses').shortNames, ['vsclass', 'vsclasses']);
  const drivers = defs['io.k8s.api.storage.v1.CSINodeSpec'].properties?.drivers;
  assert.equal(drivers?.['x-kubernetes-patch-merge-key'], 'name');
});

test('CSIDriver defaults, validation, immutability and table', () => {
  const d = def(S, 'csidrivers');
  const o: KubeObject = { metadata: { name: 'hostpath.csi.k8s.io', creationTimestamp: ago(60) }, spec: {} };
  d.defaults?.(o);
  assert.deepEqual(o.spec, {
    attachRequired: true,
    podInfoOnMount: false,
    storageCapacity: false,
    fsGroupPolicy: 'ReadWriteOnceWithFSType',
    requiresRepublish: false,
    seLinuxMount: false,
    volumeLifecycleModes: ['Persistent'],
  });
  assert.deepEqual(d.validate?.(o), []);
  assert.deepEqual(d.table?.row(o, now), [
    'hostpath.csi.k8s.io',
    true,
    false,
    false,
    '<unset>',
    false,
    'Persistent',
    '60s',
  ]);
  const bad = structuredClone(o);
  Object.assign(bad.spec as object, {
    fsGroupPolicy: 'Sometimes',
    volumeLifecycleModes: ['Persistent', 'Forever'],
    tokenRequests: [{ audience: 'a', expirationSeconds: 60 }, { audience: 'a' }],
  });
  assert.deepEqual(messages(d.validate?.(bad)), [
    'spec.fsGroupPolicy: Unsupported value: "Sometimes": supported values: "File", "None", "ReadWriteOnceWithFSType"',
    'spec.volumeLifecycleModes[1]: Unsupported value: "Forever": supported values: "Ephemeral", "Persistent"',
    'spec.tokenRequests[0].expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes',
    'spec.tokenRequests[1].audience: Duplicate value: "a"',
  ]);
  const changed = structuredClone(o);
  (changed.spec as any).attachRequired = false;
  assert.deepEqual(messages(d.validateUpdate?.(changed, o)), [
    'spec.attachRequired: Invalid value: false: field is immutable',
  ]);
});

test('CSINode, VolumeAttachment and CSIStorageCapacity checks and rows', () => {
  const node = def(S, 'csinodes');
  const n: KubeObject = {
    metadata: { name: 'n1', creationTimestamp: ago(5) },
    spec: { drivers: [{ name: 'a.csi', nodeID: 'n1' }, { name: 'a.csi' }] },
  };
  assert.deepEqual(messages(node.validate?.(n)), [
    'spec.drivers[1].name: Duplicate value: "a.csi"',
    'spec.drivers[1].nodeID: Required value',
  ]);
  assert.deepEqual(node.table?.row(n, now), ['n1', 2, '5s']);

  const va = def(S, 'volumeattachments');
  const a: KubeObject = {
    metadata: { name: 'csi-123', creationTimestamp: ago(5) },
    spec: { attacher: 'a.csi', nodeName: 'n1', source: { persistentVolumeName: 'pv1' } },
    status: { attached: true },
  };
  assert.deepEqual(va.validate?.(a), []);
  assert.deepEqual(va.table?.row(a, now), ['csi-123', 'a.csi', 'pv1', 'n1', true, '5s']);
  const noSource = { ...a, spec: { attacher: 'a.csi', nodeName: 'n1', source: {} } };
  assert.deepEqual(messages(va.validate?.(noSource)), [
    'spec.source: Required value: must specify exactly one of inlineVolumeSpec and persistentVolumeName',
  ]);
  const both = {
    ...a,
    spec: { attacher: 'a.csi', source: { persistentVolumeName: 'p', inlineVolumeSpec: {} } },
  };
  assert.deepEqual(messages(va.validate?.(both)), [
    'spec.source: Forbidden: must specify exactly one of inlineVolumeSpec and persistentVolumeName',
    'spec.nodeName: Required value',
  ]);
  const moved = structuredClone(a);
  (moved.spec as any).nodeName = 'n2';
  assert.equal(va.validateUpdate?.(moved, a)?.[0]?.field, 'spec');

  const cap = def(S, 'csistoragecapacities');
  const c: KubeObject = {
    metadata: { name: 'c1', namespace: 'kube-system', creationTimestamp: ago(5) },
    capacity: '10Gi',
  };
  assert.deepEqual(messages(cap.validate?.(c)), ['storageClassName: Required value']);
  assert.deepEqual(cap.table?.row({ ...c, storageClassName: 'fast' }, now), ['c1', 'fast', '10Gi', '5s']);
  assert.deepEqual(cap.table?.row({ ...c, capacity: undefined }, now)[2], '<unset>');
});

test('VolumeSnapshot: exactly one source, immutable source, CRD printer columns', () => {
  const d = def(SNAP, 'volumesnapshots');
  assert.deepEqual(
    d.table?.columns.map((c) => c.name),
    [
      'Name',
      'ReadyToUse',
      'SourcePVC',
      'SourceSnapshotContent',
      'RestoreSize',
      'SnapshotClass',
      'SnapshotContent',
      'CreationTime',
      'Age',
    ],
  );
  const vs = (source: Record<string, string>, status?: Record<string, unknown>): KubeObject => ({
    metadata: { name: 'snap', namespace: 'default', creationTimestamp: ago(120) },
    spec: { source, volumeSnapshotClassName: 'csi' },
    ...(status ? { status } : {}),
  });
  const ok = vs({ persistentVolumeClaimName: 'data' });
  assert.deepEqual(d.validate?.(ok), []);
  assert.deepEqual(messages(d.validate?.(vs({}))), [
    'spec.source: Invalid value: "object": exactly one of persistentVolumeClaimName or volumeSnapshotContentName must be set',
  ]);
  assert.deepEqual(messages(d.validate?.({ metadata: { name: 's', namespace: 'd' } })), [
    'spec: Required value',
  ]);
  assert.deepEqual(messages(d.validateUpdate?.(vs({ persistentVolumeClaimName: 'other' }), ok)), [
    'spec.source.persistentVolumeClaimName: Invalid value: "other": persistentVolumeClaimName is immutable',
  ]);
  assert.deepEqual(d.table?.row(ok, now), ['snap', null, 'data', null, null, 'csi', null, null, '2m']);
  const ready = vs(
    { persistentVolumeClaimName: 'data' },
    {
      readyToUse: true,
      restoreSize: '1Gi',
      boundVolumeSnapshotContentName: 'snapcontent-1',
      creationTime: ago(60),
    },
  );
  assert.deepEqual(d.table?.row(ready, now), [
    'snap',
    true,
    'data',
    null,
    '1Gi',
    'csi',
    'snapcontent-1',
    '60s',
    '2m',
  ]);
});

test('VolumeSnapshotContent and VolumeSnapshotClass checks and rows', () => {
  const d = def(SNAP, 'volumesnapshotcontents');
  const c: KubeObject = {
    metadata: { name: 'snapcontent-1', creationTimestamp: ago(30) },
    spec: {
      deletionPolicy: 'Delete',
      driver: 'hostpath.csi.k8s.io',
      source: { volumeHandle: 'vol-1' },
      volumeSnapshotRef: { name: 'snap', namespace: 'default' },
    },
    status: { readyToUse: true, restoreSize: 1073741824 },
  };
  assert.deepEqual(d.validate?.(c), []);
  assert.deepEqual(d.table?.row(c, now), [
    'snapcontent-1',
    true,
    1073741824,
    'Delete',
    'hostpath.csi.k8s.io',
    null,
    'snap',
    'default',
    '30s',
  ]);
  const bad = { ...c, spec: { deletionPolicy: 'Keep', source: { volumeHandle: 'v', snapshotHandle: 's' } } };
  assert.deepEqual(messages(d.validate?.(bad)), [
    'spec.deletionPolicy: Unsupported value: "Keep": supported values: "Delete", "Retain"',
    'spec.driver: Required value',
    'spec.source: Invalid value: "object": exactly one of volumeHandle or snapshotHandle must be set',
    'spec.volumeSnapshotRef: Required value',
  ]);
  const cls = def(SNAP, 'volumesnapshotclasses');
  const k: KubeObject = {
    metadata: { name: 'csi', creationTimestamp: ago(30) },
    driver: 'd',
    deletionPolicy: 'Retain',
  };
  assert.deepEqual(cls.validate?.(k), []);
  assert.deepEqual(cls.table?.row(k, now), ['csi', 'd', 'Retain', '30s']);
  assert.deepEqual(messages(cls.validate?.({ metadata: { name: 'x' } })), [
    'driver: Required value',
    'deletionPolicy: Required value',
  ]);
});
