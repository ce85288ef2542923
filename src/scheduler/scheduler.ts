/**
 * The scheduler loop: pop a pod, run the cycle over the cache, assume the pod on the chosen
 * node, run reserve and permit, and bind in the background through the `Binder`, so the next
 * cycle starts at once. A failed binding forgets the assumption and retries the pod with
 * back-off. Informer wiring stays outside: feed `onNode*`/`onPod*` from node and pod informers.
 */
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { SchedulerCache } from './cache.ts';
import { FitError } from './framework/fit-error.ts';
import { Framework } from './framework/framework.ts';
import type { QueuedPodInfo } from './framework/interface.ts';
import { Code } from './framework/status.ts';
import { DEFAULT_PROFILE, inTreeRegistry, type PluginConfig, type Registry } from './plugins/registry.ts';
import { SchedulingQueue } from './queue.ts';

/** Writes the binding (`pods/binding`). */
export interface Binder {
  bind(pod: Pod, nodeName: string): Promise<void>;
}

/** Records Events (`Scheduled`, `FailedScheduling`) about a pod. */
export interface EventRecorder {
  event(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

/** Reports an unschedulable pod (PodScheduled=False condition, nominatedNodeName); optional. */
export interface PodStatusWriter {
  unschedulable(pod: Pod, message: string, nominatedNodeName?: string): Promise<void>;
}

export interface SchedulerOptions {
  binder: Binder;
  recorder: EventRecorder;
  statusWriter?: PodStatusWriter;
  /** Deletes preemption victims. */
  evict?: (victim: Pod, preemptor: Pod) => Promise<void>;
  schedulerName?: string;
  registry?: Registry;
  plugins?: PluginConfig[];
  percentageOfNodesToScore?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  random?: () => number;
  onError?: (err: unknown) => void;
  /** Bindings in flight at most; the loop waits for one to finish beyond it (default 64). */
  maxBindsInFlight?: number;
}

const keyOf = (pod: Pod) => `${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name}`;

export class Scheduler {
  readonly cache = new SchedulerCache();
  readonly framework: Framework;
  readonly queue: SchedulingQueue;
  readonly schedulerName: string;
  #o: SchedulerOptions;
  #bindings = new Set<Promise<void>>();

  constructor(o: SchedulerOptions) {
    this.#o = o;
    this.schedulerName = o.schedulerName ?? 'default-scheduler';
    this.framework = new Framework({
      registry: o.registry ?? inTreeRegistry(),
      plugins: o.plugins ?? DEFAULT_PROFILE,
      percentageOfNodesToScore: o.percentageOfNodesToScore,
      random: o.random,
      handle: {
        runFilters: (s, p, n) => this.framework.runFilters(s, p, n),
        evict: (v, p) => (o.evict ? o.evict(v, p) : Promise.resolve()),
      },
    });
    this.queue = new SchedulingQueue({
      less: (a, b) => this.framework.less(a, b),
      initialBackoffMs: o.initialBackoffMs,
      maxBackoffMs: o.maxBackoffMs,
    });
  }

  onNodeAdd(node: Node): void {
    this.cache.upsertNode(node);
    this.queue.onClusterEvent('NodeAdd');
  }

  onNodeUpdate(node: Node): void {
    this.cache.upsertNode(node);
    this.queue.onClusterEvent('NodeUpdate');
  }

  onNodeDelete(node: Node): void {
    this.cache.removeNode(node.metadata?.name ?? '');
    this.queue.onClusterEvent('NodeDelete');
  }

  /** A pod was added or changed: bound pods are counted on their node, pending ones of ours queued. */
  onPodUpdate(pod: Pod, isNew = false): void {
    const nodeName = pod.spec?.nodeName;
    if (nodeName) {
      this.queue.delete(pod);
      this.cache.addPod(pod, nodeName);
      this.queue.onClusterEvent(isNew ? 'PodAdd' : 'PodUpdate');
    } else if (
      (pod.spec?.schedulerName ?? 'default-scheduler') === this.schedulerName &&
      !pod.metadata?.deletionTimestamp
    ) {
      if (isNew) this.queue.add(pod);
      else this.queue.update(pod);
    }
  }

  onPodAdd(pod: Pod): void {
    this.onPodUpdate(pod, true);
  }

  onPodDelete(pod: Pod): void {
    this.queue.delete(pod);
    if (this.cache.nodeOf(keyOf(pod)) !== undefined) {
      this.cache.removePod(keyOf(pod));
      this.queue.onClusterEvent('PodDelete');
    }
  }

  /** Schedule the next pod; false once the queue is closed. */
  async scheduleOne(): Promise<boolean> {
    const q = await this.queue.pop();
    if (!q) return false;
    this.#cycle(q);
    return true;
  }

  #cycle(q: QueuedPodInfo): void {
    const pod = q.podInfo;
    const state = this.framework.newCycleState();
    let nodeName: string;
    try {
      nodeName = this.framework.schedulePod(state, pod, this.cache).nodeName;
    } catch (e) {
      this.#failed(q, e);
      return;
    }
    this.cache.addPod(pod, nodeName, true);
    for (const r of this.framework.reserve) {
      const s = r.reserve(state, pod, nodeName);
      if (!s.isSuccess()) {
        this.#undo(q, state, nodeName, new Error(`${r.name}: ${s.message}`));
        return;
      }
    }
    for (const p of this.framework.permit) {
      const s = p.permit(state, pod, nodeName).status;
      // Wait is not supported yet: treated as a rejection to retry later.
      if (!s.isSuccess()) {
        this.#undo(q, state, nodeName, new Error(`${p.name}: ${s.message || 'waiting'}`));
        return;
      }
    }
    const b = this.#bind(q, state, nodeName);
    this.#bindings.add(b);
    void b.finally(() => this.#bindings.delete(b));
  }

  async #bind(
    q: QueuedPodInfo,
    state: ReturnType<Framework['newCycleState']>,
    nodeName: string,
  ): Promise<void> {
    const pod = q.podInfo.pod;
    try {
      let bound = false;
      for (const p of this.framework.bind) {
        const s = await p.bind(state, pod, nodeName);
        if (s.code === Code.Skip) continue;
        if (!s.isSuccess()) throw new Error(`${p.name}: ${s.message}`);
        bound = true;
        break;
      }
      if (!bound) await this.#o.binder.bind(pod, nodeName);
    } catch (e) {
      this.#undo(q, state, nodeName, e);
      return;
    }
    this.queue.done(q.podInfo.key);
    this.#o.recorder.event(
      pod,
      'Normal',
      'Scheduled',
      `Successfully assigned ${q.podInfo.key} to ${nodeName}`,
    );
  }

