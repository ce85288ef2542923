import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerPort, Pod } from 'kubernetes-types/core/v1.js';
import { NodeInfo, PodInfo, snapshotOf } from '../../framework/node-info.ts';
import { Code, CycleState } from '../../framework/status.ts';
import { makeNode, makePod } from '../../testing/builders.ts';
import { ERR_REASON_PORTS, nodePorts } from './node-ports.ts';

const withPorts = (name: string, ports: ContainerPort[]): Pod =>
  makePod(name, { spec: { containers: [{ name: 'c', image: 'busybox', ports }] } });

const cases: [string, ContainerPort[], ContainerPort[], Code][] = [
  [
    'free port',
    [{ containerPort: 80, hostPort: 8080 }],
    [{ containerPort: 80, hostPort: 8081 }],
    Code.Success,
  ],
  [
    'same port, TCP',
    [{ containerPort: 80, hostPort: 8080 }],
    [{ containerPort: 80, hostPort: 8080 }],
    Code.Unschedulable,
  ],
  [
    'same port, other protocol',
    [{ containerPort: 53, hostPort: 53, protocol: 'UDP' }],
    [{ containerPort: 53, hostPort: 53, protocol: 'TCP' }],
    Code.Success,
  ],
  [
    'same port, different host IPs',
    [{ containerPort: 80, hostPort: 8080, hostIP: '10.0.0.1' }],
    [{ containerPort: 80, hostPort: 8080, hostIP: '10.0.0.2' }],
    Code.Success,
  ],
  [
    'same port, one on 0.0.0.0',
    [{ containerPort: 80, hostPort: 8080 }],
    [{ containerPort: 80, hostPort: 8080, hostIP: '10.0.0.2' }],
    Code.Unschedulable,
  ],
  [
    'container ports without hostPort never clash',
    [{ containerPort: 80 }],
    [{ containerPort: 80 }],
    Code.Success,
  ],
];

for (const [name, used, wanted, code] of cases) {
  test(`NodePorts filter: ${name}`, () => {
    const node = new NodeInfo(makeNode('n'));
    node.addPod(new PodInfo(withPorts('existing', used)));
    const s = nodePorts().filter(new CycleState(), new PodInfo(withPorts('new', wanted)), node);
    assert.equal(s.code, code);
    assert.deepEqual(s.reasons, code === Code.Success ? [] : [ERR_REASON_PORTS]);
  });
}

test('NodePorts preFilter skips pods without host ports', () => {
  const p = nodePorts();
  const snapshot = snapshotOf([]);
  assert.equal(
    p.preFilter(new CycleState(), new PodInfo(withPorts('a', [{ containerPort: 80 }])), snapshot).code,
    Code.Skip,
  );
  assert.equal(
    p.preFilter(
      new CycleState(),
      new PodInfo(withPorts('b', [{ containerPort: 80, hostPort: 80 }])),
      snapshot,
    ).code,
    Code.Success,
  );
});
