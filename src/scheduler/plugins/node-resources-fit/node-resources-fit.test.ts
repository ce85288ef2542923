import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NodeInfo, PodInfo } from '../../framework/node-info.ts';
import { CycleState } from '../../framework/status.ts';
import { makeNode, makePod } from '../../testing/builders.ts';
import { nodeResourcesFit } from './node-resources-fit.ts';

function nodeWith(cpu: string, memory: string, pods: string, used: { cpu: string; memory: string }[]) {
  const n = new NodeInfo(makeNode('n', { cpu, memory, pods }));
  for (const [i, u] of used.entries()) n.addPod(new PodInfo(makePod(`u${i}`, u)));
  return n;
}

const cases: [string, NodeInfo, PodInfo, string[]][] = [
  [
    'fits',
    nodeWith('2', '4Gi', '10', [{ cpu: '1', memory: '1Gi' }]),
    new PodInfo(makePod('p', { cpu: '1', memory: '1Gi' })),
    [],
  ],
  [
    'cpu',
    nodeWith('2', '4Gi', '10', [{ cpu: '1500m', memory: '1Gi' }]),
    new PodInfo(makePod('p', { cpu: '1', memory: '1Gi' })),
    ['Insufficient cpu'],
  ],
  [
    'cpu and memory',
    nodeWith('2', '4Gi', '10', [{ cpu: '2', memory: '4Gi' }]),
    new PodInfo(makePod('p', { cpu: '1', memory: '1Gi' })),
    ['Insufficient cpu', 'Insufficient memory'],
  ],
  [
    'too many pods',
    nodeWith('2', '4Gi', '1', [{ cpu: '1', memory: '1Gi' }]),
    new PodInfo(makePod('p', { cpu: '100m' })),
    ['Too many pods'],
  ],
  [
    'init container peak and overhead',
    nodeWith('2', '4Gi', '10', []),
    new PodInfo(
      makePod('p', {
        cpu: '500m',
        spec: {
          initContainers: [{ name: 'i', resources: { requests: { cpu: '1800m' } } }],
          overhead: { cpu: '250m' },
        },
      }),
    ),
    ['Insufficient cpu'],
  ],
  [
    'extended resource',
    nodeWith('2', '4Gi', '10', []),
    new PodInfo({
      ...makePod('p'),
      spec: { containers: [{ name: 'c', resources: { requests: { 'nvidia.com/gpu': '1' } } }] },
    }),
    ['Insufficient nvidia.com/gpu'],
  ],
];

for (const [name, node, pod, reasons] of cases) {
  test(`NodeResourcesFit filter: ${name}`, () => {
    assert.deepEqual(nodeResourcesFit().filter(new CycleState(), pod, node).reasons, reasons);
  });
}

test('NodeResourcesFit scoring: LeastAllocated prefers the emptier node, MostAllocated the fuller', () => {
  const empty = nodeWith('4', '8Gi', '10', []);
  const busy = nodeWith('4', '8Gi', '10', [{ cpu: '2', memory: '4Gi' }]);
  const pod = new PodInfo(makePod('p', { cpu: '1', memory: '2Gi' }));
  const least = nodeResourcesFit();
  const most = nodeResourcesFit({ scoringStrategy: { type: 'MostAllocated' } });
  assert.equal(least.score(new CycleState(), pod, empty), 75);
  assert.equal(least.score(new CycleState(), pod, busy), 25);
  assert.equal(most.score(new CycleState(), pod, busy), 75);
});

test('NodeResourcesFit follows the node: pods added and removed, allocatable changed', () => {
  const fit = nodeResourcesFit();
  const node = nodeWith('2', '4Gi', '2', []);
  const pod = new PodInfo(makePod('p', { cpu: '1', memory: '1Gi' }));
  const fits = () => fit.filter(new CycleState(), pod, node).reasons;
  node.addPod(new PodInfo(makePod('a', { cpu: '1500m', memory: '1Gi' })));
  assert.deepEqual(fits(), ['Insufficient cpu']);
  node.removePod('default/a');
  assert.deepEqual(fits(), []);
  node.addPod(new PodInfo(makePod('b', { cpu: '100m' })));
  node.addPod(new PodInfo(makePod('c', { cpu: '100m' })));
  assert.deepEqual(fits(), ['Too many pods']);
  node.setNode(makeNode('n', { cpu: '2', memory: '4Gi', pods: '3' }));
  assert.deepEqual(fits(), []);
  node.setNode(makeNode('n', { cpu: '2', memory: '512Mi', pods: '3' }));
  assert.deepEqual(fits(), ['Insufficient memory']);
  // scores read the same summary: b and c count with the non-zero default memory (200Mi each)
  node.setNode(makeNode('n', { cpu: '4', memory: '8Gi', pods: '10' }));
  assert.equal(fit.score(new CycleState(), pod, node), Math.floor((70 + 82) / 2));
});
