/**
 * Fixtures for the kinds added after the first round: core/v1 PodTemplate and ReplicationController,
 * networking.k8s.io, the CSI kinds of storage.k8s.io, autoscaling/v2 and apiextensions.k8s.io.
 * Same rule as fixtures.ts: the exact JSON Kubernetes' Go types give for the object.
 */
import type { KubeObject } from '../resource.ts';

const at = '2024-01-02T03:04:05Z';

const meta = (name: string, namespace?: string) => ({
  name,
  ...(namespace ? { namespace } : {}),
  uid: '0b5a2f7e-2222-4c3b-9d1e-0a1b2c3d4e5f',
  resourceVersion: '77',
  generation: 2,
  creationTimestamp: at,
  labels: { app: name },
});

const podTemplate = {
  metadata: { labels: { app: 'web' } },
  spec: {
    containers: [{ name: 'web', image: 'nginx:1.27', resources: {}, imagePullPolicy: 'IfNotPresent' }],
    restartPolicy: 'Always',
    dnsPolicy: 'ClusterFirst',
  },
};

const core: KubeObject[] = [
  {
    kind: 'PodTemplate',
    apiVersion: 'v1',
    metadata: meta('web-template', 'default'),
    template: podTemplate,
  },
  {
    kind: 'PodTemplateList',
    apiVersion: 'v1',
    metadata: { resourceVersion: '78' },
    items: [{ metadata: meta('empty', 'default'), template: { metadata: {}, spec: { containers: null } } }],
  },
  {
    kind: 'ReplicationController',
    apiVersion: 'v1',
    metadata: meta('web-rc', 'default'),
    spec: { replicas: 0, minReadySeconds: 5, selector: { app: 'web' }, template: podTemplate },
    status: {
      replicas: 2,
      fullyLabeledReplicas: 2,
      readyReplicas: 1,
      availableReplicas: 1,
      observedGeneration: 2,
      conditions: [
        { type: 'ReplicaFailure', status: 'True', lastTransitionTime: at, reason: 'FailedCreate' },
      ],
    },
  },
  {
    kind: 'ReplicationControllerList',
    apiVersion: 'v1',
    metadata: {},
    items: [{ metadata: meta('bare', 'default'), spec: {}, status: { replicas: 0 } }],
  },
];

const networking: KubeObject[] = [
  {
    kind: 'NetworkPolicy',
    apiVersion: 'networking.k8s.io/v1',
    metadata: meta('web-allow', 'default'),
    spec: {
      podSelector: { matchLabels: { app: 'web' } },
      ingress: [
        {
          ports: [
            { protocol: 'TCP', port: 80 },
            { protocol: 'TCP', port: 8000, endPort: 9000 },
            { port: 'http' },
          ],
          from: [
            { podSelector: { matchLabels: { role: 'frontend' } } },
            { namespaceSelector: {}, podSelector: { matchLabels: { role: 'probe' } } },
            { ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } },
          ],
        },
      ],
      egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }] }, {}],
      policyTypes: ['Ingress', 'Egress'],
    },
  },
  {
    kind: 'NetworkPolicyList',
    apiVersion: 'networking.k8s.io/v1',
    metadata: { resourceVersion: '80', continue: 'next' },
    items: [{ metadata: meta('deny-all', 'default'), spec: { podSelector: {} } }],
  },
  {
    kind: 'Ingress',
    apiVersion: 'networking.k8s.io/v1',
    metadata: meta('web', 'default'),
    spec: {
      ingressClassName: 'skiff',
      defaultBackend: { resource: { apiGroup: 'k8s.example.com', kind: 'StorageBucket', name: 'static' } },
      tls: [{ hosts: ['a.example.com', 'b.example.com'], secretName: 'web-tls' }],
      rules: [
        {
          host: 'a.example.com',
          http: {
            paths: [
              { path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } },
              {
                path: '/api',
                pathType: 'Exact',
                backend: { service: { name: 'api', port: { name: 'http' } } },
              },
            ],
          },
        },
        {
          http: {
            paths: [{ pathType: 'ImplementationSpecific', backend: { service: { name: 'x', port: {} } } }],
          },
        },
        { host: '*.example.com' },
      ],
    },
    status: {
      loadBalancer: {
        ingress: [
          { ip: '10.0.0.9', ports: [{ port: 443, protocol: 'TCP', error: 'Pending' }] },
          { hostname: 'lb.example.com' },
        ],
      },
    },
  },
  {
    kind: 'IngressList',
    apiVersion: 'networking.k8s.io/v1',
    metadata: {},
    items: [{ metadata: meta('bare', 'default'), spec: {}, status: { loadBalancer: {} } }],
  },
  {
    kind: 'IngressClass',
    apiVersion: 'networking.k8s.io/v1',
    metadata: {
      ...meta('skiff'),
      annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' },
    },
    spec: {
      controller: 'skiff.dev/ingress',
      parameters: {
        apiGroup: 'k8s.example.com',
        kind: 'IngressParameters',
        name: 'params',
        scope: 'Namespace',
        namespace: 'ops',
      },
    },
  },
  {
    kind: 'IngressClassList',
    apiVersion: 'networking.k8s.io/v1',
    metadata: { resourceVersion: '81' },
    items: [{ metadata: meta('plain'), spec: { parameters: { kind: 'Params', name: 'p' } } }],
  },
];

