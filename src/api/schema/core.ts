/** Schemas of the core/v1 kinds other than Pod. */
import type { Schema } from '../resource.ts';
import { CORE } from './core-pod.ts';
import {
  arr,
  bool,
  bytes,
  conditions,
  int,
  int64,
  intOrString,
  kindAndList,
  labelSelector,
  MICRO_TIME,
  map,
  obj,
  QUANTITY,
  quantityMap,
  ref,
  str,
  strArr,
  strMap,
  time,
} from './dsl.ts';

const c = (name: string, description?: string, extra?: Partial<Schema>) =>
  ref(CORE + name, description, extra);
const gvk = (k: string) => ({ group: '', version: 'v1', kind: k });

/** `kind` plus its `<Kind>List`, both under core/v1. */
const coreKind = (k: string, description: string, props: Record<string, Schema>, required?: string[]) =>
  kindAndList(CORE, gvk(k), description, props, required);

function namespaceConfigSecret(): Record<string, Schema> {
  return {
    ...coreKind('Namespace', 'A scope for names; most objects live in one.', {
      spec: c('NamespaceSpec', 'How the namespace behaves.', { default: {} }),
      status: c('NamespaceStatus', 'The observed state of the namespace.', { default: {} }),
    }),
    [`${CORE}NamespaceSpec`]: obj('Namespace spec.', {
      finalizers: strArr('Values that must be removed before the namespace is removed from storage.'),
    }),
    [`${CORE}NamespaceStatus`]: obj('Namespace status.', {
      conditions: conditions(`${CORE}NamespaceCondition`),
      phase: str('Active or Terminating.', { enum: ['Active', 'Terminating'] }),
    }),
    [`${CORE}NamespaceCondition`]: obj(
      'A condition of a namespace.',
      {
        lastTransitionTime: time('When the condition last changed.'),
        message: str('Details.'),
        reason: str('A CamelCase reason.'),
        status: str('True, False or Unknown.'),
        type: str('The condition type.'),
      },
      { required: ['type', 'status'] },
    ),
    ...coreKind('ConfigMap', 'Non-confidential key/value configuration for pods.', {
      binaryData: map({ type: 'string', format: 'byte' }, 'Binary values, base64 encoded.'),
      data: strMap('UTF-8 values.'),
      immutable: bool('When true, data cannot change; only deletion is allowed.'),
    }),
    ...coreKind('Secret', 'Confidential data such as passwords, tokens or keys.', {
      data: map({ type: 'string', format: 'byte' }, 'Secret values, base64 encoded.'),
      immutable: bool('When true, data cannot change; only deletion is allowed.'),
      stringData: strMap('Write-only plain values merged into data on write.'),
      type: str('Used to process the data programmatically; Opaque by default.'),
    }),
    ...coreKind('ServiceAccount', 'An identity for processes running in pods.', {
      automountServiceAccountToken: bool('Whether pods mount a token automatically.'),
      imagePullSecrets: arr(
        c('LocalObjectReference'),
        'Secrets for pulling images of pods using this account.',
        {
          listType: 'atomic',
        },
      ),
      secrets: arr(c('ObjectReference'), 'Secrets pods of this account may use.', { mergeKey: 'name' }),
    }),
    [`${CORE}ObjectReference`]: obj(
      'A reference to any object.',
      {
        apiVersion: str('API version of the referent.'),
        fieldPath: str('A field within the object, such as `spec.containers{name}`.'),
        kind: str('Kind of the referent.'),
        name: str('Name of the referent.'),
        namespace: str('Namespace of the referent.'),
        resourceVersion: str('Resource version of the referent.'),
        uid: str('UID of the referent.'),
      },
      { extra: { 'x-kubernetes-map-type': 'atomic' } },
    ),
  };
}

