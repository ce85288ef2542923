/**
 * Schemas of storage.k8s.io/v1's CSI kinds (CSIDriver, CSINode, VolumeAttachment,
 * CSIStorageCapacity) and of snapshot.storage.k8s.io/v1 (VolumeSnapshot, VolumeSnapshotContent,
 * VolumeSnapshotClass), which upstream ships as CRDs and Skiff serves built in.
 */
import type { Schema } from '../resource.ts';
import { CORE } from './core-pod.ts';
import {
  arr,
  bool,
  int,
  int64,
  kindAndList,
  labelSelector,
  map,
  obj,
  QUANTITY,
  ref,
  str,
  strArr,
  strMap,
  time,
} from './dsl.ts';

function csi(): Record<string, Schema> {
  const P = 'io.k8s.api.storage.v1.';
  const gvk = (k: string) => ({ group: 'storage.k8s.io', version: 'v1', kind: k });
  return {
    ...kindAndList(
      P,
      gvk('CSIDriver'),
      'A CSI volume driver installed in the cluster, and how Kubernetes should call it.',
      { spec: ref(`${P}CSIDriverSpec`, 'How to call the driver.') },
      ['spec'],
    ),
    [`${P}CSIDriverSpec`]: obj('How Kubernetes calls a CSI driver.', {
      attachRequired: bool(
        'Whether volumes need ControllerPublishVolume (attach) before mounting; true by default.',
      ),
      fsGroupPolicy: str(
        'Whether the driver supports changing volume ownership to the fsGroup: File, None or ReadWriteOnceWithFSType (the default).',
      ),
      nodeAllocatableUpdatePeriodSeconds: int64('How often the node reports allocatable volume counts.'),
      podInfoOnMount: bool(
        'Whether NodePublishVolume receives the pod name, namespace, uid and service account.',
      ),
      requiresRepublish: bool('Whether NodePublishVolume is called again from time to time.'),
      seLinuxMount: bool('Whether the driver supports the -o context mount option.'),
      storageCapacity: bool('Whether the scheduler considers CSIStorageCapacity objects of this driver.'),
      tokenRequests: arr(ref(`${P}TokenRequest`), 'Service account tokens passed to NodePublishVolume.', {
        listType: 'atomic',
      }),
      volumeLifecycleModes: strArr('Persistent, Ephemeral or both; Persistent by default.', {
        listType: 'set',
      }),
    }),
    [`${P}TokenRequest`]: obj(
      'A service account token a driver receives.',
      {
        audience: str('The intended audience of the token.'),
        expirationSeconds: int64('How long the token is valid.'),
      },
      { required: ['audience'] },
    ),
    ...kindAndList(
      P,
      gvk('CSINode'),
      'The CSI drivers installed on one node; named after the node.',
      { spec: ref(`${P}CSINodeSpec`, 'The drivers.') },
      ['spec'],
    ),
    [`${P}CSINodeSpec`]: obj(
      'The CSI drivers on a node.',
      { drivers: arr(ref(`${P}CSINodeDriver`), 'The drivers, by name.', { mergeKey: 'name' }) },
      { required: ['drivers'] },
    ),
    [`${P}CSINodeDriver`]: obj(
      'One CSI driver on a node.',
      {
        allocatable: ref(`${P}VolumeNodeResources`, 'Volume limits of the driver on this node.'),
        name: str('The driver name, as in its CSIDriver.'),
        nodeID: str('The node as the driver knows it.'),
        topologyKeys: strArr('Topology label keys the driver supports.'),
      },
      { required: ['name', 'nodeID'] },
    ),
    [`${P}VolumeNodeResources`]: obj('Volume limits of a driver on a node.', {
      count: int('The most volumes of this driver the node may use.'),
    }),
    ...kindAndList(
      P,
      gvk('VolumeAttachment'),
      'A request to attach a volume to a node, or detach it.',
      {
        spec: ref(`${P}VolumeAttachmentSpec`, 'The volume and the node.'),
        status: ref(`${P}VolumeAttachmentStatus`, 'Whether the volume is attached.'),
      },
      ['spec'],
    ),
    [`${P}VolumeAttachmentSpec`]: obj(
      'Which volume to attach to which node, and by which driver.',
      {
        attacher: str('The name of the CSI driver that attaches the volume.'),
        nodeName: str('The node to attach to.'),
        source: ref(`${P}VolumeAttachmentSource`, 'The volume.'),
      },
      { required: ['attacher', 'source', 'nodeName'] },
    ),
    [`${P}VolumeAttachmentSource`]: obj('A persistent volume, by name or inline; exactly one.', {
      inlineVolumeSpec: ref(
        `${CORE}PersistentVolumeSpec`,
        'An inline volume, migrated from an in-tree plugin.',
      ),
      persistentVolumeName: str('The name of the persistent volume.'),
    }),
    [`${P}VolumeAttachmentStatus`]: obj(
      'The state of an attachment.',
      {
        attachError: ref(`${P}VolumeError`, 'The last attach failure.'),
        attached: bool('Whether the volume is attached.'),
        attachmentMetadata: strMap('What the attach returned, passed on to the mount.'),
        detachError: ref(`${P}VolumeError`, 'The last detach failure.'),
      },
      { required: ['attached'] },
    ),
    [`${P}VolumeError`]: obj('A failed attach or detach.', {
      errorCode: int('The gRPC code of the failure.'),
      message: str('What went wrong.'),
      time: time('When it went wrong.'),
    }),
    ...kindAndList(
      P,
      gvk('CSIStorageCapacity'),
      'How much storage of one class is available to the nodes of one topology segment.',
      {
        capacity: ref(QUANTITY, 'The capacity the driver reported.'),
        maximumVolumeSize: ref(QUANTITY, 'The largest volume that could be created.'),
        nodeTopology: labelSelector('The nodes that can reach this storage.'),
        storageClassName: str('The storage class the capacity is for.'),
      },
      ['storageClassName'],
    ),
  };
}

