import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { NodeInfo, PodInfo } from '../../framework/node-info.ts';
import { CycleState } from '../../framework/status.ts';
import { makeNode, makePod } from '../../testing/builders.ts';
import { taintToleration } from './taint-toleration.ts';

const cases: [string, Taint[], Toleration[], string | null][] = [
  ['no taints', [], [], null],
  [
    'untolerated NoSchedule',
    [{ key: 'k', value: 'v', effect: 'NoSchedule' }],
    [],
    'node(s) had untolerated taint {k: v}',
  ],
  ['Equal toleration', [{ key: 'k', value: 'v', effect: 'NoSchedule' }], [{ key: 'k', value: 'v' }], null],
  [
    'Equal, wrong value',
    [{ key: 'k', value: 'v', effect: 'NoExecute' }],
    [{ key: 'k', value: 'w' }],
    'node(s) had untolerated taint {k: v}',
  ],
  ['Exists with no key tolerates all', [{ key: 'k', effect: 'NoSchedule' }], [{ operator: 'Exists' }], null],
  [
    'effect must match',
    [{ key: 'k', effect: 'NoSchedule' }],
    [{ key: 'k', operator: 'Exists', effect: 'NoExecute' }],
    'node(s) had untolerated taint {k: }',
  ],
  ['PreferNoSchedule does not filter', [{ key: 'k', effect: 'PreferNoSchedule' }], [], null],
];

for (const [name, taints, tolerations, reason] of cases) {
  test(`TaintToleration filter: ${name}`, () => {
    const node = new NodeInfo(makeNode('n', { taints }));
    const s = taintToleration().filter(
      new CycleState(),
      new PodInfo(makePod('p', { spec: { tolerations } })),
      node,
    );
    assert.deepEqual(s.reasons, reason ? [reason] : []);
  });
}

test('TaintToleration follows the node: taints added and removed', () => {
  const plugin = taintToleration();
  const node = new NodeInfo(makeNode('n'));
  const pod = new PodInfo(makePod('p'));
  assert.equal(plugin.filter(new CycleState(), pod, node).isSuccess(), true);
  node.setNode(makeNode('n', { taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }] }));
  assert.equal(plugin.filter(new CycleState(), pod, node).isSuccess(), false);
  node.setNode(makeNode('n', { taints: [{ key: 'k', effect: 'PreferNoSchedule' }] }));
  assert.equal(plugin.filter(new CycleState(), pod, node).isSuccess(), true);
  assert.equal(plugin.score(new CycleState(), pod, node), 1);
  node.setNode(makeNode('n'));
  assert.equal(plugin.score(new CycleState(), pod, node), 0);
});