function serviceSchemas(): Record<string, Schema> {
  return {
    ...coreKind('Service', 'A named abstraction over a set of pods, with a stable virtual IP.', {
      spec: c('ServiceSpec', 'How the service behaves.', { default: {} }),
      status: c('ServiceStatus', 'The observed state of the service.', { default: {} }),
    }),
    [`${CORE}ServiceSpec`]: obj('Service spec.', {
      allocateLoadBalancerNodePorts: bool('Whether node ports are allocated for LoadBalancer services.'),
      clusterIP: str('The virtual IP; allocated when empty, `None` for a headless service.'),
      clusterIPs: strArr('The virtual IPs, one per family.'),
      externalIPs: strArr('IPs outside the cluster that also route to the service.'),
      externalName: str('DNS name returned as a CNAME for ExternalName services.'),
      externalTrafficPolicy: str('Cluster or Local.'),
      healthCheckNodePort: int('Health check port for Local traffic policy.'),
      internalTrafficPolicy: str('Cluster or Local.'),
      ipFamilies: strArr('IPv4 and/or IPv6.'),
      ipFamilyPolicy: str('SingleStack, PreferDualStack or RequireDualStack.'),
      loadBalancerClass: str('The load balancer implementation.'),
      loadBalancerIP: str('Deprecated requested load balancer IP.'),
      loadBalancerSourceRanges: strArr('Client CIDRs allowed through the load balancer.'),
      ports: arr(c('ServicePort'), 'The ports the service exposes.', {
        mergeKey: 'port',
        mapKeys: ['port', 'protocol'],
      }),
      publishNotReadyAddresses: bool('Publish endpoints of pods that are not ready.'),
      selector: strMap('Labels of the pods traffic is routed to.', { 'x-kubernetes-map-type': 'atomic' }),
      sessionAffinity: str('ClientIP or None.', { enum: ['ClientIP', 'None'] }),
      sessionAffinityConfig: c('SessionAffinityConfig', 'Session affinity settings.'),
      trafficDistribution: str('A preference for how traffic is distributed.'),
      type: str('ClusterIP, NodePort, LoadBalancer or ExternalName.', {
        enum: ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'],
      }),
    }),
    [`${CORE}ServicePort`]: obj(
      'A port of a service.',
      {
        appProtocol: str('Application protocol of the port.'),
        name: str('Name of the port; required when there are several.'),
        nodePort: int('Port on every node, for NodePort and LoadBalancer.'),
        port: int('Port the service exposes.'),
        protocol: str('TCP, UDP or SCTP; TCP by default.', { default: 'TCP', enum: ['SCTP', 'TCP', 'UDP'] }),
        targetPort: intOrString('Port number or name on the pods; the same as port by default.'),
      },
      { required: ['port'] },
    ),
    [`${CORE}SessionAffinityConfig`]: obj('Session affinity settings.', {
      clientIP: c('ClientIPConfig', 'ClientIP affinity settings.'),
    }),
    [`${CORE}ClientIPConfig`]: obj('ClientIP affinity settings.', {
      timeoutSeconds: int('Seconds a session sticks; 10800 by default.'),
    }),
    [`${CORE}ServiceStatus`]: obj('Service status.', {
      conditions: conditions(`io.k8s.apimachinery.pkg.apis.meta.v1.Condition`),
      loadBalancer: c('LoadBalancerStatus', 'The load balancer, if any.', { default: {} }),
    }),
    [`${CORE}LoadBalancerStatus`]: obj('Load balancer status.', {
      ingress: arr(c('LoadBalancerIngress'), 'Ingress points of the load balancer.', { listType: 'atomic' }),
    }),
    [`${CORE}LoadBalancerIngress`]: obj('An ingress point.', {
      hostname: str('DNS name.'),
      ip: str('IP address.'),
      ipMode: str('VIP or Proxy.'),
    }),
    ...coreKind('Endpoints', 'The addresses that implement a service.', {
      subsets: arr(c('EndpointSubset'), 'Sets of addresses and ports.', { listType: 'atomic' }),
    }),
    [`${CORE}EndpointSubset`]: obj('Addresses that share ports.', {
      addresses: arr(c('EndpointAddress'), 'Ready addresses.', { listType: 'atomic' }),
      notReadyAddresses: arr(c('EndpointAddress'), 'Addresses not ready yet.', { listType: 'atomic' }),
      ports: arr(c('EndpointPort'), 'The ports.', { listType: 'atomic' }),
    }),
    [`${CORE}EndpointAddress`]: obj(
      'One endpoint address.',
      {
        hostname: str('Hostname of the endpoint.'),
        ip: str('The IP.'),
        nodeName: str('Node hosting the endpoint.'),
        targetRef: c('ObjectReference', 'The object providing the endpoint.'),
      },
      { required: ['ip'], extra: { 'x-kubernetes-map-type': 'atomic' } },
    ),
    [`${CORE}EndpointPort`]: obj(
      'One endpoint port.',
      {
        appProtocol: str('Application protocol.'),
        name: str('Name matching the service port name.'),
        port: int('Port number.'),
        protocol: str('TCP, UDP or SCTP.'),
      },
      { required: ['port'], extra: { 'x-kubernetes-map-type': 'atomic' } },
    ),
  };
}

