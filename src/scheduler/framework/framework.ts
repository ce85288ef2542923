/**
 * One scheduling profile: its plugins, sorted by extension point, and the synchronous part of
 * a scheduling cycle (`schedulePod`): preFilter, filter over a round-robin window of nodes,
 * postFilter when none fits, then preScore, weighted scores and the best node.
 */
import type { PluginConfig, Registry } from '../plugins/registry.ts';
import { FitError } from './fit-error.ts';
import type {
  BindPlugin,
  FilterPlugin,
  FrameworkHandle,
  PermitPlugin,
  Plugin,
  PostFilterPlugin,
  PreFilterPlugin,
  PreScorePlugin,
  QueueSortPlugin,
  ReservePlugin,
  ScorePlugin,
} from './interface.ts';
import type { NodeInfo, PodInfo, Snapshot } from './node-info.ts';
import { Code, CycleState, type Status, SUCCESS } from './status.ts';

export interface ScheduleResult {
  nodeName: string;
  /** How many nodes were filtered and how many passed. */
  evaluatedNodes: number;
  feasibleNodes: number;
}

const MIN_FEASIBLE_NODES_TO_FIND = 100;
const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5;

/** How many feasible nodes to look for before scoring, as kube-scheduler (adaptive when percentage is 0). */
export function numFeasibleNodesToFind(percentageOfNodesToScore: number, numAllNodes: number): number {
  if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND || percentageOfNodesToScore >= 100) return numAllNodes;
  let percentage = percentageOfNodesToScore;
  if (percentage <= 0) {
    percentage = Math.max(50 - Math.trunc(numAllNodes / 125), MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND);
  }
  const n = Math.trunc((numAllNodes * percentage) / 100);
  return Math.max(n, MIN_FEASIBLE_NODES_TO_FIND);
}

export interface FrameworkOptions {
  registry: Registry;
  plugins: PluginConfig[];
  handle: FrameworkHandle;
  /** 0 (default) = adaptive. */
  percentageOfNodesToScore?: number;
  /** For tie-breaking among best nodes (default Math.random). */
  random?: () => number;
}

const has = <T extends Plugin>(p: Plugin, m: string): p is T => typeof (p as any)[m] === 'function';

export class Framework {
  readonly queueSort: QueueSortPlugin | undefined;
  readonly preFilter: PreFilterPlugin[] = [];
  readonly filter: FilterPlugin[] = [];
  readonly postFilter: PostFilterPlugin[] = [];
  readonly preScore: PreScorePlugin[] = [];
  readonly score: { plugin: ScorePlugin; weight: number }[] = [];
  readonly reserve: ReservePlugin[] = [];
  readonly permit: PermitPlugin[] = [];
  readonly bind: BindPlugin[] = [];
  percentageOfNodesToScore: number;
  #nextStartNodeIndex = 0;
  #random: () => number;

  constructor(o: FrameworkOptions) {
    this.percentageOfNodesToScore = o.percentageOfNodesToScore ?? 0;
    this.#random = o.random ?? Math.random;
    const seen = new Set<string>();
    for (const cfg of o.plugins) {
      if (seen.has(cfg.name)) throw new Error(`plugin ${cfg.name} listed twice`);
      seen.add(cfg.name);
      const p = o.registry.get(cfg.name)(cfg.args ?? {}, o.handle);
      if (has<QueueSortPlugin>(p, 'less')) this.queueSort = p;
      if (has<PreFilterPlugin>(p, 'preFilter')) this.preFilter.push(p);
      if (has<FilterPlugin>(p, 'filter')) this.filter.push(p);
      if (has<PostFilterPlugin>(p, 'postFilter')) this.postFilter.push(p);
      if (has<PreScorePlugin>(p, 'preScore')) this.preScore.push(p);
      if (has<ScorePlugin>(p, 'score')) this.score.push({ plugin: p, weight: cfg.weight ?? 1 });
      if (has<ReservePlugin>(p, 'reserve')) this.reserve.push(p);
      if (has<PermitPlugin>(p, 'permit')) this.permit.push(p);
      if (has<BindPlugin>(p, 'bind')) this.bind.push(p);
    }
  }

