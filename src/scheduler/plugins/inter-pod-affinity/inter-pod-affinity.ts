import type { PodAffinityTerm } from 'kubernetes-types/core/v1.js';
import { MAX_NODE_SCORE, matchesSelector } from '../../framework/helpers.ts';
import type {
  FilterPlugin,
  PreFilterPlugin,
  PreScorePlugin,
  ScorePlugin,
} from '../../framework/interface.ts';
import type { PodInfo } from '../../framework/node-info.ts';
import { SKIP, SUCCESS, unresolvable, unschedulable } from '../../framework/status.ts';
import { Names } from '../names.ts';

export const ERR_REASON_AFFINITY = "node(s) didn't match pod affinity rules";
export const ERR_REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
export const ERR_REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";

/** Does `term` (written by `owner`) select `target`? Empty namespaces mean the owner's namespace. */
export function termMatches(term: PodAffinityTerm, owner: PodInfo, target: PodInfo): boolean {
  const nsSel = term.namespaceSelector;
  const namespaces = term.namespaces ?? [];
  let nsOk: boolean;
  if (namespaces.length === 0 && !nsSel) nsOk = target.namespace === owner.namespace;
  else {
    nsOk = namespaces.includes(target.namespace);
    // Namespace labels are not in the snapshot: an empty selector (all namespaces) is honoured.
    if (!nsOk && nsSel && !nsSel.matchLabels && !nsSel.matchExpressions) nsOk = true;
  }
  return nsOk && matchesSelector(term.labelSelector, target.pod.metadata?.labels);
}

const pairKey = (k: string, v: string) => `${k}\u0000${v}`;

interface PreFilterState {
  affinityTerms: PodAffinityTerm[];
  antiAffinityTerms: PodAffinityTerm[];
  affinityCounts: Map<string, number>;
  antiAffinityCounts: Map<string, number>;
  existingAntiAffinityCounts: Map<string, number>;
}

const STATE_KEY = 'PreFilter/InterPodAffinity';
const SCORE_KEY = 'PreScore/InterPodAffinity';

/**
 * Filter: the pod's required affinity (some matching pod in the node's topology domain; a pod
 * that matches its own terms may start a domain), its required anti-affinity (no matching pod in
 * the domain), and existing pods' required anti-affinity against it.
 * Score: preferred terms of the pod and of existing pods (both ways), and existing pods' required
 * affinity, summed per topology domain and scaled to 0..100.
 */