const storage: KubeObject[] = [
  {
    kind: 'CSIDriver',
    apiVersion: 'storage.k8s.io/v1',
    metadata: meta('hostpath.csi.skiff.dev'),
    spec: {
      attachRequired: false,
      podInfoOnMount: true,
      volumeLifecycleModes: ['Persistent', 'Ephemeral'],
      storageCapacity: false,
      fsGroupPolicy: 'File',
      tokenRequests: [{ audience: 'vault', expirationSeconds: 600 }, { audience: '' }],
      requiresRepublish: false,
      seLinuxMount: true,
    },
  },
  {
    kind: 'CSIDriverList',
    apiVersion: 'storage.k8s.io/v1',
    metadata: {},
    items: [{ metadata: meta('bare.csi'), spec: {} }],
  },
  {
    kind: 'CSINode',
    apiVersion: 'storage.k8s.io/v1',
    metadata: {
      ...meta('node-1'),
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'node-1', uid: 'n-1' }],
    },
    spec: {
      drivers: [
        {
          name: 'hostpath.csi.skiff.dev',
          nodeID: 'node-1',
          topologyKeys: ['topology.kubernetes.io/zone'],
          allocatable: { count: 0 },
        },
        { name: 'other.csi', nodeID: '', topologyKeys: null },
      ],
    },
  },
  {
    kind: 'CSINodeList',
    apiVersion: 'storage.k8s.io/v1',
    metadata: { resourceVersion: '90' },
    items: [{ metadata: meta('node-2'), spec: { drivers: null } }],
  },
  {
    kind: 'VolumeAttachment',
    apiVersion: 'storage.k8s.io/v1',
    metadata: meta('csi-0123'),
    spec: {
      attacher: 'hostpath.csi.skiff.dev',
      source: { persistentVolumeName: 'pv-1' },
      nodeName: 'node-1',
    },
    status: {
      attached: true,
      attachmentMetadata: { devicePath: '/dev/sdb' },
      detachError: { time: at, message: 'device busy', errorCode: 16 },
    },
  },
  {
    kind: 'VolumeAttachmentList',
    apiVersion: 'storage.k8s.io/v1',
    metadata: {},
    items: [
      {
        metadata: meta('csi-inline'),
        spec: {
          attacher: 'ebs.csi.aws.com',
          source: {
            inlineVolumeSpec: {
              capacity: { storage: '5Gi' },
              csi: { driver: 'ebs.csi.aws.com', volumeHandle: 'vol-1', fsType: 'ext4' },
              accessModes: ['ReadWriteOnce'],
              persistentVolumeReclaimPolicy: 'Retain',
            },
          },
          nodeName: 'node-2',
        },
        status: { attached: false, attachError: { time: null, message: 'timeout' } },
      },
    ],
  },
  {
    kind: 'CSIStorageCapacity',
    apiVersion: 'storage.k8s.io/v1',
    metadata: { ...meta('csisc-abc', 'kube-system'), generateName: 'csisc-' },
    nodeTopology: { matchLabels: { 'topology.kubernetes.io/zone': 'zone-a' } },
    storageClassName: 'standard',
    capacity: '100Gi',
    maximumVolumeSize: '10Gi',
  },
  {
    kind: 'CSIStorageCapacityList',
    apiVersion: 'storage.k8s.io/v1',
    metadata: {},
    items: [{ metadata: meta('csisc-empty', 'kube-system'), storageClassName: '', capacity: '0' }],
  },
];