  #undo(q: QueuedPodInfo, state: ReturnType<Framework['newCycleState']>, nodeName: string, e: unknown): void {
    for (const r of [...this.framework.reserve].reverse()) r.unreserve(state, q.podInfo, nodeName);
    if (this.cache.assumed.has(q.podInfo.key)) this.cache.removePod(q.podInfo.key);
    this.#failed(q, e);
  }

  #failed(q: QueuedPodInfo, e: unknown): void {
    const pod = q.podInfo.pod;
    const fit = e instanceof FitError ? e : undefined;
    if (fit) q.unschedulablePlugins = fit.unschedulablePlugins;
    else this.#o.onError?.(e);
    const message = e instanceof Error ? e.message : String(e);
    this.#o.recorder.event(pod, 'Warning', 'FailedScheduling', message);
    const nominated = (e as { nominatedNodeName?: string }).nominatedNodeName;
    // Remembered on the queued pod, so the next attempt knows its victims are on their way out.
    if (nominated)
      (pod as { status?: Pod['status'] }).status = { ...pod.status, nominatedNodeName: nominated };
    if (this.#o.statusWriter)
      void this.#o.statusWriter.unschedulable(pod, message, nominated).catch((x) => this.#o.onError?.(x));
    this.queue.requeue(q, !!fit && !nominated);
  }

  /** Schedule until `signal` aborts; waits for bindings in flight. */
  async start(signal: AbortSignal): Promise<void> {
    this.queue.startFlushing();
    const stop = () => this.queue.close();
    signal.addEventListener('abort', stop, { once: true });
    const max = this.#o.maxBindsInFlight ?? 64;
    let cycles = 0;
    try {
      while (!signal.aborted) {
        while (this.#bindings.size >= max) await Promise.race(this.#bindings);
        // pop() resolves from a microtask while pods are queued: yield now and then so that
        // watch events and binding answers are read between cycles.
        if (++cycles % 32 === 0) await new Promise((r) => setImmediate(r));
        if (!(await this.scheduleOne())) break;
      }
    } finally {
      signal.removeEventListener('abort', stop);
      this.queue.close();
      await Promise.allSettled([...this.#bindings]);
    }
  }

  /** Resolves when every binding in flight has finished. */
  async idle(): Promise<void> {
    while (this.#bindings.size) await Promise.allSettled([...this.#bindings]);
  }
}
