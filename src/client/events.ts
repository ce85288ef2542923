/**
 * core/v1 Events about any object, written in the background the way client-go's recorder
 * (tools/record) writes them: source `{component}`, the object as `involvedObject`, and its
 * correlator in front of the writes:
 *
 * - a repeat of one event (same object, type, reason, message) is counted on the Event already
 *   written (`count`, `lastTimestamp`) rather than written anew;
 * - once 10 different messages of one object, type and reason are seen with less than 10 minutes
 *   between them, the rest go to one Event "(combined from similar events): <latest message>";
 * - each object gets a bucket of 25 writes, refilled one every 5 minutes; what finds the bucket
 *   empty is not written (a later write's count still includes it).
 *
 * So a ReplicaSet that creates 5,000 pods costs a few dozen writes, not 5,000.
 *
 *   const events = eventRecorder(client, 'replicaset-controller', { apiVersion: 'apps/v1', kind: 'ReplicaSet' });
 *   events.record(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
 *
 * Writes never hold up the caller: at most `concurrency` run at a time, and beyond `maxQueued`
 * waiting writes new events are dropped. Writes of one Event are chained, so a count never
 * overtakes the create it counts on.
 */
import { isReason } from '../api/errors.ts';
import type { KubeObject } from '../api/resource.ts';
import { EVENTS, type RestClient } from './rest.ts';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  /** `action`: what was done (core/v1 `action`); `fieldPath`: the part of the object, e.g. `spec.containers{web}`. */
  record(
    obj: KubeObject,
    type: EventType,
    reason: string,
    message: string,
    more?: { action?: string; fieldPath?: string },
  ): void;
  /** Resolves once every queued write is done (or failed). */
  flush(): Promise<void>;
  /** Events dropped because too many writes were waiting. */
  readonly dropped: number;
  /** Events not written because their object's bucket was empty. */
  readonly throttled: number;
}

export interface EventRecorderOptions {
  /** Parallel writes (default 8). */
  concurrency?: number;
  /** Waiting writes beyond which new events are dropped (default 2000). */
  maxQueued?: number;
  /** Events, aggregates and buckets remembered (default 4096 each, least recent forgotten first). */
  maxRemembered?: number;
  /** Writes per object at once, and per second after (client-go: 25 and one per 5 minutes). */
  burst?: number;
  refillPerSecond?: number;
  /** Different messages of one object, type and reason before they are combined (default 10). */
  maxSimilar?: number;
  /** How long a group of similar events lasts without a new one (default 10 minutes). */
  similarWindowMs?: number;
  /** apiVersion and kind for objects that lack them (list items from a cache may). */
  apiVersion?: string;
  kind?: string;
  /** `reportingInstance` (default empty). */
  instance?: string;
  now?: () => number;
  onError?: (e: unknown) => void;
}

/** What is known of an Event once seen: its name and how often it happened. */
interface Observed {
  name: string;
  namespace: string;
  count: number;
  first: number;
}

interface Similar {
  messages: Set<string>;
  last: number;
}

/** One write of an Event: a create, or a patch of its count. */
interface Write {
  o: Observed;
  count: number;
  t: number;
  ev: Record<string, unknown>;
}

interface Bucket {
  tokens: number;
  at: number;
}

const stamp = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

