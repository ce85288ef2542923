import { defaultNormalizeScore, toleratesAll } from '../../framework/helpers.ts';
import type { FilterPlugin, ScorePlugin } from '../../framework/interface.ts';
import { SUCCESS, unresolvable } from '../../framework/status.ts';
import { Names } from '../names.ts';

/**
 * Filter: a node's NoSchedule/NoExecute taints must all be tolerated.
 * Score: fewer untolerated PreferNoSchedule taints is better.
 */
export function taintToleration(): FilterPlugin & ScorePlugin {
  return {
    name: Names.TaintToleration,
    filter(_state, pod, node) {
      const taints = node.taints;
      if (!taints) return SUCCESS;
      const tolerations = pod.pod.spec?.tolerations;
      for (const t of taints) {
        if (t.effect !== 'NoSchedule' && t.effect !== 'NoExecute') continue;
        if (!toleratesAll(tolerations, t)) {
          return unresolvable(`node(s) had untolerated taint {${t.key}: ${t.value ?? ''}}`);
        }
      }
      return SUCCESS;
    },
    score(_state, pod, node) {
      const taints = node.taints;
      if (!taints) return 0;
      const tolerations = pod.pod.spec?.tolerations?.filter(
        (t) => !t.effect || t.effect === 'PreferNoSchedule',
      );
      let n = 0;
      for (const t of taints) if (t.effect === 'PreferNoSchedule' && !toleratesAll(tolerations, t)) n++;
      return n;
    },
    normalizeScore(_state, _pod, scores) {
      defaultNormalizeScore(scores, true);
    },
  };
}
