/** Create admission through the real kubectl: pod priority, default toleration seconds, Service IPs. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { builtinRegistry } from '../../src/api/index.ts';
import { MemoryBackend } from '../../src/store/index.ts';
import { startTestServer, type TestServer } from './helpers.ts';

const pod = (name: string, spec: Record<string, unknown> = {}) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec },
  });

describe('create admission', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer(new MemoryBackend(), builtinRegistry());
  });
  after(async () => {
    await s?.close();
  });

  it('fills pod priority from PriorityClasses and adds the default NoExecute tolerations', async () => {
    const plain = await s.kubectl(['create', '-f', '-', '-o', 'json'], pod('plain'));
    assert.equal(plain.code, 0, plain.stderr);
    const spec = JSON.parse(plain.stdout).spec;
    assert.equal(spec.priority, 0);
    assert.equal(spec.serviceAccountName, 'default');
    assert.deepEqual(spec.tolerations, [
      {
        key: 'node.kubernetes.io/not-ready',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 300,
      },
      {
        key: 'node.kubernetes.io/unreachable',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 300,
      },
    ]);
    const missing = await s.kubectl(['create', '-f', '-'], pod('nope', { priorityClassName: 'gold' }));
    assert.match(missing.stderr, /pods "nope" is forbidden: no PriorityClass with name gold was found/);
    const pcs = [
      { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'gold' }, value: 1000 },
      {
        apiVersion: 'scheduling.k8s.io/v1',
        kind: 'PriorityClass',
        metadata: { name: 'base' },
        value: 10,
        globalDefault: true,
      },
    ];
    for (const pc of pcs) assert.equal((await s.kubectl(['create', '-f', '-'], JSON.stringify(pc))).code, 0);
    const gold = JSON.parse(
      (await s.kubectl(['create', '-f', '-', '-o', 'json'], pod('gold', { priorityClassName: 'gold' })))
        .stdout,
    );
    assert.equal(gold.spec.priority, 1000);
    assert.equal(gold.spec.preemptionPolicy, 'PreemptLowerPriority');
    const dflt = JSON.parse((await s.kubectl(['create', '-f', '-', '-o', 'json'], pod('dflt'))).stdout);
    assert.equal(dflt.spec.priorityClassName, 'base');
    assert.equal(dflt.spec.priority, 10);
    const tolerant = pod('tolerant', { tolerations: [{ operator: 'Exists' }] });
    const t = JSON.parse((await s.kubectl(['create', '-f', '-', '-o', 'json'], tolerant)).stdout);
    assert.deepEqual(t.spec.tolerations, [{ operator: 'Exists' }]);
  });

  it('allocates Service cluster IPs and node ports, and frees them on delete', async () => {
    const made = await s.kubectl(['create', 'service', 'nodeport', 'web', '--tcp=80:8080', '-o', 'json']);
    assert.equal(made.code, 0, made.stderr);
    const svc = JSON.parse(made.stdout);
    assert.match(svc.spec.clusterIP, /^10\.43\.\d+\.\d+$/);
    assert.deepEqual(svc.spec.clusterIPs, [svc.spec.clusterIP]);
    assert.ok(svc.spec.ports[0].nodePort >= 30000 && svc.spec.ports[0].nodePort <= 32767);
    const labeled = await s.kubectl(['label', 'service', 'web', 'x=y', '-o', 'json']);
    assert.equal(JSON.parse(labeled.stdout).spec.clusterIP, svc.spec.clusterIP);
    const again = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'again' },
      spec: { clusterIP: svc.spec.clusterIP, ports: [{ port: 80 }] },
    });
    const taken = await s.kubectl(['create', '-f', '-'], again);
    assert.match(taken.stderr, /provided IP is already allocated/);
    assert.equal((await s.kubectl(['delete', 'service', 'web'])).code, 0);
    const reuse = await s.kubectl(['create', '-f', '-'], again);
    assert.equal(reuse.code, 0, reuse.stderr);
  });
});
