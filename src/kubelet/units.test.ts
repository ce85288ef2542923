/** Pure parts of the agent: quantities, CRI resources, env expansion, CRI log decoding, phases. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containerEnv, expand } from './env.ts';
import { decodeCriLog } from './logs.ts';
import { linuxResources, parseQuantity } from './resources.ts';
import { phaseOf } from './status.ts';

test('quantities and LinuxContainerResources', () => {
  assert.equal(parseQuantity('128Mi'), 128 * 2 ** 20);
  assert.equal(parseQuantity('250m'), 0.25);
  assert.equal(parseQuantity('1.5'), 1.5);
  assert.equal(parseQuantity('1e3'), 1000);
  assert.ok(Number.isNaN(parseQuantity('12x')));
  assert.deepEqual(
    linuxResources({ resources: { limits: { memory: '64Mi', cpu: '500m' }, requests: { cpu: '250m' } } }),
    { memoryLimitInBytes: 64 * 2 ** 20, cpuShares: 256, cpuPeriod: 100_000, cpuQuota: 50_000 },
  );
  assert.deepEqual(linuxResources({}), { cpuShares: 2 });
});

test('env: sources, order, $(VAR) expansion, missing keys', async () => {
  const pod = {
    metadata: { name: 'p', namespace: 'ns', uid: 'u1', labels: { app: 'web' } },
    spec: { nodeName: 'n1', containers: [] },
  };
  const objects: Record<string, any> = {
    'configmaps/ns/cm': { data: { A: '1', B: '2' } },
    'secrets/ns/s': { data: { pw: Buffer.from('hunter2').toString('base64') } },
  };
  const get = async (kind: string, ns: string, name: string) => objects[`${kind}/${ns}/${name}`];
  const env = await containerEnv({
    pod,
    container: {
      envFrom: [{ configMapRef: { name: 'cm' }, prefix: 'CM_' }],
      env: [
        { name: 'X', value: 'x-$(CM_A)-$$(CM_A)-$(NOPE)' },
        { name: 'PW', valueFrom: { secretKeyRef: { name: 's', key: 'pw' } } },
        { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'OPT', valueFrom: { configMapKeyRef: { name: 'absent', key: 'k', optional: true } } },
      ],
    },
    podIPs: ['10.1.2.3'],
    hostIP: '127.0.0.1',
    node: { cpu: 2, memory: 1 },
    get,
  });
  assert.deepEqual(Object.fromEntries(env.map((e) => [e.key, e.value])), {
    CM_A: '1',
    CM_B: '2',
    X: 'x-1-$(CM_A)-$(NOPE)',
    PW: 'hunter2',
    APP: 'web',
    IP: '10.1.2.3',
  });
  await assert.rejects(
    containerEnv({
      pod,
      container: { env: [{ name: 'K', valueFrom: { configMapKeyRef: { name: 'cm', key: 'missing' } } }] },
      podIPs: [],
      hostIP: '',
      node: { cpu: 1, memory: 1 },
      get,
    }),
    /couldn't find key missing/,
  );
  assert.equal(expand('$(A)$(B)', new Map([['A', 'a']])), 'a$(B)');
});

test('CRI log decoding joins partial records and honours since/timestamps', () => {
  const now = new Date().toISOString();
  const text = [
    '2020-01-01T00:00:00.000000001Z stdout F old',
    `${now} stdout P part-`,
    `${now} stderr F one`,
    `${now} stdout F two`,
    '',
  ].join('\n');
  assert.deepEqual(decodeCriLog(text), ['old\n', 'part-one\n', 'two\n']);
  assert.deepEqual(decodeCriLog(text, { sinceSeconds: 60 }), ['part-one\n', 'two\n']);
  assert.deepEqual(decodeCriLog(text, { timestamps: true })[0], '2020-01-01T00:00:00.000000001Z old\n');
});

test('pod phase from container states and restartPolicy', () => {
  const st = (state: string, exitCode = 0) => ({
    history: [{ state, exitCode }] as any,
    spec: {},
    ready: false,
    started: false,
  });
  const view = (policy: string, cs: any[]) =>
    ({ pod: { spec: { restartPolicy: policy } }, initDone: true, containers: cs, init: [] }) as any;
  assert.equal(phaseOf(view('Always', [st('CONTAINER_EXITED', 1)])), 'Running');
  assert.equal(phaseOf(view('Never', [st('CONTAINER_EXITED', 1), st('CONTAINER_EXITED')])), 'Failed');
  assert.equal(phaseOf(view('OnFailure', [st('CONTAINER_EXITED')])), 'Succeeded');
  assert.equal(phaseOf(view('Never', [st('CONTAINER_RUNNING'), st('CONTAINER_EXITED', 2)])), 'Running');
  assert.equal(phaseOf({ ...view('Always', []), initDone: false }), 'Pending');
  assert.equal(phaseOf(view('Always', [{ history: [], spec: {} }])), 'Pending');
});
