import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtinRegistry } from '../index.ts';
import type { KubeObject } from '../resource.ts';
import { humanDuration } from './format.ts';

const reg = builtinRegistry();
const now = new Date('2024-01-01T12:00:00Z');
const ago = (s: number) => new Date(now.getTime() - s * 1000).toISOString();
const table = (g: string, plural: string) => {
  const t = reg.byResource(g, 'v1', plural)?.table;
  assert.ok(t, plural);
  return t;
};
const headers = (g: string, plural: string, wide = false) =>
  table(g, plural)
    .columns.filter((c) => wide || c.priority === 0)
    .map((c) => c.name.toUpperCase());

test('HumanDuration', () => {
  const cases: [number, string][] = [
    [5, '5s'],
    [119, '119s'],
    [200, '3m20s'],
    [180, '3m'],
    [25 * 60, '25m'],
    [5 * 3600 + 600, '5h10m'],
    [30 * 3600, '30h'],
    [51 * 3600, '2d3h'],
    [90 * 86400, '90d'],
    [(365 * 2 + 100) * 86400, '2y100d'],
    [-0.5, '0s'],
  ];
  for (const [s, want] of cases) assert.equal(humanDuration(s * 1000), want, String(s));
});

test('column headers as kubectl shows them', () => {
  assert.deepEqual(headers('', 'pods'), ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
  assert.deepEqual(headers('', 'pods', true).slice(5), ['IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
  assert.deepEqual(headers('apps', 'deployments'), ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE']);
  assert.deepEqual(headers('apps', 'deployments', true).slice(5), ['CONTAINERS', 'IMAGES', 'SELECTOR']);
  assert.deepEqual(headers('apps', 'replicasets'), ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE']);
  assert.deepEqual(headers('', 'services'), ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
  assert.deepEqual(headers('', 'nodes'), ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION']);
  assert.deepEqual(headers('', 'nodes', true).slice(5), [
    'INTERNAL-IP',
    'EXTERNAL-IP',
    'OS-IMAGE',
    'KERNEL-VERSION',
    'CONTAINER-RUNTIME',
  ]);
  assert.deepEqual(headers('', 'namespaces'), ['NAME', 'STATUS', 'AGE']);
  assert.deepEqual(headers('', 'configmaps'), ['NAME', 'DATA', 'AGE']);
  assert.deepEqual(headers('', 'secrets'), ['NAME', 'TYPE', 'DATA', 'AGE']);
  assert.deepEqual(headers('', 'events'), ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
  assert.deepEqual(headers('batch', 'jobs'), ['NAME', 'STATUS', 'COMPLETIONS', 'DURATION', 'AGE']);
  for (const d of reg.all()) {
    if (d.virtual) continue; // create-only kinds are never listed
    assert.ok(d.table, `${d.kind} has a table`);
    if (d.kind !== 'Event') assert.equal(d.table.columns[0].name, 'Name', d.kind);
  }
});

function pod(status: Record<string, unknown>, extra: Record<string, unknown> = {}): KubeObject {
  return {
    metadata: { name: 'p', namespace: 'd', creationTimestamp: ago(200) },
    spec: { containers: [{ name: 'a' }, { name: 'b' }], ...extra },
    status,
  };
}

test('pod STATUS, READY and RESTARTS follow kubectl', () => {
  const row = (p: KubeObject) => table('', 'pods').row(p, now);
  const running = { state: { running: { startedAt: ago(100) } }, ready: true, restartCount: 0 };
  assert.deepEqual(
    row(
      pod({ phase: 'Running', podIP: '10.1.0.5', containerStatuses: [running, running] }, { nodeName: 'n1' }),
    ),
    ['p', '2/2', 'Running', '0', '3m20s', '10.1.0.5', 'n1', '<none>', '<none>'],
  );
  const crash = {
    state: { waiting: { reason: 'CrashLoopBackOff' } },
    lastState: { terminated: { exitCode: 1, finishedAt: ago(65) } },
    ready: false,
    restartCount: 4,
  };
  const r = row(pod({ phase: 'Running', containerStatuses: [running, crash] }));
  assert.deepEqual(r.slice(1, 4), ['1/2', 'CrashLoopBackOff', '4 (65s ago)']);
  const init = pod(
    { phase: 'Pending', initContainerStatuses: [{ name: 'i', state: { running: {} }, restartCount: 0 }] },
    { initContainers: [{ name: 'i' }] },
  );
  assert.equal(row(init)[2], 'Init:0/1');
  const done = { state: { terminated: { exitCode: 0, reason: 'Completed' } }, ready: false, restartCount: 0 };
  assert.equal(row(pod({ phase: 'Succeeded', containerStatuses: [done, done] }))[2], 'Completed');
  const deleting = pod({ phase: 'Running', containerStatuses: [running, running] });
  (deleting.metadata as any).deletionTimestamp = ago(1);
  assert.equal(row(deleting)[2], 'Terminating');
  assert.equal(row(pod({ phase: 'Pending' }))[2], 'Pending');
});

test('rows of other kinds', () => {
  const meta = { name: 'x', namespace: 'd', creationTimestamp: ago(3 * 86400) };
  assert.deepEqual(
    table('apps', 'deployments').row(
      {
        metadata: meta,
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: 'web' } },
          template: { spec: { containers: [{ name: 'a', image: 'nginx' }] } },
        },
        status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
      },
      now,
    ),
    ['x', '2/3', 3, 2, '3d', 'a', 'nginx', 'app=web'],
  );
  assert.deepEqual(
    table('', 'services').row(
      {
        metadata: meta,
        spec: {
          type: 'NodePort',
          clusterIP: '10.96.0.10',
          ports: [
            { port: 80, nodePort: 30080, protocol: 'TCP' },
            { port: 53, protocol: 'UDP' },
          ],
        },
      },
      now,
    ),
    ['x', 'NodePort', '10.96.0.10', '<none>', '80:30080/TCP,53/UDP', '3d', '<none>'],
  );
  assert.deepEqual(
    table('', 'nodes')
      .row(
        {
          metadata: {
            name: 'n1',
            creationTimestamp: ago(60),
            labels: { 'node-role.kubernetes.io/control-plane': '' },
          },
          spec: { unschedulable: true },
          status: {
            conditions: [{ type: 'Ready', status: 'True' }],
            nodeInfo: { kubeletVersion: 'v1.32.0' },
            addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
          },
        },
        now,
      )
      .slice(0, 6),
    ['n1', 'Ready,SchedulingDisabled', 'control-plane', '60s', 'v1.32.0', '10.0.0.1'],
  );
  assert.deepEqual(
    table('', 'events').row(
      {
        metadata: { name: 'e1' },
        type: 'Warning',
        reason: 'BackOff',
        message: 'Back-off ',
        involvedObject: { kind: 'Pod', name: 'web' },
        lastTimestamp: ago(30),
        firstTimestamp: ago(90),
        count: 3,
      },
      now,
    ),
    ['30s', 'Warning', 'BackOff', 'pod/web', '', '', 'Back-off', '90s', 3, 'e1'],
  );
  assert.deepEqual(
    table('batch', 'jobs')
      .row(
        {
          metadata: meta,
          spec: { completions: 1, template: { spec: { containers: [{ name: 'a', image: 'perl' }] } } },
          status: {
            succeeded: 1,
            startTime: ago(100),
            completionTime: ago(40),
            conditions: [{ type: 'Complete', status: 'True' }],
          },
        },
        now,
      )
      .slice(0, 5),
    ['x', 'Complete', '1/1', '60s', '3d'],
  );
  assert.deepEqual(
    table('', 'endpoints').row(
      {
        metadata: meta,
        subsets: [
          {
            addresses: [{ ip: '1.1.1.1' }, { ip: '1.1.1.2' }, { ip: '1.1.1.3' }, { ip: '1.1.1.4' }],
            ports: [{ port: 80 }],
          },
        ],
      },
      now,
    )[1],
    '1.1.1.1:80,1.1.1.2:80,1.1.1.3:80 + 1 more...',
  );
  assert.deepEqual(
    table('', 'secrets').row({ metadata: meta, type: 'Opaque', data: { a: '', b: '' } }, now),
    ['x', 'Opaque', 2, '3d'],
  );
});
