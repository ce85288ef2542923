/**
 * Level-based controllers: a reconciler sees only a key (`{namespace, name}`), never the event
 * that queued it, reads the world from shared informer caches, and makes it so.
 *
 *   export const replicaSets = controllerFor('apps/v1', 'replicasets')
 *     .owns('v1', 'pods')
 *     .named('replicaset')
 *     .complete((ctx) => async (req) => { ...; return { requeueAfter: 1000 } });
 *
 * Keys come from the primary resource's events, from owned objects (through their controller
 * ownerReference of the primary's kind) and from `watches(...)` mappings. The work queue makes
 * sure one key is never reconciled twice at once. A reconcile that throws is retried with
 * per-key exponential back-off; `requeueAfter` asks for another look later; a `TerminalError`
 * is logged and not retried until the next event.
 *
 * With `batchPeriod(ms)` (upstream's Job and EndpointSlice controllers batch pod changes so),
 * changes of owned objects and status-only changes of the primary (usually its own status
 * writes) are reconciled together at most `ms` later: a reconcile that reads every pod of its
 * owner then runs a few times a second, not after each of a thousand pod updates a second.
 */
import type { KubeObject } from '../../api/index.ts';
import { type GroupVersionResource, keyOf, type RestClient, WorkQueue } from '../../client/index.ts';
import type { InformerFactory } from './informers.ts';

export interface Request {
  namespace?: string;
  name: string;
}

export interface Result {
  /** Reconcile this key again after this many milliseconds. */
  requeueAfter?: number;
}

export type Reconcile = (req: Request) => Promise<Result | undefined>;

/** What every controller gets: the client, the shared caches, a clock and its options. */
export interface ControllerContext {
  client: RestClient;
  informers: InformerFactory;
  /** The clock (injectable for tests). */
  now(): number;
  /** Per-controller options, by controller name (see each controller's docs). */
  options: Record<string, Record<string, unknown>>;
  signal: AbortSignal;
  log(msg: string): void;
}

/** An error that retrying cannot fix (bad spec): logged, not requeued. */
export class TerminalError extends Error {}

/** A controller ready to run: `start` resolves once `signal` aborts and its workers stop. */
export interface Controller {
  name: string;
  start(ctx: ControllerContext): Promise<void>;
}

export interface Watch {
  gvr: GroupVersionResource;
  /** Keys (`namespace/name`) of primary objects to reconcile when this object changes. */
  map(obj: KubeObject, ctx: ControllerContext): string[];
}

/** Set-up hook: register extra informer handlers (e.g. for expectations) and return the reconciler. */
export type ReconcilerFactory = (
  ctx: ControllerContext,
  enqueue: (key: string, afterMs?: number) => void,
) => Reconcile;

const KINDS: Record<string, string> = {
  replicasets: 'ReplicaSet',
  deployments: 'Deployment',
  statefulsets: 'StatefulSet',
  daemonsets: 'DaemonSet',
  jobs: 'Job',
  cronjobs: 'CronJob',
  pods: 'Pod',
  nodes: 'Node',
  namespaces: 'Namespace',
  serviceaccounts: 'ServiceAccount',
  persistentvolumeclaims: 'PersistentVolumeClaim',
  leases: 'Lease',
};

export function gvr(groupVersion: string, resource: string): GroupVersionResource {
  const i = groupVersion.indexOf('/');
  return i < 0
    ? { group: '', version: groupVersion, resource }
    : { group: groupVersion.slice(0, i), version: groupVersion.slice(i + 1), resource };
}

