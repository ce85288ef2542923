/**
 * The scheduling framework's extension points. A plugin is an object with a `name` and the
 * methods of the points it takes part in; the framework calls them in this order each cycle:
 *
 *   queueSort → preFilter → filter (per node) → postFilter (only if no node passed)
 *   → preScore → score (per feasible node) → normalizeScore → reserve → permit → bind
 *
 * and `unreserve` on any failure after reserve.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { NodeInfo, PodInfo, Snapshot } from './node-info.ts';
import type { CycleState, Status } from './status.ts';

export interface Plugin {
  readonly name: string;
}

/** A pod waiting in the scheduling queue. */
export interface QueuedPodInfo {
  podInfo: PodInfo;
  /** When it first entered the queue (ms). */
  initialAttemptTimestamp: number;
  /** When it was last added to the queue (ms): the tie-breaker after priority. */
  timestamp: number;
  attempts: number;
  /** Plugins that rejected it last time, to decide which cluster events may help. */
  unschedulablePlugins: Set<string>;
}

export interface QueueSortPlugin extends Plugin {
  less(a: QueuedPodInfo, b: QueuedPodInfo): boolean;
}

export interface PreFilterPlugin extends Plugin {
  /** Precompute for filter; `Skip` skips this plugin's filter; a rejection rejects every node. */
  preFilter(state: CycleState, pod: PodInfo, snapshot: Snapshot): Status;
}

export interface FilterPlugin extends Plugin {
  filter(state: CycleState, pod: PodInfo, node: NodeInfo): Status;
}

export interface PostFilterResult {
  status: Status;
  nominatedNodeName?: string;
}

export interface PostFilterPlugin extends Plugin {
  /** Runs when no node passed filter, with each node's rejection. */
  postFilter(
    state: CycleState,
    pod: PodInfo,
    snapshot: Snapshot,
    statuses: Map<string, Status>,
  ): PostFilterResult;
}

export interface PreScorePlugin extends Plugin {
  preScore(state: CycleState, pod: PodInfo, nodes: NodeInfo[], snapshot: Snapshot): Status;
}

export interface ScorePlugin extends Plugin {
  /** Raw score of one feasible node. */
  score(state: CycleState, pod: PodInfo, node: NodeInfo): number;
  /** Scale the raw scores (in node order) to 0..100 in place. */
  normalizeScore?(state: CycleState, pod: PodInfo, scores: Float64Array): void;
}

export interface ReservePlugin extends Plugin {
  reserve(state: CycleState, pod: PodInfo, nodeName: string): Status;
  unreserve(state: CycleState, pod: PodInfo, nodeName: string): void;
}

export interface PermitResult {
  status: Status;
  /** With `Wait`: how long to wait before rejecting. */
  timeoutMs?: number;
}

export interface PermitPlugin extends Plugin {
  permit(state: CycleState, pod: PodInfo, nodeName: string): PermitResult;
}

export interface BindPlugin extends Plugin {
  /** `Skip` passes to the next bind plugin. */
  bind(state: CycleState, pod: Pod, nodeName: string): Promise<Status>;
}

/** What plugins may ask of the scheduler that runs them. */
export interface FrameworkHandle {
  /** Run every filter (honouring Skip) against one node, as preemption's dry run needs. */
  runFilters(state: CycleState, pod: PodInfo, node: NodeInfo): Status;
  /** Delete a pod to make room (preemption). */
  evict(victim: Pod, preemptor: Pod): Promise<void>;
}

/** Makes a plugin from its arguments (from the scheduler configuration) and the handle. */
export type PluginFactory = (args: any, handle: FrameworkHandle) => Plugin;