function eventSchemas(): Record<string, Schema> {
  return {
    ...coreKind(
      'Event',
      'A report of something that happened to an object.',
      {
        action: str('What was done, or failed.'),
        count: int('How many times it occurred.'),
        eventTime: ref(MICRO_TIME, 'When it was first observed, with microseconds.'),
        firstTimestamp: time('When it was first recorded.'),
        involvedObject: c('ObjectReference', 'The object the event is about.'),
        lastTimestamp: time('When it was most recently recorded.'),
        message: str('A human readable description.'),
        reason: str('A short CamelCase reason.'),
        related: c('ObjectReference', 'A second object, if any.'),
        reportingComponent: str('The controller that emitted the event.', { default: '' }),
        reportingInstance: str('The instance of that controller.', { default: '' }),
        series: c('EventSeries', 'Data about a series of events.'),
        source: c('EventSource', 'The component reporting the event.', { default: {} }),
        type: str('Normal or Warning.'),
      },
      ['metadata', 'involvedObject'],
    ),
    [`${CORE}EventSource`]: obj('The origin of an event.', {
      component: str('Component the event comes from.'),
      host: str('Node the event comes from.'),
    }),
    [`${CORE}EventSeries`]: obj('A series of similar events.', {
      count: int('Occurrences in the series.'),
      lastObservedTime: ref(MICRO_TIME, 'Time of the last occurrence.'),
    }),
  };
}

function nodeSchemas(): Record<string, Schema> {
  return {
    ...coreKind('Node', 'A worker machine.', {
      spec: c('NodeSpec', 'How the node behaves.', { default: {} }),
      status: c('NodeStatus', 'The observed state of the node.', { default: {} }),
    }),
    [`${CORE}NodeSpec`]: obj('Node spec.', {
      podCIDR: str('The pod IP range assigned to the node.'),
      podCIDRs: strArr('The pod IP ranges, one per family.', { listType: 'set', patchStrategy: 'merge' }),
      providerID: str('ID of the node at its cloud provider.'),
      taints: arr(c('Taint'), 'Taints that repel pods without a matching toleration.', {
        listType: 'atomic',
      }),
      unschedulable: bool('When true, no new pods are scheduled here.'),
    }),
    [`${CORE}Taint`]: obj(
      'A mark that repels pods.',
      {
        effect: str('NoSchedule, PreferNoSchedule or NoExecute.'),
        key: str('The taint key.'),
        timeAdded: time('When a NoExecute taint was added.'),
        value: str('The taint value.'),
      },
      { required: ['key', 'effect'] },
    ),
    [`${CORE}NodeStatus`]: obj('Node status.', {
      addresses: arr(c('NodeAddress'), 'Addresses of the node.', { mergeKey: 'type', listType: 'atomic' }),
      allocatable: quantityMap('Resources available to pods.'),
      capacity: quantityMap('Total resources of the node.'),
      conditions: conditions(`${CORE}NodeCondition`),
      daemonEndpoints: c('NodeDaemonEndpoints', 'Ports of daemons on the node.', { default: {} }),
      images: arr(c('ContainerImage'), 'Images on the node.', { listType: 'atomic' }),
      nodeInfo: c('NodeSystemInfo', 'Versions and IDs of the node.', { default: {} }),
      phase: str('Deprecated.'),
    }),
    [`${CORE}NodeAddress`]: obj(
      'An address of a node.',
      {
        address: str('The address.'),
        type: str('Hostname, InternalIP, ExternalIP, InternalDNS or ExternalDNS.'),
      },
      { required: ['type', 'address'] },
    ),
    [`${CORE}NodeCondition`]: obj(
      'A condition of a node.',
      {
        lastHeartbeatTime: time('When it was last probed.'),
        lastTransitionTime: time('When it last changed.'),
        message: str('Details.'),
        reason: str('A CamelCase reason.'),
        status: str('True, False or Unknown.'),
        type: str('Ready, MemoryPressure, DiskPressure, PIDPressure, NetworkUnavailable.'),
      },
      { required: ['type', 'status'] },
    ),
    [`${CORE}NodeDaemonEndpoints`]: obj('Daemon ports.', {
      kubeletEndpoint: c('DaemonEndpoint', 'The node agent port.', { default: {} }),
    }),
    [`${CORE}DaemonEndpoint`]: obj('A daemon port.', { Port: int('Port number.') }, { required: ['Port'] }),
    [`${CORE}ContainerImage`]: obj('An image on a node.', {
      names: strArr('Names of the image.'),
      sizeBytes: int64('Size in bytes.'),
    }),
    [`${CORE}NodeSystemInfo`]: obj(
      'Versions and IDs of a node.',
      {
        architecture: str('CPU architecture.'),
        bootID: str('Boot ID.'),
        containerRuntimeVersion: str('Runtime name and version, such as `skiff://0.1.0`.'),
        kernelVersion: str('Kernel version from `uname -r`.'),
        kubeProxyVersion: str('Deprecated.'),
        kubeletVersion: str('Node agent version.'),
        machineID: str('Machine ID.'),
        operatingSystem: str('Operating system.'),
        osImage: str('OS image from /etc/os-release.'),
        systemUUID: str('System UUID.'),
      },
      {
        required: [
          'machineID',
          'systemUUID',
          'bootID',
          'kernelVersion',
          'osImage',
          'containerRuntimeVersion',
          'kubeletVersion',
          'kubeProxyVersion',
          'operatingSystem',
          'architecture',
        ],
      },
    ),
  };
}

