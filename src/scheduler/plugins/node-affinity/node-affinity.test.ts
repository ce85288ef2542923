import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { NodeInfo, PodInfo } from '../../framework/node-info.ts';
import { CycleState } from '../../framework/status.ts';
import { makeNode, makePod } from '../../testing/builders.ts';
import { nodeAffinity } from './node-affinity.ts';

const node = new NodeInfo(makeNode('n1', { labels: { zone: 'a', gen: '5' } }));
const req = (...matchExpressions: any[]): Partial<NonNullable<Pod['spec']>> => ({
  affinity: {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions }] },
    },
  },
});

const cases: [string, Partial<NonNullable<Pod['spec']>>, boolean][] = [
  ['nodeSelector match', { nodeSelector: { zone: 'a' } }, true],
  ['nodeSelector miss', { nodeSelector: { zone: 'b' } }, false],
  ['In', req({ key: 'zone', operator: 'In', values: ['a', 'b'] }), true],
  ['NotIn', req({ key: 'zone', operator: 'NotIn', values: ['a'] }), false],
  ['Exists', req({ key: 'gen', operator: 'Exists' }), true],
  ['DoesNotExist', req({ key: 'gen', operator: 'DoesNotExist' }), false],
  ['Gt', req({ key: 'gen', operator: 'Gt', values: ['4'] }), true],
  ['Lt', req({ key: 'gen', operator: 'Lt', values: ['4'] }), false],
  [
    'ANDed expressions',
    req({ key: 'zone', operator: 'In', values: ['a'] }, { key: 'gen', operator: 'Lt', values: ['4'] }),
    false,
  ],
];

for (const [name, spec, fits] of cases) {
  test(`NodeAffinity filter: ${name}`, () => {
    const s = nodeAffinity().filter(new CycleState(), new PodInfo(makePod('p', { spec })), node);
    assert.equal(s.isSuccess(), fits);
    if (!fits) assert.deepEqual(s.reasons, ["node(s) didn't match Pod's node affinity/selector"]);
  });
}

test('NodeAffinity score sums preferred weights', () => {
  const pod = new PodInfo(
    makePod('p', {
      spec: {
        affinity: {
          nodeAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              {
                weight: 3,
                preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] },
              },
              {
                weight: 5,
                preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] },
              },
            ],
          },
        },
      },
    }),
  );
  assert.equal(nodeAffinity().score(new CycleState(), pod, node), 3);
});
