/**
 * The ClusterRoles and ClusterRoleBindings a cluster starts with, as Kubernetes' bootstrap policy
 * names them: cluster-admin (bound to system:masters), admin/edit/view for RoleBindings,
 * discovery and self-review for every authenticated user, system:node for agents (group
 * system:nodes) and system:node-bootstrapper for join tokens (group system:bootstrappers).
 * Missing ones are created at boot; existing ones are left as the administrator changed them.
 */
import { isReason } from '../../api/errors.ts';
import type { KubeObject, ResourceRegistry } from '../../api/resource.ts';
import type { Objects } from '../objects.ts';
import type { PolicyRule } from './rbac.ts';

const RBAC = 'rbac.authorization.k8s.io';
const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];

const rule = (verbs: string[], apiGroups: string[], resources: string[]): PolicyRule => ({
  verbs,
  apiGroups,
  resources,
});

const WORKLOADS: [string[], string[]][] = [
  [[''], ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'pods/log', 'pods/status']],
  [
    [''],
    [
      'configmaps',
      'endpoints',
      'persistentvolumeclaims',
      'replicationcontrollers',
      'replicationcontrollers/scale',
      'services',
      'services/proxy',
      'serviceaccounts',
      'events',
    ],
  ],
  [
    ['apps'],
    [
      'daemonsets',
      'deployments',
      'deployments/scale',
      'replicasets',
      'replicasets/scale',
      'statefulsets',
      'statefulsets/scale',
      'controllerrevisions',
    ],
  ],
  [['batch'], ['cronjobs', 'jobs']],
  [['autoscaling'], ['horizontalpodautoscalers']],
  [['networking.k8s.io'], ['ingresses', 'networkpolicies']],
  [['policy'], ['poddisruptionbudgets']],
  [['discovery.k8s.io'], ['endpointslices']],
  [['coordination.k8s.io'], ['leases']],
];

const viewRules = (): PolicyRule[] => [
  ...WORKLOADS.map(([g, r]) =>
    rule(
      READ,
      g,
      r.filter((x) => !/\/(attach|exec|portforward|proxy)$/.test(x)),
    ),
  ),
  rule(READ, [''], ['namespaces', 'resourcequotas', 'limitranges']),
];

const editRules = (): PolicyRule[] => [
  ...WORKLOADS.map(([g, r]) => rule([...READ, ...WRITE], g, r)),
  rule([...READ, ...WRITE], [''], ['secrets']),
  rule(['create'], [''], ['pods/eviction', 'serviceaccounts/token']),
  rule(READ, [''], ['namespaces', 'resourcequotas', 'limitranges']),
];

const adminRules = (): PolicyRule[] => [
  ...editRules(),
  rule([...READ, ...WRITE], [RBAC], ['roles', 'rolebindings']),
  rule(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews']),
];

/** What a node agent needs: its Node and Lease, the pods bound to it and what they mount. */
const nodeRules = (): PolicyRule[] => [
  rule([...READ, 'create', 'update', 'patch', 'delete'], [''], ['nodes', 'nodes/status']),
  rule([...READ, 'create', 'update', 'patch', 'delete'], ['coordination.k8s.io'], ['leases']),
  rule([...READ, 'create', 'delete'], [''], ['pods']),
  rule(['update', 'patch'], [''], ['pods/status']),
  rule(['create'], [''], ['pods/eviction', 'serviceaccounts/token']),
  rule(['create', 'update', 'patch'], ['', 'events.k8s.io'], ['events']),
  rule(READ, [''], ['configmaps', 'secrets', 'services', 'endpoints', 'namespaces', 'serviceaccounts']),
  rule(
    READ,
    ['', 'storage.k8s.io'],
    [
      'persistentvolumeclaims',
      'persistentvolumes',
      'storageclasses',
      'csinodes',
      'csidrivers',
      'volumeattachments',
    ],
  ),
  rule(['update', 'patch'], [''], ['persistentvolumeclaims/status']),
  // Skiff's nodes publish their cluster DNS listener as an EndpointSlice (`kube-system/kube-dns-<node>`)
  // and, as the built-in load balancer, write Services' load balancer status.
  rule([...READ, 'create', 'update', 'patch', 'delete'], ['discovery.k8s.io'], ['endpointslices']),
  rule(['update', 'patch'], [''], ['services/status']),
  rule(READ, ['networking.k8s.io'], ['networkpolicies', 'ingresses']),
  rule(READ, ['node.k8s.io'], ['runtimeclasses']),
  rule(['create'], ['authentication.k8s.io'], ['tokenreviews']),
  rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
];

const DISCOVERY_URLS = [
  '/api',
  '/api/*',
  '/apis',
  '/apis/*',
  '/version',
  '/version/',
  '/openapi',
  '/openapi/*',
  '/healthz',
  '/livez',
  '/readyz',
];

function clusterRole(name: string, rules: PolicyRule[], labels: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: `${RBAC}/v1`,
    kind: 'ClusterRole',
    metadata: {
      name,
      labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults', ...labels },
      annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
    },
    rules,
  };
}

