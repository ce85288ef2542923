/**
 * core/v1 Events about any object, written as kube-controller-manager writes them: source
 * `{component: 'replicaset-controller'}`, the object as `involvedObject` (apiVersion, kind,
 * namespace, name, uid), and a repeat of the same event (same object, type, reason and
 * message) counted on the event already written (`count`, `lastTimestamp`) rather than
 * written anew, as client-go's correlator does. `kubectl describe` lists them.
 *
 *   const events = eventRecorder(ctx.client, 'replicaset-controller');
 *   events.record(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
 *
 * Writes run in the background, at most `concurrency` at a time, and never hold up a
 * reconcile; beyond `maxQueued` waiting writes new events are dropped (counted in `dropped`).
 * Repeats of one event are chained so a count never overtakes the create it counts on.
 */
import { isReason, type KubeObject } from '../../api/index.ts';
import { EVENTS, type RestClient } from '../../client/index.ts';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  record(obj: KubeObject, type: EventType, reason: string, message: string): void;
  /** Resolves once every queued write is done (or failed). */
  flush(): Promise<void>;
  /** Events dropped because too many writes were waiting. */
  readonly dropped: number;
}

export interface EventRecorderOptions {
  /** Parallel writes (default 8). */
  concurrency?: number;
  /** Waiting writes beyond which new events are dropped (default 2000). */
  maxQueued?: number;
  /** Events remembered for counting repeats (default 4096, least recent forgotten first). */
  maxRemembered?: number;
  /** apiVersion and kind for objects that lack them (list items from a cache may). */
  apiVersion?: string;
  kind?: string;
  now?: () => number;
  onError?: (e: unknown) => void;
}

interface Written {
  name: string;
  namespace: string;
  count: number;
}

const stamp = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

export function eventRecorder(
  client: RestClient,
  component: string,
  opts: EventRecorderOptions = {},
): EventRecorder {
  const concurrency = opts.concurrency ?? 8;
  const maxQueued = opts.maxQueued ?? 2000;
  const maxRemembered = opts.maxRemembered ?? 4096;
  const now = opts.now ?? Date.now;
  const written = new Map<string, Written>();
  // per aggregation key: the writes waiting behind the one in flight
  const chains = new Map<string, (() => Promise<void>)[]>();
  const ready: string[] = [];
  let inFlight = 0;
  let queued = 0;
  let dropped = 0;
  const idle: (() => void)[] = [];

  const write = async (key: string, obj: KubeObject, ev: Record<string, unknown>): Promise<void> => {
    const t = now();
    const prev = written.get(key);
    if (prev) {
      prev.count++;
      try {
        await client.patch(
          EVENTS,
          prev.name,
          { count: prev.count, lastTimestamp: stamp(t) },
          { namespace: prev.namespace, type: 'merge' },
        );
        written.delete(key);
        written.set(key, prev);
        return;
      } catch (e) {
        if (!isReason(e, 'NotFound')) throw e;
        // expired or deleted: count afresh
      }
    }
    const m = obj.metadata ?? {};
    const namespace = m.namespace || 'default';
    // upstream's name: the object's name and a unique hex suffix
    const name = `${m.name}.${(t * 1e6 + Math.floor(Math.random() * 1e6)).toString(16)}`;
    await client.create(EVENTS, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      ...ev,
      firstTimestamp: stamp(t),
      lastTimestamp: stamp(t),
      count: 1,
    } as never);
    written.delete(key);
    written.set(key, { name, namespace, count: 1 });
    if (written.size > maxRemembered) written.delete(written.keys().next().value!);
  };

  const pump = () => {
    while (inFlight < concurrency && ready.length) {
      const key = ready.shift()!;
      const chain = chains.get(key)!;
      const job = chain.shift()!;
      inFlight++;
      job()
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
    record(obj, type, reason, message) {
      if (queued >= maxQueued) {
        dropped++;
        return;
      }
      const m = obj.metadata ?? {};
      const involvedObject = {
        apiVersion: obj.apiVersion ?? opts.apiVersion,
        kind: obj.kind ?? opts.kind,
        namespace: m.namespace,
        name: m.name,
        uid: m.uid,
        resourceVersion: m.resourceVersion,
      };
      const ev = {
        involvedObject,
        type,
        reason,
        message,
        source: { component },
        reportingComponent: component,
        reportingInstance: '',
      };
      const key = [m.uid ?? `${m.namespace}/${m.name}`, type, reason, message].join('\0');
      queued++;
      const job = () => write(key, obj, ev);
      const chain = chains.get(key);
      if (chain) chain.push(job);
      else {
        chains.set(key, [job]);
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
  };
}
