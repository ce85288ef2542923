import type { TopologySpreadConstraint } from 'kubernetes-types/core/v1.js';
import { MAX_NODE_SCORE, matchesSelector } from '../../framework/helpers.ts';
import type {
  FilterPlugin,
  PreFilterPlugin,
  PreScorePlugin,
  ScorePlugin,
} from '../../framework/interface.ts';
import type { NodeInfo, PodInfo, Snapshot } from '../../framework/node-info.ts';
import { SKIP, SUCCESS, unresolvable, unschedulable } from '../../framework/status.ts';
import { Names } from '../names.ts';
import { requiredNodeAffinityMatches } from '../node-affinity/node-affinity.ts';

export const ERR_REASON_CONSTRAINTS = "node(s) didn't match pod topology spread constraints";
export const ERR_REASON_NODE_LABEL =
  "node(s) didn't match pod topology spread constraints (missing required label)";

interface Counted {
  c: TopologySpreadConstraint;
  counts: Map<string, number>;
  min: number;
  selfMatch: number;
}

/** Matching pods per domain of each constraint, over nodes the pod's node affinity allows. */
function count(pod: PodInfo, constraints: TopologySpreadConstraint[], snapshot: Snapshot): Counted[] {
  const out: Counted[] = constraints.map((c) => ({
    c,
    counts: new Map(),
    min: 0,
    selfMatch: matchesSelector(c.labelSelector, pod.pod.metadata?.labels) ? 1 : 0,
  }));
  for (const node of snapshot.nodes) {
    if (!requiredNodeAffinityMatches(pod, node)) continue;
    if (!constraints.every((c) => node.labels[c.topologyKey] !== undefined)) continue;
    for (const x of out) {
      const v = node.labels[x.c.topologyKey];
      let n = 0;
      for (const p of node.pods) {
        if (p.namespace === pod.namespace && matchesSelector(x.c.labelSelector, p.pod.metadata?.labels)) n++;
      }
      x.counts.set(v, (x.counts.get(v) ?? 0) + n);
    }
  }
  for (const x of out) {
    let min = Number.POSITIVE_INFINITY;
    for (const n of x.counts.values()) if (n < min) min = n;
    if (min === Number.POSITIVE_INFINITY) min = 0;
    // Fewer domains than minDomains: the global minimum counts as 0.
    if (x.c.minDomains && x.counts.size < x.c.minDomains) min = 0;
    x.min = min;
  }
  return out;
}

const FILTER_KEY = 'PreFilter/PodTopologySpread';
const SCORE_KEY = 'PreScore/PodTopologySpread';

/**
 * Filter (whenUnsatisfiable: DoNotSchedule): placing the pod in the node's domain must keep
 * `count + self - globalMin <= maxSkew`; nodes without the topology label are rejected.
 * Score (ScheduleAnyway): fewer matching pods in the node's domains is better.
 */
export function podTopologySpread(): PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin {
  return {
    name: Names.PodTopologySpread,
    preFilter(state, pod, snapshot) {
      const hard = (pod.pod.spec?.topologySpreadConstraints ?? []).filter(
        (c) => c.whenUnsatisfiable !== 'ScheduleAnyway',
      );
      if (!hard.length) return SKIP;
      state.write(FILTER_KEY, count(pod, hard, snapshot));
      return SUCCESS;
    },
    filter(state, _pod, node: NodeInfo) {
      const counted = state.read<Counted[]>(FILTER_KEY)!;
      for (const x of counted) {
        const v = node.labels[x.c.topologyKey];
        if (v === undefined) return unresolvable(ERR_REASON_NODE_LABEL);
        const skew = (x.counts.get(v) ?? 0) + x.selfMatch - x.min;
        if (skew > x.c.maxSkew) return unschedulable(ERR_REASON_CONSTRAINTS);
      }
      return SUCCESS;
    },
    preScore(state, pod, _nodes, snapshot) {
      const soft = (pod.pod.spec?.topologySpreadConstraints ?? []).filter(
        (c) => c.whenUnsatisfiable === 'ScheduleAnyway',
      );
      if (!soft.length) return SKIP;
      state.write(SCORE_KEY, count(pod, soft, snapshot));
      return SUCCESS;
    },
    score(state, _pod, node) {
      const counted = state.read<Counted[]>(SCORE_KEY)!;
      let s = 0;
      for (const x of counted) {
        const v = node.labels[x.c.topologyKey];
        // a node outside every domain gets the worst score after normalizing
        s += v === undefined ? Number.MAX_SAFE_INTEGER / 1e6 : (x.counts.get(v) ?? 0) + x.selfMatch;
      }
      return s;
    },
    normalizeScore(_state, _pod, scores) {
      let min = Number.POSITIVE_INFINITY;
      let max = Number.NEGATIVE_INFINITY;
      for (const s of scores) {
        if (s < min) min = s;
        if (s > max) max = s;
      }
      for (let i = 0; i < scores.length; i++) {
        scores[i] =
          max === min ? MAX_NODE_SCORE : Math.floor((MAX_NODE_SCORE * (max - scores[i])) / (max - min));
      }
    },
  };
}