export function interPodAffinity(
  args: { hardPodAffinityWeight?: number } = {},
): PreFilterPlugin & FilterPlugin & PreScorePlugin & ScorePlugin {
  const hardWeight = args.hardPodAffinityWeight ?? 1;
  return {
    name: Names.InterPodAffinity,
    preFilter(state, pod, snapshot) {
      const a = pod.pod.spec?.affinity;
      const affinityTerms = a?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
      const antiAffinityTerms = a?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
      const existing = snapshot.havePodsWithRequiredAntiAffinity();
      if (!affinityTerms.length && !antiAffinityTerms.length && !existing) return SKIP;
      const s: PreFilterState = {
        affinityTerms,
        antiAffinityTerms,
        affinityCounts: new Map(),
        antiAffinityCounts: new Map(),
        existingAntiAffinityCounts: new Map(),
      };
      const bump = (m: Map<string, number>, k: string, v: string | undefined) => {
        if (v === undefined) return;
        const pk = pairKey(k, v);
        m.set(pk, (m.get(pk) ?? 0) + 1);
      };
      for (const node of snapshot.nodes) {
        if (existing) {
          for (const other of node.podsWithRequiredAntiAffinity) {
            for (const t of other.pod.spec!.affinity!.podAntiAffinity!
              .requiredDuringSchedulingIgnoredDuringExecution!) {
              if (termMatches(t, other, pod))
                bump(s.existingAntiAffinityCounts, t.topologyKey, node.labels[t.topologyKey]);
            }
          }
        }
        if (affinityTerms.length || antiAffinityTerms.length) {
          for (const other of node.pods) {
            for (const t of affinityTerms)
              if (termMatches(t, pod, other))
                bump(s.affinityCounts, t.topologyKey, node.labels[t.topologyKey]);
            for (const t of antiAffinityTerms) {
              if (termMatches(t, pod, other))
                bump(s.antiAffinityCounts, t.topologyKey, node.labels[t.topologyKey]);
            }
          }
        }
      }
      state.write(STATE_KEY, s);
      return SUCCESS;
    },
    filter(state, pod, node) {
      const s = state.read<PreFilterState>(STATE_KEY)!;
      if (s.affinityTerms.length) {
        let ok = true;
        for (const t of s.affinityTerms) {
          const v = node.labels[t.topologyKey];
          if (v === undefined || !(s.affinityCounts.get(pairKey(t.topologyKey, v)) ?? 0)) {
            ok = false;
            break;
          }
        }
        if (!ok) {
          // The first pod of a group: nothing matches anywhere, but the pod matches its own terms.
          const selfStart =
            s.affinityCounts.size === 0 &&
            s.affinityTerms.every(
              (t) => termMatches(t, pod, pod) && node.labels[t.topologyKey] !== undefined,
            );
          if (!selfStart) return unresolvable(ERR_REASON_AFFINITY);
        }
      }
      for (const t of s.antiAffinityTerms) {
        const v = node.labels[t.topologyKey];
        if (v !== undefined && (s.antiAffinityCounts.get(pairKey(t.topologyKey, v)) ?? 0) > 0) {
          return unschedulable(ERR_REASON_ANTI_AFFINITY);
        }
      }
      for (const [pk, n] of s.existingAntiAffinityCounts) {
        if (n <= 0) continue;
        const [k, v] = pk.split('\u0000');
        if (node.labels[k] === v) return unschedulable(ERR_REASON_EXISTING_ANTI_AFFINITY);
      }
      return SUCCESS;
    },
    preScore(state, pod, _nodes, snapshot) {
      const a = pod.pod.spec?.affinity;
      const prefAff = a?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
      const prefAnti = a?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
      const own = prefAff.length + prefAnti.length > 0;
      if (!own && !snapshot.havePodsWithAffinity()) return SKIP;
      const scores = new Map<string, number>();
      const add = (k: string, v: string | undefined, w: number) => {
        if (v === undefined || w === 0) return;
        const pk = pairKey(k, v);
        scores.set(pk, (scores.get(pk) ?? 0) + w);
      };
      for (const node of snapshot.nodes) {
        const others = own ? node.pods : node.podsWithAffinity;
        for (const other of others) {
          for (const w of prefAff)
            if (termMatches(w.podAffinityTerm, pod, other))
              add(w.podAffinityTerm.topologyKey, node.labels[w.podAffinityTerm.topologyKey], w.weight);
          for (const w of prefAnti)
            if (termMatches(w.podAffinityTerm, pod, other))
              add(w.podAffinityTerm.topologyKey, node.labels[w.podAffinityTerm.topologyKey], -w.weight);
          if (!other.hasAffinity) continue;
          const oa = other.pod.spec!.affinity!;
          for (const w of oa.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []) {
            if (termMatches(w.podAffinityTerm, other, pod))
              add(w.podAffinityTerm.topologyKey, node.labels[w.podAffinityTerm.topologyKey], w.weight);
          }
          for (const w of oa.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []) {
            if (termMatches(w.podAffinityTerm, other, pod))
              add(w.podAffinityTerm.topologyKey, node.labels[w.podAffinityTerm.topologyKey], -w.weight);
          }
          for (const t of oa.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []) {
            if (termMatches(t, other, pod)) add(t.topologyKey, node.labels[t.topologyKey], hardWeight);
          }
        }
      }
      if (scores.size === 0) return SKIP;
      const keys = new Map<string, Map<string, number>>();
      for (const [pk, w] of scores) {
        const [k, v] = pk.split('\u0000');
        let m = keys.get(k);
        if (!m) {
          m = new Map();
          keys.set(k, m);
        }
        m.set(v, w);
      }
      state.write(SCORE_KEY, keys);
      return SUCCESS;
    },
    score(state, _pod, node) {
      const keys = state.read<Map<string, Map<string, number>>>(SCORE_KEY)!;
      let s = 0;
      for (const [k, m] of keys) {
        const v = node.labels[k];
        if (v !== undefined) s += m.get(v) ?? 0;
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
      const d = max - min;
      for (let i = 0; i < scores.length; i++)
        scores[i] = d > 0 ? Math.floor((MAX_NODE_SCORE * (scores[i] - min)) / d) : 0;
    },
  };
}
