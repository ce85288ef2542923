/**
 * Realistic objects of every kind the codec serves, written in the exact JSON form Kubernetes'
 * Go types produce (fields without omitempty present, pointers kept even at zero). Shared by the
 * round-trip tests and usable by benchmarks.
 */
import type { KubeObject } from '../resource.ts';
import { GROUP_FIXTURES } from './fixtures-groups.ts';
import { isProtobufKind } from './object.ts';

const meta = (name: string, namespace?: string) => ({
  name,
  ...(namespace ? { namespace } : {}),
  uid: '6f1c2a34-1111-4c3b-9d1e-0a1b2c3d4e5f',
  resourceVersion: '42',
  generation: 3,
  creationTimestamp: '2024-01-02T03:04:05Z',
  labels: { app: name },
  annotations: { 'example.com/note': 'hello' },
});

const podSpec = {
  volumes: [
    { name: 'data', emptyDir: { sizeLimit: '1Gi' } },
    {
      name: 'cfg',
      configMap: { name: 'cfg', items: [{ key: 'a', path: 'a.txt', mode: 0 }], defaultMode: 420 },
    },
    { name: 'host', hostPath: { path: '/var/log', type: 'Directory' } },
  ],
  containers: [
    {
      name: 'web',
      image: 'nginx:1.27',
      command: ['nginx'],
      args: ['-g', 'daemon off;'],
      ports: [{ name: 'http', containerPort: 80, protocol: 'TCP' }],
      env: [
        { name: 'EMPTY' },
        { name: 'POD', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
      ],
      resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '100m', memory: '64Mi' } },
      volumeMounts: [
        { name: 'data', mountPath: '/data' },
        { name: 'cfg', readOnly: true, mountPath: '/etc/cfg' },
      ],
      livenessProbe: {
        httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP' },
        initialDelaySeconds: 5,
        timeoutSeconds: 1,
        periodSeconds: 10,
        successThreshold: 1,
        failureThreshold: 3,
      },
      readinessProbe: { tcpSocket: { port: 80 }, periodSeconds: 2 },
      terminationMessagePath: '/dev/termination-log',
      terminationMessagePolicy: 'File',
      imagePullPolicy: 'IfNotPresent',
      securityContext: { runAsUser: 0, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    },
  ],
  restartPolicy: 'Always',
  terminationGracePeriodSeconds: 30,
  dnsPolicy: 'ClusterFirst',
  nodeSelector: { 'kubernetes.io/os': 'linux' },
  serviceAccountName: 'default',
  serviceAccount: 'default',
  nodeName: 'node-1',
  securityContext: { runAsNonRoot: true, supplementalGroups: [1000, 2000], fsGroup: 2000 },
  affinity: {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        {
          weight: 100,
          podAffinityTerm: {
            labelSelector: { matchLabels: { app: 'web' } },
            topologyKey: 'kubernetes.io/hostname',
          },
        },
      ],
    },
  },
  schedulerName: 'default-scheduler',
  tolerations: [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  ],
  priority: 0,
  enableServiceLinks: true,
  preemptionPolicy: 'PreemptLowerPriority',
};

const template = { metadata: { labels: { app: 'web' } }, spec: podSpec };
const selector = {
  matchLabels: { app: 'web' },
  matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }],
};