function storageSchemas(): Record<string, Schema> {
  return {
    ...coreKind('PersistentVolume', 'A piece of storage provisioned in the cluster.', {
      spec: c('PersistentVolumeSpec', 'The volume.', { default: {} }),
      status: c('PersistentVolumeStatus', 'The observed state.', { default: {} }),
    }),
    [`${CORE}PersistentVolumeSpec`]: obj('A persistent volume.', {
      accessModes: strArr('ReadWriteOnce, ReadOnlyMany, ReadWriteMany or ReadWriteOncePod.'),
      capacity: quantityMap('Size of the volume.'),
      claimRef: c('ObjectReference', 'The claim bound to the volume.'),
      csi: c('CSIPersistentVolumeSource', 'A CSI volume.'),
      hostPath: c('HostPathVolumeSource', 'A host directory (single node only).'),
      local: c('LocalVolumeSource', 'A local disk.'),
      mountOptions: strArr('Mount options.'),
      nfs: c('NFSVolumeSource', 'An NFS export.'),
      nodeAffinity: c('VolumeNodeAffinity', 'Nodes the volume can be used from.'),
      persistentVolumeReclaimPolicy: str('Retain, Recycle or Delete.'),
      storageClassName: str('Class of the volume.'),
      volumeAttributesClassName: str('VolumeAttributesClass of the volume.'),
      volumeMode: str('Filesystem or Block.'),
    }),
    [`${CORE}CSIPersistentVolumeSource`]: obj(
      'A CSI persistent volume.',
      {
        driver: str('Name of the driver.'),
        fsType: str('Filesystem type.'),
        readOnly: bool('Publish read-only.'),
        volumeAttributes: strMap('Driver attributes.'),
        volumeHandle: str('ID of the volume at the driver.'),
      },
      { required: ['driver', 'volumeHandle'] },
    ),
    [`${CORE}LocalVolumeSource`]: obj(
      'A local disk.',
      { fsType: str('Filesystem type.'), path: str('Path on the node.') },
      { required: ['path'] },
    ),
    [`${CORE}VolumeNodeAffinity`]: obj('Nodes a volume is reachable from.', {
      required: c('NodeSelector', 'The nodes.'),
    }),
    [`${CORE}PersistentVolumeStatus`]: obj('Persistent volume status.', {
      lastPhaseTransitionTime: time('When the phase last changed.'),
      message: str('Details.'),
      phase: str('Pending, Available, Bound, Released or Failed.'),
      reason: str('A CamelCase reason.'),
    }),
    ...coreKind('PersistentVolumeClaim', "A user's request for storage.", {
      spec: c('PersistentVolumeClaimSpec', 'The request.', { default: {} }),
      status: c('PersistentVolumeClaimStatus', 'The observed state.', { default: {} }),
    }),
    [`${CORE}PersistentVolumeClaimSpec`]: obj('A storage request.', {
      accessModes: strArr('Desired access modes.'),
      dataSource: c('TypedLocalObjectReference', 'Data to populate the volume from.'),
      resources: c('VolumeResourceRequirements', 'Minimum size of the volume.', { default: {} }),
      selector: labelSelector('Labels of volumes to bind to.'),
      storageClassName: str('Class requested.'),
      volumeMode: str('Filesystem or Block.'),
      volumeName: str('Name of the bound volume.'),
    }),
    [`${CORE}TypedLocalObjectReference`]: obj(
      'A typed reference in the same namespace.',
      { apiGroup: str('API group.'), kind: str('Kind.'), name: str('Name.') },
      { required: ['kind', 'name'], extra: { 'x-kubernetes-map-type': 'atomic' } },
    ),
    [`${CORE}VolumeResourceRequirements`]: obj('Storage size requirements.', {
      limits: quantityMap('Most storage allowed.'),
      requests: quantityMap('Least storage needed.'),
    }),
    [`${CORE}PersistentVolumeClaimStatus`]: obj('Claim status.', {
      accessModes: strArr('Access modes of the bound volume.'),
      capacity: quantityMap('Size of the bound volume.'),
      conditions: conditions(`${CORE}PersistentVolumeClaimCondition`),
      phase: str('Pending, Bound or Lost.'),
    }),
    [`${CORE}PersistentVolumeClaimCondition`]: obj(
      'A condition of a claim.',
      {
        lastProbeTime: time('When last probed.'),
        lastTransitionTime: time('When it last changed.'),
        message: str('Details.'),
        reason: str('A CamelCase reason.'),
        status: str('True, False or Unknown.'),
        type: str('The condition type.'),
      },
      { required: ['type', 'status'] },
    ),
  };
}

