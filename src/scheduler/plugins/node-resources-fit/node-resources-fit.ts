import { MAX_NODE_SCORE } from '../../framework/helpers.ts';
import type { FilterPlugin, PreFilterPlugin, ScorePlugin } from '../../framework/interface.ts';
import type { NodeInfo, PodInfo } from '../../framework/node-info.ts';
import { Code, Status, SUCCESS } from '../../framework/status.ts';
import { Names } from '../names.ts';

export type ScoringStrategy = 'LeastAllocated' | 'MostAllocated';

export interface NodeResourcesFitArgs {
  /** Default LeastAllocated (spread); MostAllocated packs nodes. */
  scoringStrategy?: { type?: ScoringStrategy; resources?: { name: string; weight: number }[] };
}

/** Names of the resources the pod asks for more of than the node has left, in kube-scheduler's order. */
export function insufficientResources(pod: PodInfo, node: NodeInfo): string[] {
  const out: string[] = [];
  const alloc = node.allocatable;
  const used = node.requested;
  const req = pod.requests;
  if (node.pods.length + 1 > alloc.allowedPods) out.push('Too many pods');
  if (req.milliCPU > 0 && req.milliCPU > alloc.milliCPU - used.milliCPU) out.push('Insufficient cpu');
  if (req.memory > 0 && req.memory > alloc.memory - used.memory) out.push('Insufficient memory');
  if (req.ephemeralStorage > 0 && req.ephemeralStorage > alloc.ephemeralStorage - used.ephemeralStorage) {
    out.push('Insufficient ephemeral-storage');
  }
  if (req.scalar) {
    for (const [name, v] of req.scalar) {
      if (v > 0 && v > (alloc.scalar?.get(name) ?? 0) - (used.scalar?.get(name) ?? 0))
        out.push(`Insufficient ${name}`);
    }
  }
  return out;
}

function amount(which: 'alloc' | 'req', name: string, pod: PodInfo, node: NodeInfo): number {
  if (which === 'alloc') {
    const a = node.allocatable;
    return name === 'cpu'
      ? a.milliCPU
      : name === 'memory'
        ? a.memory
        : name === 'ephemeral-storage'
          ? a.ephemeralStorage
          : (a.scalar?.get(name) ?? 0);
  }
  const r = node.nonZeroRequested;
  const p = pod.nonZeroRequests;
  if (name === 'cpu') return r.milliCPU + p.milliCPU;
  if (name === 'memory') return r.memory + p.memory;
  if (name === 'ephemeral-storage') return node.requested.ephemeralStorage + pod.requests.ephemeralStorage;
  return (node.requested.scalar?.get(name) ?? 0) + (pod.requests.scalar?.get(name) ?? 0);
}

/**
 * Filter: the pod's requests (containers, init containers, overhead) must fit in the node's
 * allocatable minus what its pods already request, and the node must have room for one more pod.
 * Score: LeastAllocated favours emptier nodes, MostAllocated fuller ones (weighted over resources).
 */
export function nodeResourcesFit(
  args: NodeResourcesFitArgs = {},
): PreFilterPlugin & FilterPlugin & ScorePlugin {
  const strategy = args.scoringStrategy?.type ?? 'LeastAllocated';
  const resources = args.scoringStrategy?.resources ?? [
    { name: 'cpu', weight: 1 },
    { name: 'memory', weight: 1 },
  ];
  const fast =
    resources.length === 2 &&
    resources[0].name === 'cpu' &&
    resources[1].name === 'memory' &&
    resources[0].weight === 1 &&
    resources[1].weight === 1;
  const least = strategy === 'LeastAllocated';
  const one = (capacity: number, requested: number) => {
    if (capacity === 0 || requested > capacity) return least ? 0 : capacity === 0 ? 0 : MAX_NODE_SCORE;
    return least
      ? Math.floor(((capacity - requested) * MAX_NODE_SCORE) / capacity)
      : Math.floor((requested * MAX_NODE_SCORE) / capacity);
  };
  return {
    name: Names.NodeResourcesFit,
    preFilter() {
      return SUCCESS;
    },
    filter(_state, pod, node) {
      const r = pod.requests;
      if (
        node.freePods > 0 &&
        r.milliCPU <= node.freeMilliCPU &&
        r.memory <= node.freeMemory &&
        r.ephemeralStorage <= node.freeEphemeralStorage &&
        !r.scalar
      ) {
        return SUCCESS;
      }
      const reasons = insufficientResources(pod, node);
      return reasons.length === 0 ? SUCCESS : new Status(Code.Unschedulable, ...reasons);
    },
    score(_state, pod, node) {
      if (fast) {
        const cpu = one(node.allocMilliCPU, node.nonZeroMilliCPU + pod.nonZeroRequests.milliCPU);
        const mem = one(node.allocMemory, node.nonZeroMemory + pod.nonZeroRequests.memory);
        return Math.floor((cpu + mem) / 2);
      }
      let sum = 0;
      let weights = 0;
      for (const r of resources) {
        const cap = amount('alloc', r.name, pod, node);
        if (cap === 0) continue;
        sum += one(cap, amount('req', r.name, pod, node)) * r.weight;
        weights += r.weight;
      }
      return weights ? Math.floor(sum / weights) : 0;
    },
  };
}
