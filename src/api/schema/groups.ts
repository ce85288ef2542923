/**
 * Schemas of the smaller groups: events.k8s.io, coordination, discovery, storage, scheduling,
 * policy, rbac and apiextensions.
 */
import type { Schema } from '../resource.ts';
import { CORE } from './core-pod.ts';
import {
  arr,
  bool,
  CONDITION,
  int,
  int64,
  intOrString,
  kindAndList,
  labelSelector,
  MICRO_TIME,
  obj,
  ref,
  str,
  strArr,
  strMap,
  time,
} from './dsl.ts';

function events(): Record<string, Schema> {
  const P = 'io.k8s.api.events.v1.';
  return {
    ...kindAndList(
      P,
      { group: 'events.k8s.io', version: 'v1', kind: 'Event' },
      'A report of something that happened to an object.',
      {
        action: str('What was done, or failed.'),
        deprecatedCount: int('Count, for compatibility with core/v1 events.'),
        deprecatedFirstTimestamp: time('First timestamp, for compatibility with core/v1 events.'),
        deprecatedLastTimestamp: time('Last timestamp, for compatibility with core/v1 events.'),
        deprecatedSource: ref(`${CORE}EventSource`, 'Source, for compatibility with core/v1 events.'),
        eventTime: ref(MICRO_TIME, 'When the event was first observed.'),
        note: str('A human readable description.'),
        reason: str('A short CamelCase reason.'),
        regarding: ref(`${CORE}ObjectReference`, 'The object the event is about.'),
        related: ref(`${CORE}ObjectReference`, 'A second object, if any.'),
        reportingController: str('The controller that emitted the event.'),
        reportingInstance: str('The instance of that controller.'),
        series: ref(`${P}EventSeries`, 'Data about a series of events.'),
        type: str('Normal or Warning.'),
      },
      ['eventTime'],
    ),
    [`${P}EventSeries`]: obj(
      'A series of similar events.',
      { count: int('Occurrences.'), lastObservedTime: ref(MICRO_TIME, 'Time of the last occurrence.') },
      { required: ['count', 'lastObservedTime'] },
    ),
  };
}