export const FIXTURES: KubeObject[] = [
  {
    kind: 'Namespace',
    apiVersion: 'v1',
    metadata: meta('team-a'),
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  },
  {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: {
      ...meta('web-0', 'default'),
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: 'web-abc',
          uid: 'u-1',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
      finalizers: ['example.com/f'],
      managedFields: [
        {
          manager: 'kubectl',
          operation: 'Update',
          apiVersion: 'v1',
          time: '2024-01-02T03:04:05Z',
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } } },
        },
      ],
    },
    spec: podSpec,
    status: {
      phase: 'Running',
      conditions: [
        { type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: '2024-01-02T03:04:06Z' },
      ],
      hostIP: '10.0.0.1',
      hostIPs: [{ ip: '10.0.0.1' }],
      podIP: '10.244.0.5',
      podIPs: [{ ip: '10.244.0.5' }],
      startTime: '2024-01-02T03:04:05Z',
      containerStatuses: [
        {
          name: 'web',
          state: { running: { startedAt: '2024-01-02T03:04:06Z' } },
          lastState: { terminated: { exitCode: 0, reason: 'Completed', startedAt: null, finishedAt: null } },
          ready: true,
          restartCount: 0,
          image: 'nginx:1.27',
          imageID: 'sha256:abc',
          containerID: 'containerd://123',
          started: true,
        },
      ],
      qosClass: 'Burstable',
    },
  },
  {
    kind: 'ConfigMap',
    apiVersion: 'v1',
    metadata: meta('cfg', 'default'),
    data: { 'a.txt': 'hello\nworld', empty: '' },
    binaryData: { bin: 'AAECAwT/' },
    immutable: false,
  },
  {
    kind: 'Secret',
    apiVersion: 'v1',
    metadata: meta('creds', 'default'),
    data: { password: 'c2VjcmV0', blank: '' },
    type: 'Opaque',
  },
  {
    kind: 'Service',
    apiVersion: 'v1',
    metadata: meta('web', 'default'),
    spec: {
      ports: [
        { name: 'http', protocol: 'TCP', port: 80, targetPort: 'http', nodePort: 30080 },
        { name: 'zero', protocol: 'UDP', port: 53, targetPort: 0 },
      ],
      selector: { app: 'web' },
      clusterIP: '10.96.0.10',
      clusterIPs: ['10.96.0.10'],
      type: 'NodePort',
      sessionAffinity: 'None',
      externalTrafficPolicy: 'Cluster',
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      internalTrafficPolicy: 'Cluster',
    },
    status: {
      loadBalancer: { ingress: [{ ip: '1.2.3.4', ports: [{ port: 80, protocol: 'TCP', error: 'x' }] }] },
    },
  },
  {
    kind: 'Endpoints',
    apiVersion: 'v1',
    metadata: meta('web', 'default'),
    subsets: [
      {
        addresses: [
          {
            ip: '10.244.0.5',
            nodeName: 'node-1',
            targetRef: { kind: 'Pod', namespace: 'default', name: 'web-0', uid: 'u' },
          },
        ],
        notReadyAddresses: [{ ip: '10.244.0.6' }],
        ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
      },
    ],
  },
  {
    kind: 'Event',
    apiVersion: 'v1',
    metadata: meta('web-0.17a', 'default'),
    involvedObject: {
      kind: 'Pod',
      namespace: 'default',
      name: 'web-0',
      uid: 'u',
      apiVersion: 'v1',
      resourceVersion: '5',
    },
    reason: 'Scheduled',
    message: 'Successfully assigned default/web-0 to node-1',
    source: { component: 'default-scheduler' },
    firstTimestamp: null,
    lastTimestamp: null,
    count: 1,
    type: 'Normal',
    eventTime: '2024-01-02T03:04:05.123456Z',
    action: 'Binding',
    reportingComponent: 'default-scheduler',
    reportingInstance: 'default-scheduler-node-1',
  },
  {
    kind: 'Node',
    apiVersion: 'v1',
    metadata: meta('node-1'),
    spec: {
      podCIDR: '10.244.0.0/24',
      podCIDRs: ['10.244.0.0/24'],
      taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }],
    },
    status: {
      capacity: { cpu: '2', memory: '4019860Ki', pods: '110' },
      allocatable: { cpu: '2', memory: '3917460Ki', pods: '110' },
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          lastHeartbeatTime: '2024-01-02T03:04:05Z',
          lastTransitionTime: '2024-01-02T03:04:05Z',
          reason: 'KubeletReady',
          message: 'ready',
        },
      ],
      addresses: [
        { type: 'InternalIP', address: '10.0.0.1' },
        { type: 'Hostname', address: 'node-1' },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: 'm',
        systemUUID: 's',
        bootID: 'b',
        kernelVersion: '6.1.0',
        osImage: 'Debian GNU/Linux 12',
        containerRuntimeVersion: 'skiff://0.1',
        kubeletVersion: 'v1.32.0',
        kubeProxyVersion: '',
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
      images: [{ names: ['nginx:1.27'], sizeBytes: 71000000 }],
    },
  },
  {
    kind: 'ServiceAccount',
    apiVersion: 'v1',
    metadata: meta('builder', 'default'),
    secrets: [{ name: 'builder-token' }],
    imagePullSecrets: [{ name: 'regcred' }],
    automountServiceAccountToken: false,
  },
  {
    kind: 'PersistentVolume',
    apiVersion: 'v1',
    metadata: meta('pv-1'),
    spec: {
      capacity: { storage: '10Gi' },
      hostPath: { path: '/srv/pv-1', type: '' },
      accessModes: ['ReadWriteOnce'],
      claimRef: { kind: 'PersistentVolumeClaim', namespace: 'default', name: 'data' },
      persistentVolumeReclaimPolicy: 'Delete',
      storageClassName: 'standard',
      volumeMode: 'Filesystem',
    },
    status: { phase: 'Bound', lastPhaseTransitionTime: '2024-01-02T03:04:05Z' },
  },
  {
    kind: 'PersistentVolumeClaim',
    apiVersion: 'v1',
    metadata: meta('data', 'default'),
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: '10Gi' } },
      volumeName: 'pv-1',
      storageClassName: '',
      volumeMode: 'Filesystem',
    },
    status: { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '10Gi' } },
  },
  {
    kind: 'ResourceQuota',
    apiVersion: 'v1',
    metadata: meta('q', 'default'),
    spec: { hard: { pods: '10', 'requests.cpu': '1500m' }, scopes: ['NotTerminating'] },
    status: { hard: { pods: '10', 'requests.cpu': '1500m' }, used: { pods: '0', 'requests.cpu': '0' } },
  },
  {
    kind: 'LimitRange',
    apiVersion: 'v1',
    metadata: meta('lr', 'default'),
    spec: {
      limits: [
        { type: 'Container', max: { cpu: '2' }, default: { cpu: '500m' }, defaultRequest: { cpu: '100m' } },
      ],
    },
  },
  {
    kind: 'Binding',
    apiVersion: 'v1',
    metadata: { name: 'web-0', namespace: 'default' },
    target: { kind: 'Node', name: 'node-1' },
  },
  {
    kind: 'Eviction',
    apiVersion: 'policy/v1',
    metadata: { name: 'web-0', namespace: 'default' },
    deleteOptions: { gracePeriodSeconds: 0, preconditions: { uid: 'u' }, dryRun: ['All'] },
  },
  {
    kind: 'PodDisruptionBudget',
    apiVersion: 'policy/v1',
    metadata: meta('pdb', 'default'),
    spec: { minAvailable: '50%', selector, unhealthyPodEvictionPolicy: 'AlwaysAllow' },
    status: {
      observedGeneration: 3,
      disruptedPods: { 'web-0': '2024-01-02T03:04:05Z' },
      disruptionsAllowed: 0,
      currentHealthy: 2,
      desiredHealthy: 1,
      expectedPods: 2,
      conditions: [
        {
          type: 'DisruptionAllowed',
          status: 'True',
          observedGeneration: 3,
          lastTransitionTime: '2024-01-02T03:04:05Z',
          reason: 'SufficientPods',
          message: '',
        },
      ],
    },
  },
  {
    kind: 'Event',
    apiVersion: 'events.k8s.io/v1',
    metadata: meta('ev', 'default'),
    eventTime: '2024-01-02T03:04:05.000001Z',
    series: { count: 2, lastObservedTime: '2024-01-02T03:04:06.500000Z' },
    reportingController: 'skiff/scheduler',
    reportingInstance: 'sched-1',
    action: 'Scheduling',
    reason: 'FailedScheduling',
    regarding: { kind: 'Pod', namespace: 'default', name: 'web-0' },
    note: '0/1 nodes are available',
    type: 'Warning',
    deprecatedSource: {},
    deprecatedFirstTimestamp: null,
    deprecatedLastTimestamp: null,
  },
  {
    kind: 'Lease',
    apiVersion: 'coordination.k8s.io/v1',
    metadata: meta('node-1', 'kube-node-lease'),
    spec: {
      holderIdentity: 'node-1',
      leaseDurationSeconds: 40,
      acquireTime: '2024-01-02T03:04:05.000000Z',
      renewTime: '2024-01-02T03:05:05.654321Z',
      leaseTransitions: 0,
    },
  },
  {
    kind: 'EndpointSlice',
    apiVersion: 'discovery.k8s.io/v1',
    metadata: meta('web-abc', 'default'),
    addressType: 'IPv4',
    endpoints: [
      {
        addresses: ['10.244.0.5'],
        conditions: { ready: true, serving: true, terminating: false },
        targetRef: { kind: 'Pod', namespace: 'default', name: 'web-0' },
        nodeName: 'node-1',
      },
    ],
    ports: [{ name: 'http', protocol: 'TCP', port: 80 }],
  },
  {
    kind: 'Deployment',
    apiVersion: 'apps/v1',
    metadata: meta('web', 'default'),
    spec: {
      replicas: 0,
      selector,
      template,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: 1 } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    },
    status: {
      observedGeneration: 3,
      replicas: 2,
      updatedReplicas: 2,
      conditions: [
        {
          type: 'Available',
          status: 'True',
          lastUpdateTime: '2024-01-02T03:04:05Z',
          lastTransitionTime: '2024-01-02T03:04:05Z',
          reason: 'MinimumReplicasAvailable',
          message: 'ok',
        },
      ],
    },
  },
  {
    kind: 'ReplicaSet',
    apiVersion: 'apps/v1',
    metadata: meta('web-abc', 'default'),
    spec: { replicas: 2, selector, template },
    status: {
      replicas: 2,
      fullyLabeledReplicas: 2,
      readyReplicas: 2,
      availableReplicas: 2,
      observedGeneration: 1,
    },
  },
  {
    kind: 'StatefulSet',
    apiVersion: 'apps/v1',
    metadata: meta('db', 'default'),
    spec: {
      replicas: 3,
      selector,
      template,
      volumeClaimTemplates: [
        {
          metadata: { name: 'data' },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
          status: {},
        },
      ],
      serviceName: 'db',
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      revisionHistoryLimit: 10,
    },
    status: { replicas: 3, readyReplicas: 3, currentRevision: 'db-1', availableReplicas: 3 },
  },
  {
    kind: 'DaemonSet',
    apiVersion: 'apps/v1',
    metadata: meta('agent', 'kube-system'),
    spec: {
      selector,
      template,
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
    },
    status: { currentNumberScheduled: 1, numberMisscheduled: 0, desiredNumberScheduled: 1, numberReady: 0 },
  },
  {
    kind: 'ControllerRevision',
    apiVersion: 'apps/v1',
    metadata: meta('db-1', 'default'),
    data: { spec: { template: { metadata: { labels: { app: 'db' } } } } },
    revision: 1,
  },
  {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: meta('web', 'default'),
    spec: { replicas: 5 },
    status: { replicas: 2, selector: 'app=web' },
  },
  {
    kind: 'Job',
    apiVersion: 'batch/v1',
    metadata: meta('pi', 'default'),
    spec: {
      parallelism: 1,
      completions: 1,
      backoffLimit: 0,
      selector,
      manualSelector: false,
      template,
      ttlSecondsAfterFinished: 100,
      completionMode: 'NonIndexed',
      suspend: false,
    },
    status: {
      conditions: [
        {
          type: 'Complete',
          status: 'True',
          lastProbeTime: '2024-01-02T03:04:05Z',
          lastTransitionTime: '2024-01-02T03:04:05Z',
        },
      ],
      startTime: '2024-01-02T03:04:05Z',
      completionTime: '2024-01-02T03:05:05Z',
      succeeded: 1,
      uncountedTerminatedPods: {},
      ready: 0,
    },
  },
  {
    kind: 'CronJob',
    apiVersion: 'batch/v1',
    metadata: meta('nightly', 'default'),
    spec: {
      schedule: '0 3 * * *',
      timeZone: 'Etc/UTC',
      startingDeadlineSeconds: 60,
      concurrencyPolicy: 'Forbid',
      suspend: false,
      jobTemplate: { metadata: {}, spec: { template } },
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 1,
    },
    status: { active: [{ kind: 'Job', name: 'nightly-1' }], lastScheduleTime: '2024-01-02T03:00:00Z' },
  },
  {
    kind: 'StorageClass',
    apiVersion: 'storage.k8s.io/v1',
    metadata: meta('standard'),
    provisioner: 'skiff.dev/hostpath',
    parameters: { path: '/srv' },
    reclaimPolicy: 'Delete',
    allowVolumeExpansion: true,
    volumeBindingMode: 'WaitForFirstConsumer',
  },
  {
    kind: 'PriorityClass',
    apiVersion: 'scheduling.k8s.io/v1',
    metadata: meta('high'),
    value: -5,
    globalDefault: true,
    description: 'important',
    preemptionPolicy: 'Never',
  },
  {
    kind: 'Role',
    apiVersion: 'rbac.authorization.k8s.io/v1',
    metadata: meta('reader', 'default'),
    rules: [
      { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods', 'pods/log'], resourceNames: ['a'] },
    ],
  },
  {
    kind: 'RoleBinding',
    apiVersion: 'rbac.authorization.k8s.io/v1',
    metadata: meta('read-pods', 'default'),
    subjects: [
      { kind: 'ServiceAccount', name: 'builder', namespace: 'default' },
      { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'devs' },
    ],
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' },
  },
  {
    kind: 'ClusterRole',
    apiVersion: 'rbac.authorization.k8s.io/v1',
    metadata: meta('agg'),
    rules: null,
    aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'rbac.example.com/aggregate': 'true' } }] },
  },
  {
    kind: 'ClusterRoleBinding',
    apiVersion: 'rbac.authorization.k8s.io/v1',
    metadata: meta('admins'),
    subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'alice' }],
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
  },
  {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name: 'builder', namespace: 'default' },
    spec: {
      audiences: ['https://kubernetes.default.svc'],
      expirationSeconds: 3600,
      boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'web-0', uid: 'u' },
    },
    status: { token: 'eyJhbGciOi', expirationTimestamp: '2024-01-02T04:04:05Z' },
  },
  {
    kind: 'SelfSubjectAccessReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: {},
    spec: { nonResourceAttributes: { path: '/healthz', verb: 'get' } },
    status: { allowed: true, reason: 'RBAC: allowed' },
  },
  {
    kind: 'SubjectAccessReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: {},
    spec: {
      resourceAttributes: { namespace: 'default', verb: 'create', group: 'apps', resource: 'deployments' },
      user: 'alice',
      groups: ['system:authenticated'],
      extra: { scopes: ['a', 'b'] },
      uid: 'u-9',
    },
    status: { allowed: false, denied: true },
  },
  {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'pods "x" not found',
    reason: 'NotFound',
    details: {
      name: 'x',
      kind: 'pods',
      causes: [{ reason: 'FieldValueInvalid', message: 'bad', field: 'spec' }],
    },
    code: 404,
  },
  {
    kind: 'DeleteOptions',
    apiVersion: 'v1',
    gracePeriodSeconds: 0,
    propagationPolicy: 'Foreground',
    preconditions: { resourceVersion: '7' },
  },
  {
    kind: 'PodList',
    apiVersion: 'v1',
    metadata: { resourceVersion: '100' },
    items: [
      {
        metadata: meta('p', 'default'),
        spec: { containers: [{ name: 'c', image: 'busybox', resources: {} }] },
        status: {},
      },
    ],
  },
  { kind: 'DeploymentList', apiVersion: 'apps/v1', metadata: {}, items: null },
  {
    kind: 'RoleBindingList',
    apiVersion: 'rbac.authorization.k8s.io/v1',
    metadata: { resourceVersion: '5' },
    items: [
      {
        metadata: meta('rb', 'default'),
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' },
      },
    ],
  },
  {
    kind: 'ConfigMapList',
    apiVersion: 'v1',
    metadata: { resourceVersion: '99', continue: 'abc', remainingItemCount: 0 },
    items: [{ metadata: meta('a', 'default'), data: { k: 'v' } }],
  },
  ...GROUP_FIXTURES,
];

// A List of each remaining kind, holding that kind's fixture (list items carry no kind/apiVersion).
for (const obj of [...FIXTURES]) {
  const listKind = `${obj.kind}List`;
  if (!isProtobufKind(obj.apiVersion ?? '', listKind)) continue;
  if (FIXTURES.some((f) => f.apiVersion === obj.apiVersion && f.kind === listKind)) continue;
  const { kind: _kind, apiVersion: _apiVersion, ...item } = obj;
  FIXTURES.push({
    kind: listKind,
    apiVersion: obj.apiVersion,
    metadata: { resourceVersion: '7' },
    items: [item],
  });
}