export function splitKey(key: string): Request {
  const i = key.indexOf('/');
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

export class ControllerBuilder {
  #for: GroupVersionResource;
  #kind: string;
  #apiVersion: string;
  #owns: GroupVersionResource[] = [];
  #watches: Watch[] = [];
  #name: string;
  #workers = 2;
  #batchMs = 0;

  constructor(groupVersion: string, resource: string, kind?: string) {
    this.#for = gvr(groupVersion, resource);
    this.#apiVersion = groupVersion;
    this.#kind = kind ?? KINDS[resource] ?? resource;
    this.#name = resource.replace(/s$/, '');
  }

  /** Reconcile the owner (by controller ownerReference) when an object of this resource changes. */
  owns(groupVersion: string, resource: string): this {
    this.#owns.push(gvr(groupVersion, resource));
    return this;
  }

  watches(groupVersion: string, resource: string, map: Watch['map']): this {
    this.#watches.push({ gvr: gvr(groupVersion, resource), map });
    return this;
  }

  named(name: string): this {
    this.#name = name;
    return this;
  }

  workers(n: number): this {
    this.#workers = n;
    return this;
  }

  batchPeriod(ms: number): this {
    this.#batchMs = ms;
    return this;
  }

  complete(factory: ReconcilerFactory): Controller {
    const primary = this.#for;
    const kind = this.#kind;
    const apiVersion = this.#apiVersion;
    const owns = [...this.#owns];
    const watches = [...this.#watches];
    const name = this.#name;
    const workers = this.#workers;
    const batchMs = this.#batchMs;
    return {
      name,
      async start(ctx) {
        const queue = new WorkQueue({ baseDelayMs: 5, maxDelayMs: 30_000 });
        const enqueue = (key: string, afterMs?: number) =>
          afterMs && afterMs > 0 ? queue.addAfter(key, afterMs) : queue.add(key);
        const onObj = (o: KubeObject) => enqueue(keyOf(o));
        ctx.informers.informerFor(primary).addEventHandler({
          add: onObj,
          update: (old, cur) => enqueue(keyOf(cur), batchMs && statusOnly(old, cur) ? batchMs : undefined),
          delete: onObj,
        });
        const toOwner = (o: KubeObject) => {
          const ref = o.metadata?.ownerReferences?.find((r) => r.controller);
          if (!ref || ref.kind !== kind || ref.apiVersion !== apiVersion) return;
          enqueue(o.metadata?.namespace ? `${o.metadata.namespace}/${ref.name}` : ref.name, batchMs);
        };
        for (const g of owns) {
          ctx.informers.informerFor(g).addEventHandler({
            add: toOwner,
            update: (old, cur) => {
              toOwner(cur);
              // an ownerReference that changed: the old owner must look again too
              if (old.metadata?.ownerReferences !== cur.metadata?.ownerReferences) toOwner(old);
            },
            delete: toOwner,
          });
        }
        for (const w of watches) {
          const m = (o: KubeObject) => {
            for (const k of w.map(o, ctx)) enqueue(k);
          };
          ctx.informers.informerFor(w.gvr).addEventHandler({ add: m, update: (_, n) => m(n), delete: m });
        }
        const reconcile = factory(ctx, enqueue);
        if (!(await ctx.informers.waitForSync(ctx.signal))) return;
        const stop = () => queue.shutDown();
        ctx.signal.addEventListener('abort', stop, { once: true });
        const worker = async () => {
          for (let key = await queue.get(); key !== undefined; key = await queue.get()) {
            try {
              const res = await reconcile(splitKey(key));
              queue.forget(key);
              if (res?.requeueAfter !== undefined && res.requeueAfter >= 0)
                queue.addAfter(key, res.requeueAfter || 1);
            } catch (e) {
              if (ctx.signal.aborted) {
                // shutting down: errors from cut connections are expected
              } else if (e instanceof TerminalError) {
                ctx.log(`${name} ${key}: ${e.message}`);
                queue.forget(key);
              } else {
                if (queue.numRequeues(key) > 3) ctx.log(`${name} ${key}: ${(e as Error)?.message ?? e}`);
                queue.addRateLimited(key);
              }
            } finally {
              queue.done(key);
            }
          }
        };
        await Promise.all(Array.from({ length: workers }, worker));
      },
    };
  }
}

/** Did only the status change (same generation, labels, annotations, owners, finalizers, deletion)? */
function statusOnly(old: KubeObject, cur: KubeObject): boolean {
  const a = old.metadata ?? {};
  const b = cur.metadata ?? {};
  if (a.generation !== b.generation || a.deletionTimestamp !== b.deletionTimestamp) return false;
  const rest = (m: typeof a) => JSON.stringify([m.labels, m.annotations, m.ownerReferences, m.finalizers]);
  return rest(a) === rest(b);
}

/** Start describing a controller whose primary resource is `resource` of `groupVersion`. */
export function controllerFor(groupVersion: string, resource: string, kind?: string): ControllerBuilder {
  return new ControllerBuilder(groupVersion, resource, kind);
}
