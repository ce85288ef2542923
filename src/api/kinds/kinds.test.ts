import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtinRegistry } from '../index.ts';
import type { KubeObject, ResourceDef } from '../resource.ts';

const reg = builtinRegistry();
const def = (g: string, plural: string): ResourceDef => {
  const d = reg.byResource(g, 'v1', plural);
  assert.ok(d, plural);
  return d;
};
const now = new Date('2024-01-01T12:00:00Z');
const ago = (s: number) => new Date(now.getTime() - s * 1000).toISOString();

function podOf(spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', creationTimestamp: ago(200) },
    spec: { containers: [{ name: 'app', image: 'nginx:1.25', ports: [{ containerPort: 80 }] }], ...spec },
  };
}

test('pod defaults as Kubernetes sets them', () => {
  const pods = def('', 'pods');
  const p = podOf();
  pods.defaults?.(p);
  const spec = p.spec as any;
  assert.equal(spec.restartPolicy, 'Always');
  assert.equal(spec.dnsPolicy, 'ClusterFirst');
  assert.equal(spec.terminationGracePeriodSeconds, 30);
  assert.equal(spec.schedulerName, 'default-scheduler');
  assert.equal(spec.serviceAccountName, 'default');
  assert.equal(spec.enableServiceLinks, true);
  assert.equal(spec.priority, 0);
  assert.deepEqual(spec.securityContext, {});
  const c = spec.containers[0];
  assert.equal(c.imagePullPolicy, 'IfNotPresent');
  assert.equal(c.terminationMessagePath, '/dev/termination-log');
  assert.equal(c.terminationMessagePolicy, 'File');
  assert.equal(c.ports[0].protocol, 'TCP');
  for (const [image, policy] of [
    ['nginx', 'Always'],
    ['nginx:latest', 'Always'],
    ['localhost:5000/app', 'Always'],
    ['localhost:5000/app:v1', 'IfNotPresent'],
    ['busybox@sha256:abc', 'IfNotPresent'],
  ]) {
    const q = podOf({ containers: [{ name: 'a', image }] });
    pods.defaults?.(q);
    assert.equal((q.spec as any).containers[0].imagePullPolicy, policy, image);
  }
  assert.deepEqual(pods.validate?.(p), []);
});

test('deployment and workload defaults', () => {
  const d: KubeObject = {
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'a', image: 'nginx' }] },
      },
    },
  };
  const deployments = reg.byResource('apps', 'v1', 'deployments');
  deployments?.defaults?.(d);
  const s = d.spec as any;
  assert.equal(s.replicas, 1);
  assert.deepEqual(s.strategy, {
    type: 'RollingUpdate',
    rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' },
  });
  assert.equal(s.revisionHistoryLimit, 10);
  assert.equal(s.progressDeadlineSeconds, 600);
  assert.equal(s.template.spec.restartPolicy, 'Always');
  assert.deepEqual(deployments?.validate?.(d), []);

  const sts: KubeObject = structuredClone(d);
  reg.byResource('apps', 'v1', 'statefulsets')?.defaults?.(sts);
  assert.equal((sts.spec as any).podManagementPolicy, 'OrderedReady');
  assert.deepEqual((sts.spec as any).updateStrategy, {
    type: 'RollingUpdate',
    rollingUpdate: { partition: 0 },
  });
  assert.deepEqual((sts.spec as any).persistentVolumeClaimRetentionPolicy, {
    whenDeleted: 'Retain',
    whenScaled: 'Retain',
  });

  const ds: KubeObject = structuredClone(d);
  reg.byResource('apps', 'v1', 'daemonsets')?.defaults?.(ds);
  assert.deepEqual((ds.spec as any).updateStrategy, {
    type: 'RollingUpdate',
    rollingUpdate: { maxUnavailable: 1, maxSurge: 0 },
  });

  const job: KubeObject = {
    metadata: { name: 'pi', namespace: 'default', uid: 'u1' },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'a', image: 'perl' }] } } },
  };
  const jobs = reg.byResource('batch', 'v1', 'jobs');
  jobs?.defaults?.(job);
  const js = job.spec as any;
  assert.equal(js.completions, 1);
  assert.equal(js.parallelism, 1);
  assert.equal(js.backoffLimit, 6);
  assert.equal(js.completionMode, 'NonIndexed');
  assert.equal(js.suspend, false);
  assert.equal(js.template.spec.restartPolicy, 'Never');
  assert.deepEqual(js.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u1' } });
  assert.deepEqual(jobs?.validate?.(job), []);

  const cj: KubeObject = {
    metadata: { name: 'c', namespace: 'default' },
    spec: {
      schedule: '*/5 * * * *',
      jobTemplate: {
        spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'a', image: 'x' }] } } },
      },
    },
  };
  const cronjobs = reg.byResource('batch', 'v1', 'cronjobs');
  cronjobs?.defaults?.(cj);
  const cs = cj.spec as any;
  assert.equal(cs.concurrencyPolicy, 'Allow');
  assert.equal(cs.suspend, false);
  assert.equal(cs.successfulJobsHistoryLimit, 3);
  assert.equal(cs.failedJobsHistoryLimit, 1);
  assert.deepEqual(cronjobs?.validate?.(cj), []);
});

