import {
  defaultNormalizeScore,
  matchesNodeSelectorTerm,
  matchesNodeSelectorTerms,
} from '../../framework/helpers.ts';
import type {
  FilterPlugin,
  PreFilterPlugin,
  PreScorePlugin,
  ScorePlugin,
} from '../../framework/interface.ts';
import type { NodeInfo, PodInfo } from '../../framework/node-info.ts';
import { SKIP, SUCCESS, unresolvable } from '../../framework/status.ts';
import { Names } from '../names.ts';

export const ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector";

/** Does the node satisfy the pod's nodeSelector and required node affinity? */
export function requiredNodeAffinityMatches(pod: PodInfo, node: NodeInfo): boolean {
  const spec = pod.pod.spec;
  const sel = spec?.nodeSelector;
  if (sel) for (const k in sel) if (node.labels[k] !== sel[k]) return false;
  const terms =
    spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (terms && !matchesNodeSelectorTerms(terms, node.name, node.labels)) return false;
  return true;
}

/**
 * Filter: `spec.nodeSelector` and required node affinity (terms ORed, expressions ANDed; In, NotIn,
 * Exists, DoesNotExist, Gt, Lt; matchFields on metadata.name).
 * Score: the sum of the weights of the preferred terms the node matches, scaled to 0..100.
 */
export function nodeAffinity(): PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin {
  return {
    name: Names.NodeAffinity,
    preFilter(_state, pod) {
      const spec = pod.pod.spec;
      const has =
        spec?.nodeSelector || spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
      return has ? SUCCESS : SKIP;
    },
    filter(_state, pod, node) {
      return requiredNodeAffinityMatches(pod, node) ? SUCCESS : unresolvable(ERR_REASON_POD);
    },
    preScore(_state, pod) {
      return pod.pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.length
        ? SUCCESS
        : SKIP;
    },
    score(_state, pod, node) {
      let s = 0;
      for (const p of pod.pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ??
        []) {
        if (p.weight && matchesNodeSelectorTerm(p.preference, node.name, node.labels)) s += p.weight;
      }
      return s;
    },
    normalizeScore(_state, _pod, scores) {
      defaultNormalizeScore(scores, false);
    },
  };
}
