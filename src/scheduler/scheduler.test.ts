import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { FitError } from './framework/fit-error.ts';
import { numFeasibleNodesToFind } from './framework/framework.ts';
import { PodInfo } from './framework/node-info.ts';
import { Registry } from './plugins/registry.ts';
import { Scheduler } from './scheduler.ts';
import { makeNode, makePod } from './testing/builders.ts';

function newScheduler() {
  const bound: string[] = [];
  const events: string[] = [];
  const evicted: string[] = [];
  const s = new Scheduler({
    binder: { bind: async (pod, node) => void bound.push(`${pod.metadata?.name}->${node}`) },
    recorder: { event: (_p, type, reason, msg) => events.push(`${type} ${reason} ${msg}`) },
    evict: async (v) => void evicted.push(v.metadata!.name!),
    random: () => 0.5,
  });
  return { s, bound, events, evicted };
}

function cycle(s: Scheduler, pod: Pod): string {
  try {
    return s.framework.schedulePod(s.framework.newCycleState(), new PodInfo(pod), s.cache).nodeName;
  } catch (e) {
    if (e instanceof FitError) return e.message;
    throw e;
  }
}

test("FitError message is kube-scheduler's, reasons counted and sorted, with the preemption part", () => {
  const { s } = newScheduler();
  s.onNodeAdd(
    makeNode('cp', { taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }),
  );
  s.onNodeAdd(makeNode('w1', { cpu: '1' }));
  s.onNodeAdd(makeNode('w2', { cpu: '1' }));
  assert.equal(
    cycle(s, makePod('big', { cpu: '2' })),
    '0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod..',
  );
  assert.equal(
    cycle(
      s,
      makePod('never', {
        cpu: '2',
        spec: {
          preemptionPolicy: 'Never',
          containers: [{ name: 'c', resources: { requests: { cpu: '2', memory: '64Gi' } } }],
        },
      }),
    ),
    '0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu, 2 Insufficient memory. not eligible due to preemptionPolicy=Never..',
  );
});

test('numFeasibleNodesToFind is adaptive like upstream', () => {
  assert.equal(numFeasibleNodesToFind(0, 50), 50);
  assert.equal(numFeasibleNodesToFind(0, 1000), 420);
  assert.equal(numFeasibleNodesToFind(0, 5000), 500);
  assert.equal(numFeasibleNodesToFind(0, 100_000), 5000);
  assert.equal(numFeasibleNodesToFind(10, 500), 100);
  assert.equal(numFeasibleNodesToFind(100, 5000), 5000);
});

test('preemption evicts the fewest lower-priority pods and nominates the node', () => {
  const { s, evicted } = newScheduler();
  s.onNodeAdd(makeNode('a', { cpu: '2' }));
  s.onNodeAdd(makeNode('b', { cpu: '2' }));
  s.onPodAdd({
    ...makePod('a1', { cpu: '1', priority: 1 }),
    spec: { ...makePod('a1', { cpu: '1', priority: 1 }).spec!, nodeName: 'a' },
  });
  s.onPodAdd({
    ...makePod('a2', { cpu: '1', priority: 1 }),
    spec: { ...makePod('a2', { cpu: '1', priority: 1 }).spec!, nodeName: 'a' },
  });
  s.onPodAdd({
    ...makePod('b1', { cpu: '2', priority: 5 }),
    spec: { ...makePod('b1', { cpu: '2', priority: 5 }).spec!, nodeName: 'b' },
  });
  try {
    s.framework.schedulePod(
      s.framework.newCycleState(),
      new PodInfo(makePod('vip', { cpu: '1', priority: 10 })),
      s.cache,
    );
    assert.fail('should not fit');
  } catch (e) {
    assert.ok(e instanceof FitError);
    assert.equal((e as FitError & { nominatedNodeName?: string }).nominatedNodeName, 'a');
    assert.equal(e.message, '0/2 nodes are available: 2 Insufficient cpu.');
  }
  assert.equal(evicted.length, 1, 'one victim is enough');
  assert.ok(evicted[0] === 'a1' || evicted[0] === 'a2');
});

test('Scheduler binds, records events, parks unschedulable pods and retries them on a node event', async () => {
  const { s, bound, events } = newScheduler();
  s.onNodeAdd(makeNode('n1', { cpu: '1' }));
  s.onPodAdd(makePod('low', { cpu: '500m', priority: 0 }));
  s.onPodAdd(makePod('high', { cpu: '500m', priority: 100 }));
  s.onPodAdd(makePod('huge', { cpu: '3' }));
  await s.scheduleOne();
  await s.scheduleOne();
  await s.scheduleOne();
  await s.idle();
  assert.deepEqual(bound, ['high->n1', 'low->n1'], 'priority first');
  assert.ok(events.includes('Normal Scheduled Successfully assigned default/high to n1'));
  assert.ok(
    events.some((e) => e.startsWith('Warning FailedScheduling 0/1 nodes are available: 1 Insufficient cpu.')),
  );
  assert.equal(s.queue.length.unschedulable, 1);
  s.onNodeUpdate(makeNode('n1', { cpu: '1', labels: { x: 'y' } })); // not helpful? NodeUpdate can help resources: moved
  assert.equal(s.queue.length.unschedulable, 0);
  assert.equal(s.queue.length.backoff, 1, 'still backing off');
  s.onNodeAdd(makeNode('n2', { cpu: '4' }));
  s.queue.flush();
  assert.equal(s.queue.length.backoff, 1);
});

test('Registry rejects duplicate names', () => {
  const r = new Registry().register('X', () => ({ name: 'X' }));
  assert.throws(() => r.register('X', () => ({ name: 'X' })), /already registered/);
});
