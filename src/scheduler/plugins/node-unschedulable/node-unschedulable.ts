import { toleratesAll } from '../../framework/helpers.ts';
import type { FilterPlugin } from '../../framework/interface.ts';
import { SUCCESS, unresolvable } from '../../framework/status.ts';
import { Names } from '../names.ts';

export const ERR_REASON_UNSCHEDULABLE = 'node(s) were unschedulable';
const UNSCHEDULABLE_TAINT = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };

/** A cordoned node (`spec.unschedulable`) takes only pods tolerating its unschedulable taint. */
export function nodeUnschedulable(): FilterPlugin {
  return {
    name: Names.NodeUnschedulable,
    filter(_state, pod, node) {
      if (!node.unschedulable) return SUCCESS;
      return toleratesAll(pod.pod.spec?.tolerations, UNSCHEDULABLE_TAINT)
        ? SUCCESS
        : unresolvable(ERR_REASON_UNSCHEDULABLE);
    },
  };
}
