/** Matching rules shared by plugins: label selectors, node selector terms, tolerations. */

import type {
  NodeSelectorRequirement,
  NodeSelectorTerm,
  Taint,
  Toleration,
} from 'kubernetes-types/core/v1.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';

/** A label selector; `{}` matches everything, `undefined` matches nothing (as in affinity terms). */
export function matchesSelector(
  sel: LabelSelector | undefined | null,
  labels: Record<string, string> = {},
): boolean {
  if (!sel) return false;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    switch (e.operator) {
      case 'In':
        if (!has || !(e.values ?? []).includes(labels[e.key])) return false;
        break;
      case 'NotIn':
        if (has && (e.values ?? []).includes(labels[e.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

function matchesRequirement(r: NodeSelectorRequirement, value: string | undefined): boolean {
  const has = value !== undefined;
  switch (r.operator) {
    case 'In':
      return has && (r.values ?? []).includes(value);
    case 'NotIn':
      return !has || !(r.values ?? []).includes(value);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      if (!has || r.values?.length !== 1) return false;
      const a = Number.parseInt(value, 10);
      const b = Number.parseInt(r.values[0], 10);
      if (Number.isNaN(a) || Number.isNaN(b)) return false;
      return r.operator === 'Gt' ? a > b : a < b;
    }
    default:
      return false;
  }
}

/** One term: every expression and field must match; a term with neither matches nothing. */
export function matchesNodeSelectorTerm(
  term: NodeSelectorTerm,
  nodeName: string,
  labels: Record<string, string>,
): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  for (const e of exprs) if (!matchesRequirement(e, labels[e.key])) return false;
  for (const f of fields) {
    if (f.key !== 'metadata.name' || !matchesRequirement(f, nodeName)) return false;
  }
  return true;
}

/** Terms are ORed. */
export function matchesNodeSelectorTerms(
  terms: NodeSelectorTerm[],
  nodeName: string,
  labels: Record<string, string>,
): boolean {
  for (const t of terms) if (matchesNodeSelectorTerm(t, nodeName, labels)) return true;
  return false;
}

export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  if (!t.key && t.operator !== 'Exists') return false;
  if (t.operator === 'Exists') return true;
  return (t.value ?? '') === (taint.value ?? '');
}

export function toleratesAll(tolerations: Toleration[] | undefined, taint: Taint): boolean {
  for (const t of tolerations ?? []) if (tolerates(t, taint)) return true;
  return false;
}

export const MAX_NODE_SCORE = 100;

/** Scale scores to 0..100 by the maximum (`reverse`: lower raw is better). */
export function defaultNormalizeScore(scores: Float64Array, reverse: boolean): void {
  let max = 0;
  for (const s of scores) if (s > max) max = s;
  if (max === 0) {
    if (reverse) scores.fill(MAX_NODE_SCORE);
    return;
  }
  for (let i = 0; i < scores.length; i++) {
    const s = Math.floor((scores[i] * MAX_NODE_SCORE) / max);
    scores[i] = reverse ? MAX_NODE_SCORE - s : s;
  }
}
