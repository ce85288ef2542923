import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtinRegistry } from '../index.ts';
import type { KubeObject } from '../resource.ts';

const reg = builtinRegistry();
const now = new Date('2024-01-01T12:00:00Z');
const ago = (s: number) => new Date(now.getTime() - s * 1000).toISOString();
const messages = (causes: { field?: string; message?: string }[] = []) =>
  causes.map((c) => `${c.field}: ${c.message}`);
const hpas = reg.byResource('autoscaling', 'v2', 'horizontalpodautoscalers');

const hpa = (spec: Record<string, unknown>, status?: Record<string, unknown>): KubeObject => ({
  metadata: { name: 'web', namespace: 'default', creationTimestamp: ago(300) },
  spec: {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
    maxReplicas: 5,
    ...spec,
  },
  ...(status ? { status } : {}),
});

test('new core and autoscaling kinds are found by resource and kind', () => {
  assert.equal(reg.byKind('autoscaling', 'v2', 'HorizontalPodAutoscaler'), hpas);
  assert.deepEqual(hpas?.shortNames, ['hpa']);
  assert.equal(hpas?.schemaName, 'io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler');
  const rc = reg.byResource('', 'v1', 'replicationcontrollers');
  assert.deepEqual(rc?.shortNames, ['rc']);
  assert.equal(rc?.subresources?.scale?.specReplicasPath, 'spec.replicas');
  assert.equal(reg.byKind('', 'v1', 'PodTemplate')?.plural, 'podtemplates');
  for (const name of ['io.k8s.api.core.v1.PodTemplate', 'io.k8s.api.core.v1.ReplicationController']) {
    assert.ok(reg.definitions()[name], name);
  }
});

test('HPA defaults: minReplicas 1, 80% CPU, behaviour filled in when given', () => {
  const o = hpa({});
  hpas?.defaults?.(o);
  const s = o.spec as any;
  assert.equal(s.minReplicas, 1);
  assert.deepEqual(s.metrics, [
    { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } },
  ]);
  assert.equal(s.behavior, undefined);
  assert.deepEqual(hpas?.validate?.(o), []);
  const b = hpa({ behavior: { scaleDown: { stabilizationWindowSeconds: 60 } } });
  hpas?.defaults?.(b);
  const beh = (b.spec as any).behavior;
  assert.deepEqual(beh.scaleDown, {
    stabilizationWindowSeconds: 60,
    selectPolicy: 'Max',
    policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
  });
  assert.equal(beh.scaleUp.stabilizationWindowSeconds, 0);
  assert.equal(beh.scaleUp.policies.length, 2);
});

test('HPA validation messages', () => {
  const cases: [Record<string, unknown>, string[]][] = [
    [{ minReplicas: 0 }, ['spec.minReplicas: Invalid value: 0: must be greater than or equal to 1']],
    [
      { minReplicas: 3, maxReplicas: 2 },
      ['spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`'],
    ],
    [{ scaleTargetRef: { name: 'web' } }, ['spec.scaleTargetRef.kind: Required value']],
    [
      { metrics: [{ type: 'Magic' }] },
      [
        'spec.metrics[0].type: Unsupported value: "Magic": supported values: "ContainerResource", "External", "Object", "Pods", "Resource"',
      ],
    ],
    [
      { metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization' } } }] },
      [
        'spec.metrics[0].resource.target.averageUtilization: Required value: must set either a target raw value or a target utilization',
      ],
    ],
    [
      { behavior: { scaleUp: { policies: [{ type: 'Pods', value: 0, periodSeconds: 2000 }] } } },
      [
        'spec.behavior.scaleUp.policies[0].value: Invalid value: 0: must be greater than zero',
        'spec.behavior.scaleUp.policies[0].periodSeconds: Invalid value: 2000: must be less than or equal to 1800',
      ],
    ],
  ];
  for (const [spec, want] of cases)
    assert.deepEqual(messages(hpas?.validate?.(hpa(spec))), want, JSON.stringify(spec));
});

test('HPA table: REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE', () => {
  assert.deepEqual(
    hpas?.table?.columns.map((c) => c.name.toUpperCase()),
    ['NAME', 'REFERENCE', 'TARGETS', 'MINPODS', 'MAXPODS', 'REPLICAS', 'AGE'],
  );
  const cpu = {
    type: 'Resource',
    resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } },
  };
  assert.deepEqual(hpas?.table?.row(hpa({ minReplicas: 1, metrics: [cpu] }), now), [
    'web',
    'Deployment/web',
    'cpu: <unknown>/80%',
    '1',
    5,
    0,
    '5m',
  ]);
  const status = {
    currentReplicas: 2,
    currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 40 } } }],
  };
  const pods = {
    type: 'Pods',
    pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '10' } },
  };
  assert.deepEqual(hpas?.table?.row(hpa({ metrics: [cpu, pods, pods] }, status), now).slice(2, 6), [
    'cpu: 40%/80%, <unknown>/10 + 1 more...',
    '<unset>',
    5,
    2,
  ]);
});

test('ReplicationController defaults selector and labels from the template; PodTemplate rows', () => {
  const rcs = reg.byResource('', 'v1', 'replicationcontrollers');
  const rc: KubeObject = {
    metadata: { name: 'web', namespace: 'default', creationTimestamp: ago(60) },
    spec: {
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'a', image: 'nginx' }] },
      },
    },
  };
  rcs?.defaults?.(rc);
  assert.deepEqual((rc.spec as any).selector, { app: 'web' });
  assert.deepEqual(rc.metadata?.labels, { app: 'web' });
  assert.equal((rc.spec as any).replicas, 1);
  assert.deepEqual(rcs?.validate?.(rc), []);
  assert.deepEqual(rcs?.table?.row(rc, now), ['web', 1, 0, 0, '60s', 'a', 'nginx', 'app=web']);
  const bad = structuredClone(rc);
  (bad.spec as any).selector = { app: 'other' };
  assert.deepEqual(messages(rcs?.validate?.(bad)), [
    'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`',
  ]);
  const pts = reg.byResource('', 'v1', 'podtemplates');
  const pt: KubeObject = {
    metadata: { name: 't', namespace: 'default' },
    template: structuredClone((rc.spec as any).template),
  };
  assert.deepEqual(pts?.validate?.(pt), []);
  assert.deepEqual(pts?.table?.row(pt, now), ['t', 'a', 'nginx', 'app=web']);
});
