import type { QueuedPodInfo, QueueSortPlugin } from '../../framework/interface.ts';
import { Names } from '../names.ts';

/** Higher priority first; among equals, the pod queued earlier. */
export function prioritySort(): QueueSortPlugin {
  return {
    name: Names.PrioritySort,
    less(a: QueuedPodInfo, b: QueuedPodInfo): boolean {
      const pa = a.podInfo.priority;
      const pb = b.podInfo.priority;
      return pa > pb || (pa === pb && a.timestamp < b.timestamp);
    },
  };
}
