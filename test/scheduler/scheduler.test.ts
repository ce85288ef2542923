/**
 * The scheduler against a real API server, seen through the real kubectl: placement by
 * resources, taints, node affinity and topology spread; an unschedulable pod explaining itself
 * and scheduled once a node fits; preemption of a lower-priority pod.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PODS } from '../../src/client/index.ts';
import { startCluster } from './helpers.ts';

function podYaml(name: string, cpu: string, extra = ''): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: {app: ${name.replace(/-\d+$/, '')}}
spec:
  containers:
  - name: c
    image: busybox
    resources: {requests: {cpu: ${cpu}, memory: 64Mi}}
${extra}`;
}

test('pods created with kubectl land on nodes that fit: resources, taints, nodeAffinity, topology spread', async (t) => {
  const c = await startCluster(t);
  await c.addNode('n1', { cpu: '2', labels: { 'topology.kubernetes.io/zone': 'a' } });
  await c.addNode('n2', {
    cpu: '2',
    labels: { 'topology.kubernetes.io/zone': 'b', gpu: 'yes' },
    taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }],
  });
  await c.addNode('n3', { cpu: '1', labels: { 'topology.kubernetes.io/zone': 'c' } });

  const toleration = `  tolerations:
  - {key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}
`;
  const manifests = [
    // only n1: n2 is tainted, n3 too small
    podYaml('big', '1500m'),
    // only n2: it tolerates the taint and requires gpu=yes
    podYaml(
      'gpu',
      '100m',
      `${toleration}  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions: [{key: gpu, operator: In, values: ["yes"]}]
`,
    ),
    // one per zone
    ...[1, 2, 3].map((i) =>
      podYaml(
        `spread-${i}`,
        '100m',
        `${toleration}  topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: DoNotSchedule
    labelSelector: {matchLabels: {app: spread}}
`,
      ),
    ),
  ];
  const r = await c.kubectl(['create', '-f', '-'], manifests.join('---\n'));
  assert.equal(r.code, 0, r.stderr);

  const placed = await c.until('all five pods bound', async () => {
    const g = await c.kubectl([
      'get',
      'pods',
      '-o',
      'jsonpath={range .items[*]}{.metadata.name}={.spec.nodeName}{"\\n"}{end}',
    ]);
    const m = Object.fromEntries(
      g.stdout
        .trim()
        .split('\n')
        .map((l) => l.split('=')),
    );
    return Object.keys(m).length === 5 && Object.values(m).every((v) => v) ? m : undefined;
  });
  assert.equal(placed.big, 'n1');
  assert.equal(placed.gpu, 'n2');
  assert.deepEqual([placed['spread-1'], placed['spread-2'], placed['spread-3']].sort(), ['n1', 'n2', 'n3']);

  const d = await c.kubectl(['describe', 'pod', 'big']);
  assert.match(d.stdout, /Node:\s+n1\//);
  await c.until('the Scheduled event', async () => {
    const e = await c.kubectl(['get', 'events', '--field-selector', 'involvedObject.name=big', '-o', 'json']);
    return e.stdout.includes('Successfully assigned default/big to n1');
  });
});

test('an unschedulable pod explains itself in kubectl describe and is scheduled once a node fits', async (t) => {
  const c = await startCluster(t);
  for (const n of ['n1', 'n2', 'n3']) await c.addNode(n, { cpu: '1' });
  const r = await c.kubectl(['create', '-f', '-'], podYaml('huge', '2'));
  assert.equal(r.code, 0, r.stderr);

  const want =
    '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.';
  const described = await c.until('FailedScheduling in describe', async () => {
    const d = await c.kubectl(['describe', 'pod', 'huge']);
    return d.stdout.includes('FailedScheduling') ? d.stdout : undefined;
  });
  assert.match(
    described,
    /Warning\s+FailedScheduling\s+.*default-scheduler\s+0\/3 nodes are available: 3 Insufficient cpu\./,
  );
  assert.ok(described.includes(want), described);
  assert.match(described, /PodScheduled\s+False/);
  const st = await c.kubectl([
    'get',
    'pod',
    'huge',
    '-o',
    'jsonpath={.status.conditions[?(@.type=="PodScheduled")].reason}',
  ]);
  assert.equal(st.stdout, 'Unschedulable');

  await c.addNode('n4', { cpu: '4' });
  assert.equal(await c.until('huge bound', () => c.nodeOf('huge')), 'n4');
  await c.until('Scheduled in describe', async () => {
    const d = await c.kubectl(['describe', 'pod', 'huge']);
    return /Normal\s+Scheduled\s+.*Successfully assigned default\/huge to n4/.test(d.stdout);
  });
});

test('a higher-priority pod preempts a lower-priority one (PriorityClasses from the API)', async (t) => {
  const c = await startCluster(t);
  for (const [name, value] of [
    ['low', '10'],
    ['high', '1000'],
  ]) {
    const r = await c.kubectl(['create', 'priorityclass', name, `--value=${value}`]);
    assert.equal(r.code, 0, r.stderr);
  }
  await c.addNode('n1', { cpu: '1' });
  let r = await c.kubectl(['create', '-f', '-'], podYaml('victim', '800m', '  priorityClassName: low\n'));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await c.until('victim bound', () => c.nodeOf('victim')), 'n1');

  r = await c.kubectl(['create', '-f', '-'], podYaml('vip', '800m', '  priorityClassName: high\n'));
  assert.equal(r.code, 0, r.stderr);
  // The victim is deleted gracefully (it is bound); nobody runs it here, so play the kubelet.
  await c.until('victim terminating or gone', async () => {
    try {
      const v = (await c.client.get(PODS, 'victim', { namespace: 'default' })) as {
        metadata?: { deletionTimestamp?: string };
      };
      return !!v.metadata?.deletionTimestamp;
    } catch {
      return true;
    }
  });
  const nominated = await c.until('vip nominated', async () => {
    const g = await c.kubectl(['get', 'pod', 'vip', '-o', 'jsonpath={.status.nominatedNodeName}']);
    return g.stdout || undefined;
  });
  assert.equal(nominated, 'n1');
  r = await c.kubectl(['delete', 'pod', 'victim', '--grace-period=0', '--force']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await c.until('vip bound', () => c.nodeOf('vip')), 'n1');
  const ev = await c.kubectl(['get', 'events', '--field-selector', 'reason=Preempted', '-o', 'name']);
  assert.notEqual(ev.stdout.trim(), '', 'a Preempted event about the victim');
});