/** A Map used as an LRU: get() refreshes, set() evicts the least recent beyond `max`. */
class Lru<V> {
  #m = new Map<string, V>();
  #max: number;
  constructor(max: number) {
    this.#max = max;
  }
  get(k: string): V | undefined {
    const v = this.#m.get(k);
    if (v !== undefined) {
      this.#m.delete(k);
      this.#m.set(k, v);
    }
    return v;
  }
  set(k: string, v: V): void {
    this.#m.delete(k);
    this.#m.set(k, v);
    if (this.#m.size > this.#max) this.#m.delete(this.#m.keys().next().value!);
  }
}

export function eventRecorder(
  client: RestClient,
  component: string,
  opts: EventRecorderOptions = {},
): EventRecorder {
  const concurrency = opts.concurrency ?? 8;
  const maxQueued = opts.maxQueued ?? 2000;
  const remember = opts.maxRemembered ?? 4096;
  const burst = opts.burst ?? 25;
  const refill = opts.refillPerSecond ?? 1 / 300;
  const maxSimilar = opts.maxSimilar ?? 10;
  const window = opts.similarWindowMs ?? 10 * 60_000;
  const now = opts.now ?? Date.now;
  const observed = new Lru<Observed>(remember);
  const similar = new Lru<Similar>(remember);
  const buckets = new Lru<Bucket>(remember);
  // per Event: the writes waiting behind the one in flight
  const chains = new Map<string, Write[]>();
  const ready: string[] = [];
  let inFlight = 0;
  let queued = 0;
  let dropped = 0;
  let throttled = 0;
  let seq = 0;
  const idle: (() => void)[] = [];

  // upstream's name: the object's name and a unique hex suffix (nanoseconds)
  const eventName = (objName: string | undefined, t: number) =>
    `${objName}.${(BigInt(t) * 1_000_000n + BigInt(seq++ % 1_000_000)).toString(16)}`;

  const take = (key: string, t: number): boolean => {
    const b = buckets.get(key) ?? { tokens: burst, at: t };
    b.tokens = Math.min(burst, b.tokens + ((t - b.at) / 1000) * refill);
    b.at = t;
    buckets.set(key, b);
    if (b.tokens < 1) return false;
    b.tokens--;
    return true;
  };

  const write = async ({ o, count, t, ev }: Write) => {
    if (count > 1) {
      try {
        await client.patch(
          EVENTS,
          o.name,
          { count, lastTimestamp: stamp(t), message: ev.message },
          { namespace: o.namespace, type: 'merge' },
        );
        return;
      } catch (e) {
        // never written (its first occurrences were throttled), expired or deleted: create it
        if (!isReason(e, 'NotFound')) throw e;
      }
    }
    const last = stamp(t);
    await client.create(EVENTS, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: o.name, namespace: o.namespace },
      ...ev,
      firstTimestamp: o.first === t ? last : stamp(o.first),
      lastTimestamp: last,
      count,
    } as KubeObject);
  };

  const pump = () => {
    while (inFlight < concurrency && ready.length) {
      const key = ready.shift()!;
      const chain = chains.get(key)!;
      const w = chain.shift()!;
      inFlight++;
      write(w)
        .catch((e) => opts.onError?.(e))
        .finally(() => {
          inFlight--;
          queued--;
          if (chain.length) ready.push(key);
          else chains.delete(key);
          pump();
          if (queued === 0) for (const f of idle.splice(0)) f();
        });
    }
  };

  return {
    record(obj, type, reason, message, more = {}) {
      const t = now();
      const m = obj.metadata ?? {};
      // a uid names one object; without one, its namespace and name do
      const objectKey = `${m.uid ?? `${m.namespace}/${m.name}`}\0${more.fieldPath ?? ''}`;
      // similar events: after `maxSimilar` messages, one combined Event counts them all
      const groupKey = `${objectKey}\0${type}\0${reason}`;
      let group = similar.get(groupKey);
      if (!group || t - group.last > window) group = { messages: new Set(), last: t };
      group.messages.add(message);
      group.last = t;
      similar.set(groupKey, group);
      let key = `${groupKey}\0${message}`;
      let text = message;
      if (group.messages.size >= maxSimilar) {
        group.messages.delete(group.messages.values().next().value!);
        key = groupKey;
        text = `(combined from similar events): ${message}`;
      }
      let o = observed.get(key);
      if (!o) o = { name: eventName(m.name, t), namespace: m.namespace || 'default', count: 0, first: t };
      const count = ++o.count;
      observed.set(key, o);
      const chain = chains.get(key);
      // a write of this Event still waiting takes the new count: one write for both
      const waiting = chain?.at(-1);
      if (waiting && waiting.o === o) {
        waiting.count = count;
        waiting.t = t;
        waiting.ev.message = text;
        return;
      }
      if (!take(objectKey, t)) {
        throttled++;
        return;
      }
      if (queued >= maxQueued) {
        dropped++;
        return;
      }
      const ev: Record<string, unknown> = {
        involvedObject: {
          apiVersion: obj.apiVersion ?? opts.apiVersion,
          kind: obj.kind ?? opts.kind,
          namespace: m.namespace,
          name: m.name,
          uid: m.uid,
          resourceVersion: m.resourceVersion,
          fieldPath: more.fieldPath,
        },
        type,
        reason,
        message: text,
        source: { component },
        reportingComponent: component,
        reportingInstance: opts.instance ?? '',
      };
      if (more.action) ev.action = more.action;
      queued++;
      const w = { o, count, t, ev };
      if (chain) chain.push(w);
      else {
        chains.set(key, [w]);
        ready.push(key);
      }
      pump();
    },
    flush() {
      if (queued === 0) return Promise.resolve();
      return new Promise((r) => idle.push(r));
    },
    get dropped() {
      return dropped;
    },
    get throttled() {
      return throttled;
    },
  };
}