test('service, secret and namespace defaults', () => {
  const svc: KubeObject = {
    metadata: { name: 'web', namespace: 'default' },
    spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
  };
  const services = def('', 'services');
  services.defaults?.(svc);
  const s = svc.spec as any;
  assert.equal(s.type, 'ClusterIP');
  assert.equal(s.sessionAffinity, 'None');
  assert.deepEqual(s.ports[0], { port: 80, protocol: 'TCP', targetPort: 80 });
  assert.equal(s.ipFamilyPolicy, 'SingleStack');
  assert.equal(s.internalTrafficPolicy, 'Cluster');
  assert.deepEqual(services.validate?.(svc), []);

  const sec: KubeObject = { metadata: { name: 's', namespace: 'default' }, stringData: { a: 'hi' } };
  def('', 'secrets').defaults?.(sec);
  assert.equal(sec.type, 'Opaque');
  assert.deepEqual(sec.data, { a: 'aGk=' });
  assert.equal(sec.stringData, undefined);

  const ns: KubeObject = { metadata: { name: 'team' } };
  def('', 'namespaces').defaults?.(ns);
  assert.deepEqual(ns.spec, { finalizers: ['kubernetes'] });
  assert.deepEqual(ns.status, { phase: 'Active' });
  assert.equal(ns.metadata?.labels?.['kubernetes.io/metadata.name'], 'team');
});