function coordination(): Record<string, Schema> {
  const P = 'io.k8s.api.coordination.v1.';
  return {
    ...kindAndList(
      P,
      { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease' },
      'A lease, for leader election and node heartbeats.',
      {
        spec: ref(`${P}LeaseSpec`, 'The lease.', { default: {} }),
      },
    ),
    [`${P}LeaseSpec`]: obj('A lease.', {
      acquireTime: ref(MICRO_TIME, 'When the current holder acquired the lease.'),
      holderIdentity: str('The current holder.'),
      leaseDurationSeconds: int('Seconds candidates wait before taking the lease over.'),
      leaseTransitions: int('How many times the holder changed.'),
      preferredHolder: str('A holder the lease should pass to.'),
      renewTime: ref(MICRO_TIME, 'When the holder last renewed the lease.'),
      strategy: str('The election strategy.'),
    }),
  };
}

function discovery(): Record<string, Schema> {
  const P = 'io.k8s.api.discovery.v1.';
  return {
    ...kindAndList(
      P,
      { group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice' },
      'A subset of the endpoints of a service.',
      {
        addressType: str('IPv4, IPv6 or FQDN.'),
        endpoints: arr(ref(`${P}Endpoint`), 'The endpoints; at most 1000.', { listType: 'atomic' }),
        ports: arr(ref(`${P}EndpointPort`), 'The ports every endpoint exposes.', { listType: 'atomic' }),
      },
      ['addressType', 'endpoints'],
    ),
    [`${P}Endpoint`]: obj(
      'One endpoint.',
      {
        addresses: strArr('Addresses of the endpoint.', { listType: 'set' }),
        conditions: ref(`${P}EndpointConditions`, 'Readiness of the endpoint.', { default: {} }),
        deprecatedTopology: strMap('Deprecated topology labels.'),
        hints: ref(`${P}EndpointHints`, 'Routing hints.'),
        hostname: str('Hostname of the endpoint.'),
        nodeName: str('Node hosting the endpoint.'),
        targetRef: ref(`${CORE}ObjectReference`, 'The object providing the endpoint.'),
        zone: str('Zone of the endpoint.'),
      },
      { required: ['addresses'] },
    ),
    [`${P}EndpointConditions`]: obj('Endpoint conditions.', {
      ready: bool('Ready to receive traffic.'),
      serving: bool('Serving, regardless of termination.'),
      terminating: bool('Terminating.'),
    }),
    [`${P}EndpointHints`]: obj('Routing hints.', {
      forZones: arr(ref(`${P}ForZone`), 'Zones that should consume the endpoint.', { listType: 'atomic' }),
    }),
    [`${P}ForZone`]: obj('A zone.', { name: str('Zone name.') }, { required: ['name'] }),
    [`${P}EndpointPort`]: obj(
      'A port.',
      {
        appProtocol: str('Application protocol.'),
        name: str('Name matching the service port.'),
        port: int('Port number.'),
        protocol: str('TCP, UDP or SCTP.'),
      },
      { extra: { 'x-kubernetes-map-type': 'atomic' } },
    ),
  };
}

function storage(): Record<string, Schema> {
  const P = 'io.k8s.api.storage.v1.';
  return {
    ...kindAndList(
      P,
      { group: 'storage.k8s.io', version: 'v1', kind: 'StorageClass' },
      'A class of storage that volumes are provisioned from.',
      {
        allowVolumeExpansion: bool('Whether claims of this class may grow.'),
        allowedTopologies: arr(ref(`${CORE}TopologySelectorTerm`), 'Where volumes may be provisioned.', {
          listType: 'atomic',
        }),
        mountOptions: strArr('Mount options of provisioned volumes.'),
        parameters: strMap('Parameters for the provisioner.'),
        provisioner: str('The provisioner (CSI driver) name.'),
        reclaimPolicy: str('Delete or Retain; Delete by default.'),
        volumeBindingMode: str('Immediate or WaitForFirstConsumer; Immediate by default.'),
      },
      ['provisioner'],
    ),
    [`${CORE}TopologySelectorTerm`]: obj('A topology term.', {
      matchLabelExpressions: arr(ref(`${CORE}TopologySelectorLabelRequirement`), 'Requirements.', {
        listType: 'atomic',
      }),
    }),
    [`${CORE}TopologySelectorLabelRequirement`]: obj(
      'A topology label requirement.',
      { key: str('Label key.'), values: strArr('Allowed values.') },
      { required: ['key', 'values'] },
    ),
  };
}

function scheduling(): Record<string, Schema> {
  const P = 'io.k8s.api.scheduling.v1.';
  return kindAndList(
    P,
    { group: 'scheduling.k8s.io', version: 'v1', kind: 'PriorityClass' },
    'A name for a pod priority value.',
    {
      description: str('When to use this priority class.'),
      globalDefault: bool('The default for pods without a priority class; at most one may be true.'),
      preemptionPolicy: str('Never or PreemptLowerPriority; PreemptLowerPriority by default.'),
      value: int('The priority; higher schedules first.'),
    },
    ['value'],
  );
}

function policy(): Record<string, Schema> {
  const P = 'io.k8s.api.policy.v1.';
  return {
    ...kindAndList(
      P,
      { group: 'policy', version: 'v1', kind: 'PodDisruptionBudget' },
      'Limits voluntary disruption of a set of pods.',
      {
        spec: ref(`${P}PodDisruptionBudgetSpec`, 'The budget.', { default: {} }),
        status: ref(`${P}PodDisruptionBudgetStatus`, 'The observed state.', { default: {} }),
      },
    ),
    [`${P}PodDisruptionBudgetSpec`]: obj('A disruption budget.', {
      maxUnavailable: intOrString('Pods that may be unavailable after an eviction.'),
      minAvailable: intOrString('Pods that must stay available after an eviction.'),
      selector: labelSelector('The pods covered.'),
      unhealthyPodEvictionPolicy: str('IfHealthyBudget or AlwaysAllow.'),
    }),
    [`${P}PodDisruptionBudgetStatus`]: obj(
      'Observed state of a budget.',
      {
        conditions: arr(ref(CONDITION), 'The latest observations.', { mergeKey: 'type' }),
        currentHealthy: int('Healthy pods.'),
        desiredHealthy: int('Healthy pods needed.'),
        disruptedPods: {
          type: 'object',
          additionalProperties: ref('io.k8s.apimachinery.pkg.apis.meta.v1.Time'),
          description: 'Pods being evicted, with the time.',
        },
        disruptionsAllowed: int('Evictions allowed now.'),
        expectedPods: int('Pods covered.'),
        observedGeneration: int64('The generation last acted on.'),
      },
      { required: ['disruptionsAllowed', 'currentHealthy', 'desiredHealthy', 'expectedPods'] },
    ),
  };
}

function rbac(): Record<string, Schema> {
  const P = 'io.k8s.api.rbac.v1.';
  const g = (k: string) => ({ group: 'rbac.authorization.k8s.io', version: 'v1', kind: k });
  const rules = arr(ref(`${P}PolicyRule`), 'The rules.', { listType: 'atomic' });
  const binding = {
    roleRef: ref(`${P}RoleRef`, 'The role granted; cannot change.'),
    subjects: arr(ref(`${P}Subject`), 'Who the role is granted to.', { listType: 'atomic' }),
  };
  return {
    ...kindAndList(P, g('Role'), 'Namespaced permissions.', { rules }),
    ...kindAndList(P, g('ClusterRole'), 'Cluster-wide permissions.', {
      aggregationRule: ref(`${P}AggregationRule`, 'Builds the rules from other cluster roles.'),
      rules,
    }),
    ...kindAndList(P, g('RoleBinding'), 'Grants a role within a namespace.', binding, ['roleRef']),
    ...kindAndList(P, g('ClusterRoleBinding'), 'Grants a cluster role cluster-wide.', binding, ['roleRef']),
    [`${P}PolicyRule`]: obj(
      'Verbs allowed on resources or URLs.',
      {
        apiGroups: strArr('API groups; `*` for all.'),
        nonResourceURLs: strArr('URL paths, for cluster roles.'),
        resourceNames: strArr('Object names; all when empty.'),
        resources: strArr('Resources; `*` for all.'),
        verbs: strArr('Verbs; `*` for all.'),
      },
      { required: ['verbs'] },
    ),
    [`${P}AggregationRule`]: obj('Selects cluster roles to aggregate.', {
      clusterRoleSelectors: arr(ref('io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector'), 'Selectors.', {
        listType: 'atomic',
      }),
    }),
    [`${P}RoleRef`]: obj(
      'The role a binding grants.',
      {
        apiGroup: str('Group of the role.'),
        kind: str('Role or ClusterRole.'),
        name: str('Name of the role.'),
      },
      { required: ['apiGroup', 'kind', 'name'], extra: { 'x-kubernetes-map-type': 'atomic' } },
    ),
    [`${P}Subject`]: obj(
      'A user, group or service account.',
      {
        apiGroup: str('Group of the subject kind.'),
        kind: str('User, Group or ServiceAccount.'),
        name: str('Name of the subject.'),
        namespace: str('Namespace, for service accounts.'),
      },
      { required: ['kind', 'name'], extra: { 'x-kubernetes-map-type': 'atomic' } },
    ),
  };
}

function apiextensions(): Record<string, Schema> {
  const P = 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.';
  return {
    ...kindAndList(
      P,
      { group: 'apiextensions.k8s.io', version: 'v1', kind: 'CustomResourceDefinition' },
      'Defines a custom resource served by the API server.',
      {
        spec: ref(`${P}CustomResourceDefinitionSpec`, 'The resource.', { default: {} }),
        status: ref(`${P}CustomResourceDefinitionStatus`, 'The observed state.', { default: {} }),
      },
      ['spec'],
    ),
    [`${P}CustomResourceDefinitionSpec`]: obj(
      'A custom resource.',
      {
        conversion: ref(`${P}CustomResourceConversion`, 'How versions convert.'),
        group: str('The API group.'),
        names: ref(`${P}CustomResourceDefinitionNames`, 'The names.'),
        preserveUnknownFields: bool('Deprecated; must be false.'),
        scope: str('Cluster or Namespaced.'),
        versions: arr(ref(`${P}CustomResourceDefinitionVersion`), 'The served versions.', {
          listType: 'atomic',
        }),
      },
      { required: ['group', 'names', 'scope', 'versions'] },
    ),
    [`${P}CustomResourceConversion`]: obj(
      'Version conversion.',
      {
        strategy: str('None or Webhook.'),
        webhook: {
          type: 'object',
          description: 'Webhook settings.',
          'x-kubernetes-preserve-unknown-fields': true,
        },
      },
      { required: ['strategy'] },
    ),
    [`${P}CustomResourceDefinitionNames`]: obj(
      'Names of a custom resource.',
      {
        categories: strArr('Categories, such as `all`.'),
        kind: str('The kind, in CamelCase.'),
        listKind: str('The list kind; <kind>List by default.'),
        plural: str('The plural resource name.'),
        shortNames: strArr('Short names.'),
        singular: str('The singular name; the lower-cased kind by default.'),
      },
      { required: ['plural', 'kind'] },
    ),
    [`${P}CustomResourceDefinitionVersion`]: obj(
      'One version of a custom resource.',
      {
        additionalPrinterColumns: arr(ref(`${P}CustomResourceColumnDefinition`), 'Table columns.', {
          listType: 'atomic',
        }),
        deprecated: bool('Whether the version is deprecated.'),
        deprecationWarning: str('Warning returned to clients.'),
        name: str('The version name, such as v1.'),
        schema: ref(`${P}CustomResourceValidation`, 'The schema.'),
        selectableFields: arr(ref(`${P}SelectableField`), 'Fields usable in field selectors.', {
          listType: 'atomic',
        }),
        served: bool('Whether the version is served.'),
        storage: bool('Whether objects are stored in this version; exactly one.'),
        subresources: ref(`${P}CustomResourceSubresources`, 'Status and scale.'),
      },
      { required: ['name', 'served', 'storage'] },
    ),
    [`${P}CustomResourceColumnDefinition`]: obj(
      'A table column.',
      {
        description: str('Description.'),
        format: str('Format.'),
        jsonPath: str('JSON path of the value.'),
        name: str('Column name.'),
        priority: int('0 shows by default.'),
        type: str('OpenAPI type.'),
      },
      { required: ['name', 'type', 'jsonPath'] },
    ),
    [`${P}SelectableField`]: obj(
      'A selectable field.',
      { jsonPath: str('JSON path.') },
      { required: ['jsonPath'] },
    ),
    [`${P}CustomResourceValidation`]: obj('A schema.', {
      openAPIV3Schema: {
        type: 'object',
        description: 'The OpenAPI v3 schema.',
        'x-kubernetes-preserve-unknown-fields': true,
      },
    }),
    [`${P}CustomResourceSubresources`]: obj('Subresources.', {
      scale: ref(`${P}CustomResourceSubresourceScale`, 'The scale subresource.'),
      status: {
        type: 'object',
        description: 'The status subresource.',
        'x-kubernetes-preserve-unknown-fields': true,
      },
    }),
    [`${P}CustomResourceSubresourceScale`]: obj(
      'The scale subresource.',
      {
        labelSelectorPath: str('JSON path of the selector.'),
        specReplicasPath: str('JSON path of the desired replicas.'),
        statusReplicasPath: str('JSON path of the observed replicas.'),
      },
      { required: ['specReplicasPath', 'statusReplicasPath'] },
    ),
    [`${P}CustomResourceDefinitionStatus`]: obj('Observed state of a CRD.', {
      acceptedNames: ref(`${P}CustomResourceDefinitionNames`, 'Names in use.'),
      conditions: arr(ref(`${P}CustomResourceDefinitionCondition`), 'Conditions.', { mergeKey: 'type' }),
      storedVersions: strArr('Versions ever stored.'),
    }),
    [`${P}CustomResourceDefinitionCondition`]: obj(
      'A condition of a CRD.',
      {
        lastTransitionTime: time('When it last changed.'),
        message: str('Details.'),
        reason: str('A CamelCase reason.'),
        status: str('True, False or Unknown.'),
        type: str('Established, NamesAccepted, ...'),
      },
      { required: ['type', 'status'] },
    ),
  };
}

export function groupSchemas(): Record<string, Schema> {
  return {
    ...events(),
    ...coordination(),
    ...discovery(),
    ...storage(),
    ...scheduling(),
    ...policy(),
    ...rbac(),
    ...apiextensions(),
  };
}
