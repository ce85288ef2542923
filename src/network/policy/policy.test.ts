import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { NetworkPolicy } from 'kubernetes-types/networking/v1.js';
import { type PolicyModel, renderPolicy } from './policy.ts';
import { policyPodView } from './run.ts';

/** A pod as the API serves it: status, managedFields, annotations and all. */
function fullPod(name: string, ns: string, node: string, ip: string, labels: Record<string, string>): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: ns,
      uid: `uid-${name}`,
      resourceVersion: '42',
      labels,
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ name, labels }) },
      managedFields: [
        {
          manager: 'kubectl',
          operation: 'Update',
          apiVersion: 'v1',
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:spec': {} },
        },
      ],
    },
    spec: {
      nodeName: node,
      containers: [
        { name: 'side', image: 'busybox', command: ['sleep', '3600'], env: [{ name: 'A', value: 'b' }] },
        { name: 'web', image: 'busybox', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] },
      ],
    },
    status: {
      phase: 'Running',
      podIP: ip,
      podIPs: [{ ip }],
      hostIP: '10.0.0.1',
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [
        {
          name: 'web',
          ready: true,
          restartCount: 0,
          image: 'busybox',
          imageID: 'sha256:x',
          state: { running: {} },
        },
      ],
    },
  };
}

test('NetworkPolicy renders the same from the pods its informer keeps as from whole pods', () => {
  const pods = [
    fullPod('web', 'default', 'node-a', '10.42.0.2', { app: 'web' }),
    fullPod('front', 'default', 'node-b', '10.42.1.2', { role: 'frontend' }),
    fullPod('mon', 'ops', 'node-a', '10.42.0.3', { role: 'monitor' }),
  ];
  const policies: NetworkPolicy[] = [
    {
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        podSelector: { matchLabels: { app: 'web' } },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [
          { from: [{ podSelector: { matchLabels: { role: 'frontend' } } }], ports: [{ port: 'http' }] },
          { from: [{ namespaceSelector: { matchLabels: { team: 'ops' } } }] },
        ],
        egress: [{ to: [{ podSelector: {} }], ports: [{ port: 'http' }] }],
      },
    },
  ];
  const model = (p: Pod[]): PolicyModel => ({
    nodeName: 'node-a',
    pods: p,
    namespaces: [{ metadata: { name: 'ops', labels: { team: 'ops' } } }, { metadata: { name: 'default' } }],
    policies,
  });
  const whole = renderPolicy(model(pods), 't');
  assert.ok(whole.script.includes('th dport { 8080 }'), 'the named port resolved');
  assert.ok(whole.script.includes('10.42.0.3'), 'the pod of the selected namespace');
  assert.deepEqual(renderPolicy(model(pods.map(policyPodView)), 't'), whole);

  const view = policyPodView(pods[0]);
  assert.deepEqual(view, {
    metadata: {
      name: 'web',
      namespace: 'default',
      uid: 'uid-web',
      resourceVersion: '42',
      labels: { app: 'web' },
    },
    spec: {
      nodeName: 'node-a',
      containers: [{ name: 'web', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }],
    },
    status: { podIP: '10.42.0.2' },
  });
});