function groupBinding(name: string, role: string, groups: string[]): KubeObject {
  return {
    apiVersion: `${RBAC}/v1`,
    kind: 'ClusterRoleBinding',
    metadata: {
      name,
      labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
      annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
    },
    roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: role },
    subjects: groups.map((g) => ({ apiGroup: RBAC, kind: 'Group', name: g })),
  };
}

export function defaultClusterRoles(): KubeObject[] {
  return [
    clusterRole('cluster-admin', [rule(['*'], ['*'], ['*']), { verbs: ['*'], nonResourceURLs: ['*'] }]),
    clusterRole('admin', adminRules(), { 'kubernetes.io/bootstrapping': 'rbac-defaults' }),
    clusterRole('edit', editRules()),
    clusterRole('view', viewRules()),
    clusterRole('system:discovery', [{ verbs: ['get'], nonResourceURLs: DISCOVERY_URLS }]),
    clusterRole('system:public-info-viewer', [
      { verbs: ['get'], nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'] },
    ]),
    clusterRole('system:basic-user', [
      rule(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']),
      rule(['create'], ['authentication.k8s.io'], ['selfsubjectreviews']),
    ]),
    clusterRole('system:service-account-issuer-discovery', [
      { verbs: ['get'], nonResourceURLs: ['/.well-known/openid-configuration', '/openid/v1/jwks'] },
    ]),
    clusterRole('system:node', nodeRules()),
    clusterRole('system:node-bootstrapper', nodeRules()),
  ];
}

export function defaultClusterRoleBindings(): KubeObject[] {
  return [
    groupBinding('cluster-admin', 'cluster-admin', ['system:masters']),
    groupBinding('system:discovery', 'system:discovery', ['system:authenticated']),
    groupBinding('system:public-info-viewer', 'system:public-info-viewer', [
      'system:authenticated',
      'system:unauthenticated',
    ]),
    groupBinding('system:basic-user', 'system:basic-user', ['system:authenticated']),
    groupBinding('system:service-account-issuer-discovery', 'system:service-account-issuer-discovery', [
      'system:serviceaccounts',
    ]),
    groupBinding('system:node', 'system:node', ['system:nodes']),
    groupBinding('system:node-bootstrapper', 'system:node-bootstrapper', ['system:bootstrappers']),
  ];
}

/** Create the default ClusterRoles and ClusterRoleBindings that are missing. */
export async function ensureDefaultRoles(objects: Objects, registry: ResourceRegistry): Promise<void> {
  const roleDef = registry.byResource(RBAC, 'v1', 'clusterroles');
  const bindingDef = registry.byResource(RBAC, 'v1', 'clusterrolebindings');
  if (!roleDef || !bindingDef) return;
  const stamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const put = async (def: typeof roleDef, obj: KubeObject) => {
    obj.metadata!.uid = crypto.randomUUID();
    obj.metadata!.creationTimestamp = stamp;
    try {
      await objects.create(def, obj);
    } catch (e) {
      if (!isReason(e, 'AlreadyExists')) throw e;
    }
  };
  for (const r of defaultClusterRoles()) await put(roleDef, r);
  for (const b of defaultClusterRoleBindings()) await put(bindingDef, b);
}
