/**
 * Test fixtures: a hand-written slice of the apps/v1 Deployment schema with the same patch
 * and list extensions upstream publishes, and a realistic Deployment. Used by the tests here.
 */
import type { Schema } from '../../api/resource.ts';
import { SchemaContext } from './schema.ts';

const ref = (n: string): Schema => ({ $ref: `#/components/schemas/${n}` });
const doc = (n: string): Schema => ({ allOf: [ref(n)], description: n, default: {} });
const str: Schema = { type: 'string' };
const int: Schema = { type: 'integer' };
const strMap: Schema = { type: 'object', additionalProperties: str };

export const definitions: Record<string, Schema> = {
  Deployment: {
    type: 'object',
    properties: {
      apiVersion: str,
      kind: str,
      metadata: doc('ObjectMeta'),
      spec: doc('DeploymentSpec'),
      status: { type: 'object', properties: { replicas: int, readyReplicas: int } },
    },
  },
  ObjectMeta: {
    type: 'object',
    properties: {
      name: str,
      namespace: str,
      uid: str,
      resourceVersion: str,
      generation: int,
      creationTimestamp: str,
      labels: strMap,
      annotations: strMap,
      finalizers: {
        type: 'array',
        items: str,
        'x-kubernetes-list-type': 'set',
        'x-kubernetes-patch-strategy': 'merge',
      },
      managedFields: { type: 'array', items: { type: 'object' }, 'x-kubernetes-list-type': 'atomic' },
    },
  },
  DeploymentSpec: {
    type: 'object',
    properties: {
      replicas: int,
      selector: doc('LabelSelector'),
      strategy: {
        allOf: [ref('DeploymentStrategy')],
        'x-kubernetes-patch-strategy': 'retainKeys',
      },
      template: doc('PodTemplateSpec'),
      minReadySeconds: int,
    },
  },
  LabelSelector: {
    type: 'object',
    properties: { matchLabels: strMap, matchExpressions: { type: 'array', items: { type: 'object' } } },
    'x-kubernetes-map-type': 'atomic',
  },
  DeploymentStrategy: {
    type: 'object',
    properties: {
      type: str,
      rollingUpdate: {
        type: 'object',
        properties: {
          maxSurge: { 'x-kubernetes-int-or-string': true },
          maxUnavailable: { 'x-kubernetes-int-or-string': true },
        },
      },
    },
  },
  PodTemplateSpec: {
    type: 'object',
    properties: { metadata: doc('ObjectMeta'), spec: doc('PodSpec') },
  },
  PodSpec: {
    type: 'object',
    properties: {
      containers: listMap(ref('Container'), 'name'),
      initContainers: listMap(ref('Container'), 'name'),
      volumes: { ...listMap(ref('Volume'), 'name'), 'x-kubernetes-patch-strategy': 'merge,retainKeys' },
      tolerations: {
        type: 'array',
        items: { type: 'object', properties: { key: str, operator: str, effect: str } },
        'x-kubernetes-list-type': 'atomic',
      },
      nodeSelector: { ...strMap, 'x-kubernetes-map-type': 'atomic' },
      serviceAccountName: str,
      restartPolicy: str,
    },
  },
  Container: {
    type: 'object',
    properties: {
      name: str,
      image: str,
      args: { type: 'array', items: str, 'x-kubernetes-list-type': 'atomic' },
      command: { type: 'array', items: str, 'x-kubernetes-list-type': 'atomic' },
      ports: {
        ...listMap(ref('ContainerPort'), 'containerPort'),
        'x-kubernetes-list-map-keys': ['containerPort', 'protocol'],
      },
      env: listMap({ type: 'object', properties: { name: str, value: str } }, 'name'),
      volumeMounts: listMap(
        { type: 'object', properties: { name: str, mountPath: str, readOnly: { type: 'boolean' } } },
        'mountPath',
      ),
      resources: {
        type: 'object',
        properties: { limits: strMap, requests: strMap },
      },
    },
  },
  ContainerPort: {
    type: 'object',
    properties: { containerPort: int, name: str, protocol: { type: 'string', default: 'TCP' } },
  },
  Volume: {
    type: 'object',
    properties: {
      name: str,
      emptyDir: { type: 'object', properties: { medium: str } },
      configMap: { type: 'object', properties: { name: str } },
      hostPath: { type: 'object', properties: { path: str, type: str } },
    },
  },
};

function listMap(items: Schema, key: string): Schema {
  return {
    type: 'array',
    items,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': [key],
    'x-kubernetes-patch-merge-key': key,
    'x-kubernetes-patch-strategy': 'merge',
  };
}

export function deploymentContext(): SchemaContext {
  return new SchemaContext(definitions, 'Deployment');
}

/** A stored Deployment, as `kubectl create -f` would leave it (defaults omitted). */
export function deployment(): Record<string, any> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      namespace: 'default',
      uid: '6a1c2c7e-0000-4000-8000-000000000001',
      resourceVersion: '42',
      generation: 1,
      labels: { app: 'web' },
      finalizers: ['example.com/a'],
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'web',
              image: 'nginx:1.25',
              ports: [{ containerPort: 80, protocol: 'TCP' }],
              env: [
                { name: 'A', value: '1' },
                { name: 'B', value: '2' },
              ],
              volumeMounts: [{ name: 'data', mountPath: '/data' }],
            },
            { name: 'sidecar', image: 'busybox', args: ['sleep', '3600'] },
          ],
          volumes: [{ name: 'data', emptyDir: {} }],
          tolerations: [{ key: 'a', operator: 'Exists' }],
        },
      },
    },
  };
}
