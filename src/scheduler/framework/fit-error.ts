import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Status } from './status.ts';

/** `0/3 nodes are available: 1 node(s) had untolerated taint {a: }, 2 Insufficient cpu.`: reasons counted and sorted, as kube-scheduler prints them. */
export function unavailableMessage(
  numAllNodes: number,
  statuses: Map<string, Status>,
  preFilterMsg = '',
  postFilterMsg = '',
): string {
  let msg = `0/${numAllNodes} nodes are available:`;
  if (preFilterMsg) msg += ` ${preFilterMsg}.`;
  else {
    const counts = new Map<string, number>();
    for (const s of statuses.values()) for (const r of s.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
    const parts = [...counts].map(([r, n]) => `${n} ${r}`).sort();
    if (parts.length) msg += ` ${parts.join(', ')}.`;
  }
  if (postFilterMsg) msg += ` ${postFilterMsg}.`;
  return msg;
}

/** No node fits the pod: why, node by node. */
export class FitError extends Error {
  readonly pod: Pod;
  readonly numAllNodes: number;
  readonly statuses: Map<string, Status>;
  readonly preFilterMsg: string;
  postFilterMsg: string;
  /** Plugins that rejected the pod: the cluster events that may help are theirs. */
  readonly unschedulablePlugins: Set<string>;

  constructor(
    pod: Pod,
    numAllNodes: number,
    statuses: Map<string, Status>,
    preFilterMsg = '',
    postFilterMsg = '',
  ) {
    super();
    this.name = 'FitError';
    this.pod = pod;
    this.numAllNodes = numAllNodes;
    this.statuses = statuses;
    this.preFilterMsg = preFilterMsg;
    this.postFilterMsg = postFilterMsg;
    this.unschedulablePlugins = new Set();
    for (const s of statuses.values()) if (s.plugin) this.unschedulablePlugins.add(s.plugin);
  }

  override get message(): string {
    return unavailableMessage(this.numAllNodes, this.statuses, this.preFilterMsg, this.postFilterMsg);
  }

  override set message(_v: string) {}
}
