import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { QueuedPodInfo } from '../../framework/interface.ts';
import { PodInfo } from '../../framework/node-info.ts';
import { makePod } from '../../testing/builders.ts';
import { prioritySort } from './priority-sort.ts';

const queued = (priority: number | undefined, timestamp: number): QueuedPodInfo => ({
  podInfo: new PodInfo(makePod(`p${priority}-${timestamp}`, { priority })),
  timestamp,
  initialAttemptTimestamp: timestamp,
  attempts: 0,
  unschedulablePlugins: new Set(),
});

const cases: [string, QueuedPodInfo, QueuedPodInfo, boolean][] = [
  ['higher priority first', queued(10, 2), queued(1, 1), true],
  ['lower priority later', queued(1, 1), queued(10, 2), false],
  ['equal priority: earlier first', queued(5, 1), queued(5, 2), true],
  ['equal priority: later second', queued(5, 2), queued(5, 1), false],
  ['no priority is 0', queued(undefined, 1), queued(0, 2), true],
  ['negative below none', queued(-1, 1), queued(undefined, 2), false],
  ['same pod is not less than itself', queued(3, 3), queued(3, 3), false],
];

for (const [name, a, b, want] of cases) {
  test(`PrioritySort less: ${name}`, () => {
    assert.equal(prioritySort().less(a, b), want);
  });
}