function snapshots(): Record<string, Schema> {
  const P = 'io.k8s.storage.snapshot.v1.';
  const gvk = (k: string) => ({ group: 'snapshot.storage.k8s.io', version: 'v1', kind: k });
  const error = obj('A failure while taking or binding the snapshot.', {
    message: str('What went wrong; may be shown to users.'),
    time: str('When it went wrong.', { format: 'date-time' }),
  });
  return {
    ...kindAndList(
      P,
      gvk('VolumeSnapshot'),
      "A user's request for a snapshot of a persistent volume claim, or a claim on an existing snapshot.",
      {
        spec: ref(`${P}VolumeSnapshotSpec`, 'What to snapshot, and with which class.'),
        status: ref(`${P}VolumeSnapshotStatus`, 'The snapshot as it is now.'),
      },
      ['spec'],
    ),
    [`${P}VolumeSnapshotSpec`]: obj(
      'What a VolumeSnapshot captures.',
      {
        source: obj(
          'Exactly one of: a claim to snapshot now, or an existing VolumeSnapshotContent. Immutable.',
          {
            persistentVolumeClaimName: str('A claim in the same namespace to snapshot.'),
            volumeSnapshotContentName: str('An existing snapshot content to bind to.'),
          },
        ),
        volumeSnapshotClassName: str(
          'The class of the snapshot; the default class of the driver when missing.',
        ),
      },
      { required: ['source'] },
    ),
    [`${P}VolumeSnapshotStatus`]: obj('The state of a VolumeSnapshot.', {
      boundVolumeSnapshotContentName: str('The VolumeSnapshotContent it is bound to.'),
      creationTime: str('When the storage system took the snapshot.', { format: 'date-time' }),
      error,
      readyToUse: bool('Whether a volume can be restored from the snapshot.'),
      restoreSize: str('The smallest volume size a restore needs.', {
        'x-kubernetes-int-or-string': true,
        pattern:
          '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$',
      }),
      volumeGroupSnapshotName: str('The group snapshot this snapshot belongs to.'),
    }),
    ...kindAndList(
      P,
      gvk('VolumeSnapshotContent'),
      'A snapshot taken on the storage system: the cluster-scoped counterpart of a VolumeSnapshot.',
      {
        spec: ref(`${P}VolumeSnapshotContentSpec`, 'The snapshot and its VolumeSnapshot.'),
        status: ref(`${P}VolumeSnapshotContentStatus`, 'The snapshot as it is now.'),
      },
      ['spec'],
    ),
    [`${P}VolumeSnapshotContentSpec`]: obj(
      'The snapshot on the storage system and the VolumeSnapshot bound to it.',
      {
        deletionPolicy: str('Delete or Retain: what happens to the stored snapshot when this object goes.'),
        driver: str('The CSI driver that took the snapshot.'),
        source: obj('Exactly one of: a volume to snapshot, or an existing snapshot handle. Immutable.', {
          snapshotHandle: str('The driver handle of an existing snapshot.'),
          volumeHandle: str('The driver handle of the volume to snapshot.'),
        }),
        sourceVolumeMode: str('Filesystem or Block: the mode of the volume the snapshot came from.'),
        volumeSnapshotClassName: str('The class the snapshot was taken with.'),
        volumeSnapshotRef: ref(`${CORE}ObjectReference`, 'The VolumeSnapshot bound to this content.'),
      },
      { required: ['deletionPolicy', 'driver', 'source', 'volumeSnapshotRef'] },
    ),
    [`${P}VolumeSnapshotContentStatus`]: obj('The state of a VolumeSnapshotContent.', {
      creationTime: int64('When the snapshot was taken, in nanoseconds since the Unix epoch.'),
      error,
      readyToUse: bool('Whether a volume can be restored from the snapshot.'),
      restoreSize: int64('The smallest volume size in bytes a restore needs.', { minimum: 0 }),
      snapshotHandle: str('The driver handle of the snapshot.'),
      volumeGroupSnapshotHandle: str('The driver handle of its group snapshot.'),
    }),
    ...kindAndList(
      P,
      gvk('VolumeSnapshotClass'),
      'A class of snapshots: a driver and its parameters.',
      {
        deletionPolicy: str('Delete or Retain, for snapshot contents of this class.', {
          enum: ['Delete', 'Retain'],
        }),
        driver: str('The CSI driver that takes snapshots of this class.'),
        parameters: map({ type: 'string' }, 'Driver-specific parameters.'),
      },
      ['deletionPolicy', 'driver'],
    ),
  };
}

export function storageSchemas(): Record<string, Schema> {
  return { ...csi(), ...snapshots() };
}
