/**
 * The scheduling queue: `activeQ` (pods to try now, ordered by the QueueSort plugin: priority,
 * then time queued), `backoffQ` (pods that failed, waiting out a per-pod exponential back-off of
 * 1 s doubling to 10 s) and the unschedulable set (pods no node fitted; they move back when a
 * cluster event that could help them happens, or after 5 minutes).
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { QueuedPodInfo } from './framework/interface.ts';
import { PodInfo } from './framework/node-info.ts';
import { Names } from './plugins/names.ts';

export type ClusterEvent = 'NodeAdd' | 'NodeUpdate' | 'NodeDelete' | 'PodAdd' | 'PodUpdate' | 'PodDelete';

/** Which cluster events may make a pod rejected by a plugin schedulable. */
const HELPFUL: Record<string, ClusterEvent[]> = {
  [Names.NodeName]: ['NodeAdd'],
  [Names.NodeUnschedulable]: ['NodeAdd', 'NodeUpdate'],
  [Names.TaintToleration]: ['NodeAdd', 'NodeUpdate'],
  [Names.NodeAffinity]: ['NodeAdd', 'NodeUpdate'],
  [Names.NodePorts]: ['NodeAdd', 'PodDelete'],
  [Names.NodeResourcesFit]: ['NodeAdd', 'NodeUpdate', 'PodDelete', 'PodUpdate'],
  [Names.InterPodAffinity]: ['NodeAdd', 'NodeUpdate', 'PodAdd', 'PodUpdate', 'PodDelete'],
  [Names.PodTopologySpread]: ['NodeAdd', 'NodeUpdate', 'NodeDelete', 'PodAdd', 'PodUpdate', 'PodDelete'],
};

