import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NodeInfo, PodInfo, snapshotOf } from '../../framework/node-info.ts';
import { CycleState } from '../../framework/status.ts';
import { makeNode, makePod } from '../../testing/builders.ts';
import { podTopologySpread } from './pod-topology-spread.ts';

test('PodTopologySpread filter: maxSkew per zone, missing label', () => {
  const a = new NodeInfo(makeNode('a', { labels: { zone: 'z1' } }));
  const b = new NodeInfo(makeNode('b', { labels: { zone: 'z2' } }));
  const c = new NodeInfo(makeNode('c'));
  a.addPod(new PodInfo(makePod('w1', { labels: { app: 'web' } })));
  const pod = new PodInfo(
    makePod('p', {
      labels: { app: 'web' },
      spec: {
        topologySpreadConstraints: [
          {
            maxSkew: 1,
            topologyKey: 'zone',
            whenUnsatisfiable: 'DoNotSchedule',
            labelSelector: { matchLabels: { app: 'web' } },
          },
        ],
      },
    }),
  );
  const plugin = podTopologySpread();
  const state = new CycleState();
  assert.ok(plugin.preFilter(state, pod, snapshotOf([a, b, c])).isSuccess());
  assert.deepEqual(plugin.filter(state, pod, a).reasons, [
    "node(s) didn't match pod topology spread constraints",
  ]);
  assert.ok(plugin.filter(state, pod, b).isSuccess());
  assert.deepEqual(plugin.filter(state, pod, c).reasons, [
    "node(s) didn't match pod topology spread constraints (missing required label)",
  ]);
});