  /** Every filter not skipped this cycle; the first rejection, tagged with its plugin. */
  runFilters(state: CycleState, pod: PodInfo, node: NodeInfo): Status {
    return this.#runFilters(
      state.skipFilter.size ? this.filter.filter((p) => !state.skipFilter.has(p.name)) : this.filter,
      state,
      pod,
      node,
    );
  }

  #runFilters(filters: FilterPlugin[], state: CycleState, pod: PodInfo, node: NodeInfo): Status {
    for (let i = 0; i < filters.length; i++) {
      const p = filters[i];
      const s = p.filter(state, pod, node);
      if (s.code !== Code.Success) {
        if (s.code === Code.Error) throw new Error(`${p.name}: ${s.message}`);
        s.plugin = p.name;
        return s;
      }
    }
    return SUCCESS;
  }

  /** The synchronous cycle: a node for the pod, or a FitError (after trying postFilter). */
  schedulePod(
    state: CycleState,
    pod: PodInfo,
    snapshot: Snapshot,
  ): ScheduleResult & { nominatedNodeName?: string } {
    const nodes = snapshot.nodes;
    const all = nodes.length;
    if (all === 0) throw new FitError(pod.pod, 0, new Map());
    for (const p of this.preFilter) {
      const s = p.preFilter(state, pod, snapshot);
      if (s.code === Code.Skip) state.skipFilter.add(p.name);
      else if (s.code === Code.Error) throw new Error(`${p.name}: ${s.message}`);
      else if (s.code !== Code.Success) {
        s.plugin = p.name;
        const statuses = new Map<string, Status>();
        for (const n of nodes) statuses.set(n.name, s);
        throw this.#postFilter(state, pod, snapshot, new FitError(pod.pod, all, statuses, s.message));
      }
    }
    const feasible: NodeInfo[] = [];
    const statuses = new Map<string, Status>();
    // A nominated node (from an earlier preemption) is tried first.
    const nominated = pod.pod.status?.nominatedNodeName;
    if (nominated) {
      const n = snapshot.get(nominated);
      if (n && this.runFilters(state, pod, n).isSuccess()) {
        return { nodeName: n.name, evaluatedNodes: 1, feasibleNodes: 1 };
      }
    }
    const filters = this.filter.filter((p) => !state.skipFilter.has(p.name));
    const want = numFeasibleNodesToFind(this.percentageOfNodesToScore, all);
    const start = this.#nextStartNodeIndex % all;
    let processed = 0;
    for (; processed < all && feasible.length < want; processed++) {
      const n = nodes[(start + processed) % all];
      const s = this.#runFilters(filters, state, pod, n);
      if (s.code === Code.Success) feasible.push(n);
      else statuses.set(n.name, s);
    }
    this.#nextStartNodeIndex = (start + processed) % all;
    if (feasible.length === 0)
      throw this.#postFilter(state, pod, snapshot, new FitError(pod.pod, all, statuses));
    if (feasible.length === 1)
      return { nodeName: feasible[0].name, evaluatedNodes: processed, feasibleNodes: 1 };
    return {
      nodeName: this.#selectHost(state, pod, feasible, snapshot),
      evaluatedNodes: processed,
      feasibleNodes: feasible.length,
    };
  }

  #postFilter(
    state: CycleState,
    pod: PodInfo,
    snapshot: Snapshot,
    err: FitError,
  ): FitError & { nominatedNodeName?: string } {
    const e = err as FitError & { nominatedNodeName?: string };
    for (const p of this.postFilter) {
      const r = p.postFilter(state, pod, snapshot, err.statuses);
      if (r.status.isSuccess()) {
        e.nominatedNodeName = r.nominatedNodeName;
        return e;
      }
      if (r.status.message) e.postFilterMsg = r.status.message;
    }
    return e;
  }

  #selectHost(state: CycleState, pod: PodInfo, feasible: NodeInfo[], snapshot: Snapshot): string {
    for (const p of this.preScore) {
      const s = p.preScore(state, pod, feasible, snapshot);
      if (s.code === Code.Skip) state.skipScore.add(p.name);
      else if (s.code !== Code.Success) throw new Error(`${p.name}: ${s.message}`);
    }
    const total = new Float64Array(feasible.length);
    const scores = new Float64Array(feasible.length);
    for (const { plugin, weight } of this.score) {
      if (state.skipScore.has(plugin.name)) continue;
      for (let i = 0; i < feasible.length; i++) scores[i] = plugin.score(state, pod, feasible[i]);
      plugin.normalizeScore?.(state, pod, scores);
      for (let i = 0; i < feasible.length; i++) total[i] += scores[i] * weight;
    }
    // The best score; ties broken uniformly at random (reservoir sampling), as upstream.
    let best = 0;
    let ties = 1;
    for (let i = 1; i < total.length; i++) {
      if (total[i] > total[best]) {
        best = i;
        ties = 1;
      } else if (total[i] === total[best]) {
        ties++;
        if (this.#random() * ties < 1) best = i;
      }
    }
    return feasible[best].name;
  }

  /** A fresh CycleState (so callers need not import it). */
  newCycleState(): CycleState {
    return new CycleState();
  }

  /** Pod ordering for the active queue (PrioritySort unless another QueueSort plugin is set). */
  less(a: Parameters<QueueSortPlugin['less']>[0], b: Parameters<QueueSortPlugin['less']>[1]): boolean {
    return this.queueSort ? this.queueSort.less(a, b) : a.timestamp < b.timestamp;
  }
}