class Heap<T> {
  items: T[] = [];
  readonly less: (a: T, b: T) => boolean;
  constructor(less: (a: T, b: T) => boolean) {
    this.less = less;
  }
  get size(): number {
    return this.items.length;
  }
  peek(): T | undefined {
    return this.items[0];
  }
  push(x: T): void {
    const a = this.items;
    a.push(x);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(a[i], a[p])) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }
  pop(): T | undefined {
    const a = this.items;
    if (!a.length) return undefined;
    const top = a[0];
    const last = a.pop()!;
    if (a.length) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l], a[m])) m = l;
        if (r < a.length && this.less(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
  remove(pred: (x: T) => boolean): T | undefined {
    const i = this.items.findIndex(pred);
    if (i < 0) return undefined;
    const [x] = this.items.splice(i, 1);
    const rest = this.items;
    this.items = [];
    for (const y of rest) this.push(y);
    return x;
  }
}

export interface QueueOptions {
  less: (a: QueuedPodInfo, b: QueuedPodInfo) => boolean;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** How long a pod may stay unschedulable before it is retried anyway (default 5 min). */
  maxUnschedulableMs?: number;
  now?: () => number;
}

const keyOf = (pod: Pod) => `${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name}`;

export class SchedulingQueue {
  #active: Heap<QueuedPodInfo>;
  #backoff: Heap<QueuedPodInfo>;
  readonly unschedulable = new Map<string, QueuedPodInfo>();
  #where = new Map<string, 'active' | 'backoff' | 'unschedulable' | 'inflight'>();
  #waiters: ((q: QueuedPodInfo | undefined) => void)[] = [];
  #closed = false;
  #initial: number;
  #max: number;
  #maxUnschedulable: number;
  #now: () => number;
  /** Bumped by every cluster event, so a pod that failed during one is not parked. */
  #moveRequestCycle = 0;
  #cycle = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(o: QueueOptions) {
    this.#active = new Heap(o.less);
    this.#initial = o.initialBackoffMs ?? 1000;
    this.#max = o.maxBackoffMs ?? 10_000;
    this.#maxUnschedulable = o.maxUnschedulableMs ?? 300_000;
    this.#now = o.now ?? Date.now;
    this.#backoff = new Heap((a, b) => this.backoffExpiry(a) < this.backoffExpiry(b));
  }

  /** Move due pods from backoffQ and stale unschedulable pods; call periodically (start() does every second). */
  flush(): void {
    const now = this.#now();
    while (this.#backoff.size && this.backoffExpiry(this.#backoff.peek()!) <= now)
      this.#toActive(this.#backoff.pop()!);
    for (const [k, q] of this.unschedulable) {
      if (now - q.timestamp >= this.#maxUnschedulable) {
        this.unschedulable.delete(k);
        this.#toBackoffOrActive(q);
      }
    }
  }

  startFlushing(): void {
    this.#timer ??= setInterval(() => this.flush(), 1000);
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    for (const w of this.#waiters.splice(0)) w(undefined);
  }

  /** When the pod's back-off ends: initial * 2^(attempts-1), capped. */
  backoffExpiry(q: QueuedPodInfo): number {
    const d = Math.min(this.#initial * 2 ** Math.max(0, q.attempts - 1), this.#max);
    return q.timestamp + d;
  }

  get length(): { active: number; backoff: number; unschedulable: number } {
    return { active: this.#active.size, backoff: this.#backoff.size, unschedulable: this.unschedulable.size };
  }

  /** A new pending pod. */
  add(pod: Pod): void {
    const key = keyOf(pod);
    if (this.#where.has(key)) {
      this.update(pod);
      return;
    }
    const now = this.#now();
    this.#toActive({
      podInfo: new PodInfo(pod),
      initialAttemptTimestamp: now,
      timestamp: now,
      attempts: 0,
      unschedulablePlugins: new Set(),
    });
  }

  /** The pending pod changed: the new spec may fit now, so it is retried. */
  update(pod: Pod): void {
    const key = keyOf(pod);
    const where = this.#where.get(key);
    if (!where) {
      this.add(pod);
      return;
    }
    const pi = new PodInfo(pod);
    if (where === 'inflight') return;
    let q: QueuedPodInfo | undefined;
    if (where === 'active') q = this.#active.remove((x) => x.podInfo.key === key);
    else if (where === 'backoff') q = this.#backoff.remove((x) => x.podInfo.key === key);
    else {
      q = this.unschedulable.get(key);
      this.unschedulable.delete(key);
    }
    if (!q) return;
    q.podInfo = pi;
    if (where === 'active') this.#toActive(q);
    else this.#toBackoffOrActive(q);
  }

  delete(pod: Pod): void {
    const key = keyOf(pod);
    const where = this.#where.get(key);
    if (where === 'active') this.#active.remove((x) => x.podInfo.key === key);
    else if (where === 'backoff') this.#backoff.remove((x) => x.podInfo.key === key);
    else this.unschedulable.delete(key);
    this.#where.delete(key);
  }

  /** The next pod to schedule (waits for one); undefined once closed. */
  pop(): Promise<QueuedPodInfo | undefined> {
    const q = this.#active.pop();
    if (q) return Promise.resolve(this.#take(q));
    if (this.#closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #take(q: QueuedPodInfo): QueuedPodInfo {
    q.attempts++;
    this.#cycle = this.#moveRequestCycle;
    this.#where.set(q.podInfo.key, 'inflight');
    return q;
  }

  /** A popped pod is done (bound or gone). */
  done(key: string): void {
    if (this.#where.get(key) === 'inflight') this.#where.delete(key);
  }

  /** A popped pod failed: to backoffQ if it errored or a cluster event happened meanwhile, else parked. */
  requeue(q: QueuedPodInfo, unschedulable: boolean): void {
    if (this.#where.get(q.podInfo.key) !== 'inflight') return; // deleted meanwhile
    q.timestamp = this.#now();
    if (!unschedulable || this.#moveRequestCycle > this.#cycle) {
      this.#where.set(q.podInfo.key, 'backoff');
      this.#backoff.push(q);
    } else {
      this.#where.set(q.podInfo.key, 'unschedulable');
      this.unschedulable.set(q.podInfo.key, q);
    }
  }

  /** A cluster event: parked pods it may help go back to backoffQ or activeQ. */
  onClusterEvent(event: ClusterEvent): void {
    this.#moveRequestCycle++;
    for (const [k, q] of this.unschedulable) {
      const helpful =
        q.unschedulablePlugins.size === 0 ||
        [...q.unschedulablePlugins].some((p) => HELPFUL[p]?.includes(event));
      if (!helpful) continue;
      this.unschedulable.delete(k);
      this.#toBackoffOrActive(q);
    }
  }

  #toBackoffOrActive(q: QueuedPodInfo): void {
    if (this.backoffExpiry(q) > this.#now()) {
      this.#where.set(q.podInfo.key, 'backoff');
      this.#backoff.push(q);
    } else this.#toActive(q);
  }

  #toActive(q: QueuedPodInfo): void {
    const w = this.#waiters.shift();
    if (w) {
      w(this.#take(q));
      return;
    }
    this.#where.set(q.podInfo.key, 'active');
    this.#active.push(q);
  }
}