function policySchemas(): Record<string, Schema> {
  return {
    ...coreKind('ResourceQuota', 'Limits on aggregate resource use in a namespace.', {
      spec: c('ResourceQuotaSpec', 'The limits.', { default: {} }),
      status: c('ResourceQuotaStatus', 'Current use.', { default: {} }),
    }),
    [`${CORE}ResourceQuotaSpec`]: obj('Quota limits.', {
      hard: quantityMap('Hard limit per resource name.'),
      scopes: strArr('Scopes objects must match to be counted.'),
    }),
    [`${CORE}ResourceQuotaStatus`]: obj('Quota use.', {
      hard: quantityMap('Enforced limits.'),
      used: quantityMap('Current use.'),
    }),
    ...coreKind('LimitRange', 'Default and bounding resource values per object in a namespace.', {
      spec: c('LimitRangeSpec', 'The limits.', { default: {} }),
    }),
    [`${CORE}LimitRangeSpec`]: obj(
      'Limit range spec.',
      { limits: arr(c('LimitRangeItem'), 'The limits.', { listType: 'atomic' }) },
      { required: ['limits'] },
    ),
    [`${CORE}LimitRangeItem`]: obj(
      'Limits for one kind of object.',
      {
        default: quantityMap('Default limits.'),
        defaultRequest: quantityMap('Default requests.'),
        max: quantityMap('Maximum values.'),
        maxLimitRequestRatio: quantityMap('Maximum limit/request ratio.'),
        min: quantityMap('Minimum values.'),
        type: str('Pod, Container or PersistentVolumeClaim.'),
      },
      { required: ['type'] },
    ),
  };
}

export function coreSchemas(): Record<string, Schema> {
  return {
    ...namespaceConfigSecret(),
    ...serviceSchemas(),
    ...eventSchemas(),
    ...nodeSchemas(),
    ...storageSchemas(),
    ...policySchemas(),
  };
}

export { bytes, int, QUANTITY };