const autoscaling: KubeObject[] = [
  {
    kind: 'HorizontalPodAutoscaler',
    apiVersion: 'autoscaling/v2',
    metadata: meta('web', 'default'),
    spec: {
      scaleTargetRef: { kind: 'Deployment', name: 'web', apiVersion: 'apps/v1' },
      minReplicas: 1,
      maxReplicas: 10,
      metrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } },
        },
        {
          type: 'Pods',
          pods: {
            metric: { name: 'requests_per_second' },
            target: { type: 'AverageValue', averageValue: '1k' },
          },
        },
        {
          type: 'Object',
          object: {
            describedObject: { kind: 'Ingress', name: 'main', apiVersion: 'networking.k8s.io/v1' },
            target: { type: 'Value', value: '10k' },
            metric: { name: 'requests', selector: { matchLabels: { verb: 'GET' } } },
          },
        },
        {
          type: 'External',
          external: { metric: { name: 'queue_depth' }, target: { type: 'AverageValue', averageValue: '30' } },
        },
        {
          type: 'ContainerResource',
          containerResource: {
            name: 'memory',
            target: { type: 'Utilization', averageUtilization: 0 },
            container: 'app',
          },
        },
      ],
      behavior: {
        scaleUp: {
          stabilizationWindowSeconds: 0,
          selectPolicy: 'Max',
          policies: [
            { type: 'Percent', value: 100, periodSeconds: 15 },
            { type: 'Pods', value: 4, periodSeconds: 15 },
          ],
        },
        scaleDown: {
          stabilizationWindowSeconds: 300,
          policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
        },
      },
    },
    status: {
      observedGeneration: 2,
      lastScaleTime: at,
      currentReplicas: 2,
      desiredReplicas: 3,
      currentMetrics: [
        {
          type: 'Resource',
          resource: { name: 'cpu', current: { averageValue: '250m', averageUtilization: 85 } },
        },
        {
          type: 'Object',
          object: {
            metric: { name: 'requests' },
            current: { value: '12k' },
            describedObject: { kind: 'Ingress', name: 'main', apiVersion: 'networking.k8s.io/v1' },
          },
        },
      ],
      conditions: [
        {
          type: 'AbleToScale',
          status: 'True',
          lastTransitionTime: at,
          reason: 'SucceededRescale',
          message: 'the HPA controller was able to update the target scale to 3',
        },
      ],
    },
  },
  {
    kind: 'HorizontalPodAutoscalerList',
    apiVersion: 'autoscaling/v2',
    metadata: { resourceVersion: '120' },
    items: [
      {
        metadata: meta('fresh', 'default'),
        spec: { scaleTargetRef: { kind: 'StatefulSet', name: 'db' }, maxReplicas: 3 },
        status: { desiredReplicas: 0, currentMetrics: null },
      },
    ],
  },
];

const widgetSchema = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['size'],
      properties: {
        size: { type: 'integer', format: 'int32', default: 3, maximum: 10.5, minimum: 1 },
        color: {
          type: 'string',
          pattern: '^[a-z]+$',
          enum: ['red', 'blue', null],
          maxLength: 20,
          minLength: 0,
        },
        tags: {
          type: 'array',
          maxItems: 5,
          uniqueItems: true,
          items: { type: 'string' },
          'x-kubernetes-list-type': 'set',
        },
        pair: { type: 'array', items: [{ type: 'string' }, { type: 'integer' }] },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        closed: { type: 'object', additionalProperties: false },
        free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        port: { anyOf: [{ type: 'integer' }, { type: 'string' }], 'x-kubernetes-int-or-string': true },
        template: {
          type: 'object',
          'x-kubernetes-preserve-unknown-fields': false,
          'x-kubernetes-embedded-resource': true,
        },
        ports: {
          type: 'array',
          items: {
            type: 'object',
            required: ['name'],
            properties: { name: { type: 'string' }, port: { type: 'integer', multipleOf: 2 } },
          },
          'x-kubernetes-list-map-keys': ['name'],
          'x-kubernetes-list-type': 'map',
        },
        selector: { type: 'object', 'x-kubernetes-map-type': 'atomic', example: { app: 'web' } },
      },
      dependencies: { color: ['size'], tags: { required: ['labels'] } },
      'x-kubernetes-validations': [
        { rule: 'self.size > 0', message: 'size must be positive' },
        {
          rule: 'self.tags == oldSelf.tags',
          messageExpression: "'tags are immutable'",
          reason: 'FieldValueForbidden',
          fieldPath: '.tags',
          optionalOldSelf: false,
        },
      ],
    },
    status: { type: 'object', description: 'observed state', nullable: true },
  },
};

