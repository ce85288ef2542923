/**
 * The agent's core/v1 Events about pods, written the way the kubelet writes them: source
 * `{component: kubelet, host: <node>}`, the container as `involvedObject.fieldPath`
 * (`spec.containers{web}`), and a repeat of the same event (same object, field, type, reason and
 * message) counted on the first one (`count`, `lastTimestamp`) instead of written anew, as
 * client-go's correlator does. Writes run in the background and never hold up a pod worker:
 * at most `concurrency` at a time (100 pods starting at once are some 400 events: unbounded, each
 * would open its own connection to the API server), and when the API is slow, events beyond
 * `maxQueued` are dropped.
 *
 * Reasons used: Pulling, Pulled, Failed, BackOff, ErrImageNeverPull, Created, Started, Killing,
 * Unhealthy, FailedPostStartHook.
 */
import { isReason } from '../api/errors.ts';
import { EVENTS, type RestClient } from '../client/index.ts';

type Json = Record<string, any>;

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  /** `fieldPath` names the container, e.g. `spec.containers{web}` */
  record(pod: Json, type: EventType, reason: string, message: string, fieldPath?: string): void;
  /** resolves when every queued write is done */
  flush(): Promise<void>;
}

/** `spec.containers{name}` or `spec.initContainers{name}` for a container of the pod. */
export function containerFieldPath(pod: Json, name: string): string {
  const init = (pod.spec?.initContainers ?? []).some((c: Json) => c.name === name);
  return `spec.${init ? 'initContainers' : 'containers'}{${name}}`;
}

const stamp = (d: Date) => d.toISOString().replace(/\.\d+Z$/, 'Z');

interface Seen {
  name: string;
  namespace: string;
  count: number;
}

export function eventRecorder(
  client: RestClient,
  nodeName: string,
  opts: { concurrency?: number; maxQueued?: number; maxRemembered?: number; onError?(e: unknown): void } = {},
): EventRecorder {
  const maxQueued = opts.maxQueued ?? 1000;
  const maxRemembered = opts.maxRemembered ?? 4096;
  const concurrency = opts.concurrency ?? 8;
  let writing = 0;
  const waiting: (() => void)[] = [];
  /** Runs `fn` in one of `concurrency` slots; a finished write hands its slot to the next. */
  const inSlot = async (fn: () => Promise<void>): Promise<void> => {
    if (writing < concurrency) writing++;
    else await new Promise<void>((r) => waiting.push(r));
    try {
      await fn();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else writing--;
    }
  };
  // one chain per aggregation key keeps a repeat behind the create it counts on
  const seen = new Map<string, Seen>();
  const chains = new Map<string, Promise<void>>();
  let queued = 0;
  const idle: (() => void)[] = [];

  const write = async (key: string, pod: Json, ev: Json): Promise<void> => {
    const now = stamp(new Date());
    const prev = seen.get(key);
    if (prev) {
      prev.count++;
      try {
        await client.patch(
          EVENTS,
          prev.name,
          { count: prev.count, lastTimestamp: now },
          { namespace: prev.namespace, type: 'merge' },
        );
        return;
      } catch (e) {
        if (!isReason(e, 'NotFound')) throw e;
        // the event expired or was deleted: start counting again
      }
    }
    const t = Date.now();
    const name = `${pod.metadata.name}.${(t * 1e6 + Math.floor(Math.random() * 1e6)).toString(16)}`;
    const namespace = pod.metadata.namespace ?? 'default';
    await client.create(EVENTS, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      ...ev,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    } as never);
    seen.delete(key);
    seen.set(key, { name, namespace, count: 1 });
    if (seen.size > maxRemembered) seen.delete(seen.keys().next().value!);
  };

  return {
    record(pod, type, reason, message, fieldPath) {
      if (queued >= maxQueued) return;
      const m = pod.metadata ?? {};
      const involvedObject: Json = {
        apiVersion: 'v1',
        kind: 'Pod',
        namespace: m.namespace,
        name: m.name,
        uid: m.uid,
      };
      if (fieldPath) involvedObject.fieldPath = fieldPath;
      const ev = {
        involvedObject,
        type,
        reason,
        message,
        source: { component: 'kubelet', host: nodeName },
        reportingComponent: 'kubelet',
        reportingInstance: nodeName,
      };
      const key = [m.uid, fieldPath ?? '', type, reason, message].join('\0');
      queued++;
      const next = (chains.get(key) ?? Promise.resolve())
        .then(() => inSlot(() => write(key, pod, ev)))
        .catch((e) => opts.onError?.(e))
        .finally(() => {
          queued--;
          if (chains.get(key) === next) chains.delete(key);
          if (queued === 0) for (const f of idle.splice(0)) f();
        });
      chains.set(key, next);
    },
    flush() {
      if (queued === 0) return Promise.resolve();
      return new Promise((r) => idle.push(r));
    },
  };
}
