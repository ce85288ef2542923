import { unavailableMessage } from '../../framework/fit-error.ts';
import type { FrameworkHandle, PostFilterPlugin } from '../../framework/interface.ts';
import type { NodeInfo, PodInfo } from '../../framework/node-info.ts';
import { Code, type Status, SUCCESS, unresolvable, unschedulable } from '../../framework/status.ts';
import { Names } from '../names.ts';

export const MSG_NOT_HELPFUL = 'Preemption is not helpful for scheduling';
export const MSG_NO_VICTIMS = 'No preemption victims found for incoming pod';

export interface Candidate {
  node: NodeInfo;
  victims: PodInfo[];
}

/** Fewest, lowest-priority victims: upstream's order of tie-breakers (without PDBs). */
function better(a: Candidate, b: Candidate): boolean {
  const top = (c: Candidate) => Math.max(...c.victims.map((v) => v.priority));
  const sum = (c: Candidate) => c.victims.reduce((s, v) => s + v.priority + 2 ** 31, 0);
  if (top(a) !== top(b)) return top(a) < top(b);
  if (sum(a) !== sum(b)) return sum(a) < sum(b);
  return a.victims.length < b.victims.length;
}

/**
 * PostFilter: find a node where deleting lower-priority pods lets the pod fit, evict the fewest
 * and least important of them, and nominate that node (`status.nominatedNodeName`); the pod is
 * retried once they are gone. Nodes that rejected the pod as unresolvable are not considered.
 */
export function defaultPreemption(_args: unknown, handle: FrameworkHandle): PostFilterPlugin {
  return {
    name: Names.DefaultPreemption,
    postFilter(state, pod, snapshot, statuses) {
      if (pod.pod.spec?.preemptionPolicy === 'Never') {
        return { status: unschedulable('not eligible due to preemptionPolicy=Never.') };
      }
      // Victims already chosen are still terminating on the nominated node: wait for them
      // rather than pick more (upstream's PodEligibleToPreemptOthers).
      const nominated = pod.pod.status?.nominatedNodeName;
      const target = nominated ? snapshot.get(nominated) : undefined;
      if (target?.pods.some((p) => p.pod.metadata?.deletionTimestamp && p.priority < pod.priority)) {
        return { status: unschedulable('not eligible due to a terminating pod on the nominated node.') };
      }
      const why = new Map<string, Status>();
      let best: Candidate | undefined;
      for (const node of snapshot.nodes) {
        const st = statuses.get(node.name);
        if (!st || st.code !== Code.Unschedulable) {
          why.set(node.name, unresolvable(MSG_NOT_HELPFUL));
          continue;
        }
        const lower = node.pods.filter((p) => p.priority < pod.priority);
        if (!lower.length) {
          why.set(node.name, unresolvable(MSG_NO_VICTIMS));
          continue;
        }
        const trial = node.clone();
        for (const v of lower) trial.removePod(v.key);
        const fits = handle.runFilters(state, pod, trial);
        if (!fits.isSuccess()) {
          why.set(node.name, fits);
          continue;
        }
        // Reprieve as many as possible, most important first.
        const victims: PodInfo[] = [];
        for (const v of [...lower].sort((a, b) => b.priority - a.priority)) {
          trial.addPod(v);
          if (!handle.runFilters(state, pod, trial).isSuccess()) {
            trial.removePod(v.key);
            victims.push(v);
          }
        }
        if (!victims.length) continue;
        const c = { node, victims };
        if (!best || better(c, best)) best = c;
      }
      if (!best) {
        return { status: unschedulable(`preemption: ${unavailableMessage(snapshot.nodes.length, why)}`) };
      }
      for (const v of best.victims) void handle.evict(v.pod, pod.pod).catch(() => {});
      return { status: SUCCESS, nominatedNodeName: best.node.name };
    },
  };
}
