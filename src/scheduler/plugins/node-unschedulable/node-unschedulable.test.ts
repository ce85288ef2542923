import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Toleration } from 'kubernetes-types/core/v1.js';
import { NodeInfo, PodInfo } from '../../framework/node-info.ts';
import { Code, CycleState } from '../../framework/status.ts';
import { makeNode, makePod } from '../../testing/builders.ts';
import { ERR_REASON_UNSCHEDULABLE, nodeUnschedulable } from './node-unschedulable.ts';

const cases: [string, boolean, Toleration[], Code][] = [
  ['schedulable node', false, [], Code.Success],
  ['cordoned node', true, [], Code.UnschedulableAndUnresolvable],
  [
    'cordoned, tolerated by key',
    true,
    [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }],
    Code.Success,
  ],
  ['cordoned, tolerated by an empty-key Exists', true, [{ operator: 'Exists' }], Code.Success],
  [
    'cordoned, toleration for another effect',
    true,
    [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoExecute' }],
    Code.UnschedulableAndUnresolvable,
  ],
];

for (const [name, cordoned, tolerations, code] of cases) {
  test(`NodeUnschedulable filter: ${name}`, () => {
    const s = nodeUnschedulable().filter(
      new CycleState(),
      new PodInfo(makePod('p', { spec: { tolerations } })),
      new NodeInfo(makeNode('n', { unschedulable: cordoned })),
    );
    assert.equal(s.code, code);
    assert.deepEqual(s.reasons, code === Code.Success ? [] : [ERR_REASON_UNSCHEDULABLE]);
  });
}