const apiextensions: KubeObject[] = [
  {
    kind: 'CustomResourceDefinition',
    apiVersion: 'apiextensions.k8s.io/v1',
    metadata: meta('widgets.example.com'),
    spec: {
      group: 'example.com',
      names: {
        plural: 'widgets',
        singular: 'widget',
        shortNames: ['wd'],
        kind: 'Widget',
        listKind: 'WidgetList',
        categories: ['all'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: widgetSchema },
          subresources: {
            status: {},
            scale: {
              specReplicasPath: '.spec.replicas',
              statusReplicasPath: '.status.replicas',
              labelSelectorPath: '.status.selector',
            },
          },
          additionalPrinterColumns: [
            {
              name: 'Size',
              type: 'integer',
              format: 'int32',
              description: 'the size',
              priority: 1,
              jsonPath: '.spec.size',
            },
          ],
          selectableFields: [{ jsonPath: '.spec.color' }],
        },
        {
          name: 'v1beta1',
          served: false,
          storage: false,
          deprecated: true,
          deprecationWarning: 'example.com/v1beta1 Widget is deprecated; use v1',
          schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
        },
      ],
      conversion: {
        strategy: 'Webhook',
        webhook: {
          clientConfig: {
            service: { namespace: 'ops', name: 'convert', path: '/convert', port: 443 },
            caBundle: 'AAECAw==',
          },
          conversionReviewVersions: ['v1'],
        },
      },
    },
    status: {
      conditions: [
        {
          type: 'Established',
          status: 'True',
          lastTransitionTime: at,
          reason: 'InitialNamesAccepted',
          message: 'the initial names have been accepted',
        },
      ],
      acceptedNames: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
      storedVersions: ['v1'],
    },
  },
  {
    kind: 'CustomResourceDefinitionList',
    apiVersion: 'apiextensions.k8s.io/v1',
    metadata: { resourceVersion: '130' },
    items: [
      {
        metadata: meta('gadgets.example.com'),
        spec: {
          group: 'example.com',
          names: { plural: 'gadgets', kind: 'Gadget' },
          scope: 'Cluster',
          versions: [{ name: 'v1', served: true, storage: true }],
          conversion: { strategy: 'None' },
          preserveUnknownFields: true,
        },
        status: { conditions: null, acceptedNames: { plural: '', kind: '' }, storedVersions: null },
      },
    ],
  },
];

const reviews: KubeObject[] = [
  {
    kind: 'TokenReview',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: {},
    spec: { token: 'eyJhbGciOi', audiences: ['https://kubernetes.default.svc'] },
    status: {
      authenticated: true,
      user: {
        username: 'system:serviceaccount:default:builder',
        uid: 'sa-1',
        groups: ['system:serviceaccounts', 'system:authenticated'],
        extra: { 'authentication.kubernetes.io/pod-name': ['web-0'] },
      },
      audiences: ['https://kubernetes.default.svc'],
    },
  },
  {
    kind: 'SelfSubjectReview',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { creationTimestamp: at },
    status: { userInfo: { username: 'kubernetes-admin', groups: ['kubeadm:cluster-admins'] } },
  },
  {
    kind: 'LocalSubjectAccessReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: { namespace: 'default' },
    spec: {
      resourceAttributes: {
        namespace: 'default',
        verb: 'list',
        group: 'apps',
        resource: 'deployments',
        labelSelector: { rawSelector: 'app=web' },
      },
      user: 'bob',
      groups: ['devs'],
    },
    status: { allowed: false, denied: true, reason: 'no RBAC policy matched' },
  },
  {
    kind: 'SelfSubjectRulesReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: {},
    spec: { namespace: 'default' },
    status: {
      resourceRules: [
        { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] },
        { verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectrulesreviews'] },
      ],
      nonResourceRules: [{ verbs: ['get'], nonResourceURLs: ['/healthz', '/version'] }],
      incomplete: false,
    },
  },
];

export const GROUP_FIXTURES: KubeObject[] = [
  ...core,
  ...networking,
  ...storage,
  ...autoscaling,
  ...apiextensions,
  ...reviews,
];