test('validation messages and field paths as Kubernetes words them', () => {
  const deployments = reg.byResource('apps', 'v1', 'deployments');
  const d: KubeObject = {
    metadata: { name: 'Foo', namespace: 'default' },
    spec: {
      replicas: -1,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'other' } }, spec: { containers: [{ name: 'a' }] } },
    },
  };
  deployments?.defaults?.(d);
  const causes = deployments?.validate?.(d) ?? [];
  const byField = Object.fromEntries(causes.map((c) => [c.field, c]));
  assert.equal(
    byField['metadata.name'].message,
    `Invalid value: "Foo": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
  );
  assert.equal(byField['metadata.name'].reason, 'FieldValueInvalid');
  assert.equal(byField['spec.replicas'].message, 'Invalid value: -1: must be greater than or equal to 0');
  assert.equal(
    byField['spec.template.metadata.labels'].message,
    'Invalid value: map[string]string{"app":"other"}: `selector` does not match template `labels`',
  );
  assert.deepEqual(byField['spec.template.spec.containers[0].image'], {
    reason: 'FieldValueRequired',
    field: 'spec.template.spec.containers[0].image',
    message: 'Required value',
  });

  const ns = def('', 'namespaces');
  const bad = ns.validate?.({ metadata: { name: 'a.b' } }) ?? [];
  assert.match(bad[0].message ?? '', /^Invalid value: "a.b": a lowercase RFC 1123 label must consist of/);
  assert.deepEqual(
    def('', 'pods')
      .validate?.({ metadata: { namespace: 'x' }, spec: {} })
      .slice(0, 1),
    [
      {
        reason: 'FieldValueRequired',
        field: 'metadata.name',
        message: 'Required value: name or generateName is required',
      },
    ],
  );

  const pods = def('', 'pods');
  const p = podOf({
    restartPolicy: 'Sometimes',
    containers: [
      { name: 'a', image: 'x' },
      { name: 'a', image: 'y' },
    ],
  });
  const pc = pods.validate?.(p) ?? [];
  assert.ok(
    pc.some(
      (c) =>
        c.field === 'spec.restartPolicy' &&
        c.reason === 'FieldValueNotSupported' &&
        c.message === 'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
    ),
  );
  assert.ok(pc.some((c) => c.field === 'spec.containers[1].name' && c.message === 'Duplicate value: "a"'));

  const labels =
    def('', 'configmaps').validate?.({
      metadata: { name: 'c', namespace: 'd', labels: { 'a/b/c': 'x', ok: '-bad' } },
    }) ?? [];
  assert.equal(labels.length, 2);
  assert.ok(labels.every((c) => c.field === 'metadata.labels'));

  const svc =
    def('', 'services').validate?.({
      metadata: { name: '1svc', namespace: 'd' },
      spec: { ports: [{ port: 70000, protocol: 'TCP' }] },
    }) ?? [];
  assert.ok(svc.some((c) => c.field === 'metadata.name' && /DNS-1035 label/.test(c.message ?? '')));
  assert.ok(
    svc.some(
      (c) =>
        c.field === 'spec.ports[0].port' &&
        c.message === 'Invalid value: 70000: must be between 1 and 65535, inclusive',
    ),
  );
});

test('updates: immutable fields', () => {
  const deployments = reg.byResource('apps', 'v1', 'deployments');
  const base: KubeObject = {
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web', v: '1' } },
        spec: { containers: [{ name: 'a', image: 'nginx' }] },
      },
    },
  };
  deployments?.defaults?.(base);
  const next = structuredClone(base);
  (next.spec as any).selector = { matchLabels: { app: 'web', v: '1' } };
  const causes = deployments?.validateUpdate?.(next, base) ?? [];
  assert.deepEqual(causes, [
    {
      reason: 'FieldValueInvalid',
      field: 'spec.selector',
      message:
        'Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web", "v":"1"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
    },
  ]);

  const pods = def('', 'pods');
  const p = podOf();
  pods.defaults?.(p);
  const img = structuredClone(p);
  (img.spec as any).containers[0].image = 'nginx:1.26';
  assert.deepEqual(pods.validateUpdate?.(img, p), []);
  const env = structuredClone(p);
  (env.spec as any).containers[0].env = [{ name: 'X', value: '1' }];
  const pc = pods.validateUpdate?.(env, p) ?? [];
  assert.equal(pc[0].field, 'spec');
  assert.match(pc[0].message ?? '', /^Forbidden: pod updates may not change fields other than/);

  const cms = def('', 'configmaps');
  const cm: KubeObject = { metadata: { name: 'c', namespace: 'd' }, immutable: true, data: { a: '1' } };
  const cm2 = { ...cm, data: { a: '2' } };
  assert.deepEqual(cms.validateUpdate?.(cm2, cm), [
    {
      reason: 'FieldValueForbidden',
      field: 'data',
      message: 'Forbidden: field is immutable when `immutable` is set',
    },
  ]);
  const svc: KubeObject = {
    metadata: { name: 's', namespace: 'd' },
    spec: { type: 'ClusterIP', clusterIP: '10.0.0.5', ports: [{ port: 80, protocol: 'TCP' }] },
  };
  const svc2 = structuredClone(svc);
  (svc2.spec as any).clusterIP = '10.0.0.6';
  assert.deepEqual(def('', 'services').validateUpdate?.(svc2, svc), [
    {
      reason: 'FieldValueInvalid',
      field: 'spec.clusterIP',
      message: 'Invalid value: "10.0.0.6": field is immutable',
    },
  ]);
  const renamed = { ...svc, metadata: { ...svc.metadata, name: 't' } };
  assert.ok(
    def('', 'services')
      .validateUpdate?.(renamed, svc)
      .some((c) => c.field === 'metadata.name'),
  );
});

test('selectable fields read missing values as empty', () => {
  const pods = def('', 'pods');
  const p = podOf();
  assert.equal(pods.selectableFields?.['spec.nodeName'](p), '');
  (p.spec as any).nodeName = 'n1';
  assert.equal(pods.selectableFields?.['spec.nodeName'](p), 'n1');
  assert.equal(def('', 'nodes').selectableFields?.['spec.unschedulable']({}), 'false');
  assert.equal(
    reg
      .byResource('batch', 'v1', 'jobs')
      ?.selectableFields?.['status.successful']({ status: { succeeded: 2 } }),
    '2',
  );
  assert.equal(
    def('', 'events').selectableFields?.['involvedObject.kind']({ involvedObject: { kind: 'Pod' } }),
    'Pod',
  );
});
