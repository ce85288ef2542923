/**
 * A small registry for handler-level tests that must not depend on the full built-in one:
 * Namespace, ConfigMap, Pod, Deployment and ReplicaSet with just enough schema.
 */
import type { ResourceDef, ResourceRegistry, Schema } from '../../src/api/resource.ts';

const ALL = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const free: Schema = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
const meta: Schema = { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' };

function kind(name: string, properties: Record<string, Schema>): Schema {
  return {
    type: 'object',
    description: `${name} for tests.`,
    properties: { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: meta, ...properties },
  };
}

const definitions: Record<string, Schema> = {
  'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': {
    type: 'object',
    properties: Object.fromEntries(
      [
        'name',
        'generateName',
        'namespace',
        'uid',
        'resourceVersion',
        'creationTimestamp',
        'deletionTimestamp',
      ].map((k) => [k, { type: 'string' }]),
    ),
    additionalProperties: free,
  },
  'io.k8s.api.core.v1.Namespace': kind('Namespace', { spec: free, status: free }),
  'io.k8s.api.core.v1.ConfigMap': kind('ConfigMap', {
    data: { type: 'object', additionalProperties: { type: 'string' } },
    binaryData: { type: 'object', additionalProperties: { type: 'string' } },
    immutable: { type: 'boolean' },
  }),
  'io.k8s.api.core.v1.Pod': kind('Pod', { spec: free, status: free }),
  'io.k8s.api.apps.v1.Deployment': kind('Deployment', {
    spec: {
      type: 'object',
      properties: {
        replicas: { type: 'integer', description: 'Number of desired pods.' },
        selector: free,
        template: free,
        strategy: free,
      },
    },
    status: free,
  }),
  'io.k8s.api.apps.v1.ReplicaSet': kind('ReplicaSet', { spec: free, status: free }),
};

function def(
  d: Partial<ResourceDef> & Pick<ResourceDef, 'group' | 'kind' | 'plural' | 'namespaced' | 'schemaName'>,
): ResourceDef {
  return {
    version: 'v1',
    listKind: `${d.kind}List`,
    singular: d.kind.toLowerCase(),
    verbs: ALL,
    tracksGeneration: true,
    ...d,
  };
}

export function fixtureRegistry(): ResourceRegistry {
  const defs: ResourceDef[] = [
    def({
      group: '',
      kind: 'Namespace',
      plural: 'namespaces',
      namespaced: false,
      shortNames: ['ns'],
      schemaName: 'io.k8s.api.core.v1.Namespace',
      hasStatus: true,
      verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
      subresources: { status: true },
      defaults(o) {
        o.status ??= { phase: 'Active' };
      },
    }),
    def({
      group: '',
      kind: 'ConfigMap',
      plural: 'configmaps',
      namespaced: true,
      shortNames: ['cm'],
      schemaName: 'io.k8s.api.core.v1.ConfigMap',
      tracksGeneration: false,
    }),
    def({
      group: '',
      kind: 'Pod',
      plural: 'pods',
      namespaced: true,
      shortNames: ['po'],
      categories: ['all'],
      schemaName: 'io.k8s.api.core.v1.Pod',
      hasStatus: true,
      subresources: { status: true, extra: ['binding', 'eviction'] },
      selectableFields: { 'spec.nodeName': (o) => (o.spec as { nodeName?: string })?.nodeName },
    }),
    def({
      group: 'apps',
      kind: 'Deployment',
      plural: 'deployments',
      namespaced: true,
      shortNames: ['deploy'],
      categories: ['all'],
      schemaName: 'io.k8s.api.apps.v1.Deployment',
      hasStatus: true,
      subresources: {
        status: true,
        scale: { specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas' },
      },
      defaults(o) {
        o.spec ??= {};
        const spec = o.spec as { replicas?: number };
        spec.replicas ??= 1;
      },
      validate(o) {
        const r = (o.spec as { replicas?: unknown })?.replicas;
        return typeof r === 'number' && r < 0
          ? [
              {
                reason: 'FieldValueInvalid',
                field: 'spec.replicas',
                message: `Invalid value: ${r}: must be greater than or equal to 0`,
              },
            ]
          : [];
      },
      table: {
        columns: [
          { name: 'Name', type: 'string', format: 'name', description: 'Name', priority: 0 },
          { name: 'Replicas', type: 'integer', description: 'Desired replicas', priority: 0 },
          { name: 'Selector', type: 'string', description: 'Selector', priority: 1 },
        ],
        row: (o) => [
          o.metadata?.name,
          (o.spec as { replicas?: number })?.replicas ?? 0,
          JSON.stringify((o.spec as { selector?: unknown })?.selector ?? {}),
        ],
      },
    }),
    def({
      group: 'apps',
      kind: 'ReplicaSet',
      plural: 'replicasets',
      namespaced: true,
      shortNames: ['rs'],
      schemaName: 'io.k8s.api.apps.v1.ReplicaSet',
      hasStatus: true,
    }),
  ];
  return {
    all: () => defs,
    byResource: (g, v, p) => defs.find((d) => d.group === g && d.version === v && d.plural === p),
    byKind: (g, v, k) => defs.find((d) => d.group === g && d.version === v && d.kind === k),
    definitions: () => definitions,
  };
}
