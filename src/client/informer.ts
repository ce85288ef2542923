/**
 * A shared informer: keeps a local cache of one resource in step with the API server and
 * tells handlers what changed.
 *
 * Lifecycle: `start(signal)` lists (page by page), fills the cache, marks itself synced, then
 * watches from the list's resourceVersion. A watch that ends or fails is resumed from the
 * last resourceVersion seen (an event's or a BOOKMARK's), so no event is missed or repeated.
 * When the server answers 410 Gone/Expired (an ERROR event carrying a Status with code 410,
 * or a thrown error with code 410) the informer lists again and reconciles the cache with the
 * new list, emitting add/update/delete for the differences. Every `resyncPeriodMs` handlers
 * receive `update(obj, obj)` for every cached object, so level-based controllers re-check.
 *
 *   const pods = new SharedInformer(listWatcherFor(client, PODS));
 *   pods.addEventHandler({ add: (p) => q.add(keyOf(p)), update: (_, p) => q.add(keyOf(p)) });
 *   void pods.start(signal);
 *   await pods.waitForSync(signal);
 */
import type { KubeObject } from '../api/resource.ts';
import { byNamespace, CacheStore, type IndexFunc, keyOf, NAMESPACE_INDEX } from './store.ts';

export interface ListOptions {
  resourceVersion?: string;
  limit?: number;
  continue?: string;
}

export interface ListResult<T = KubeObject> {
  items: T[];
  metadata: { resourceVersion: string; continue?: string };
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent {
  type: WatchEventType;
  object: any;
}

export interface WatchOptions {
  resourceVersion: string;
  allowWatchBookmarks: boolean;
  signal: AbortSignal;
}

/** What an informer needs from the API: a list and a watch of one resource (see `listWatcherFor`). */
export interface ListWatcher<T = KubeObject> {
  list(opts: ListOptions): Promise<ListResult<T>>;
  watch(opts: WatchOptions): AsyncIterable<WatchEvent>;
}

export interface EventHandler<T> {
  /** A new object; `initialList` is true for objects of the first list. */
  add?(obj: T, initialList: boolean): void;
  update?(oldObj: T, newObj: T): void;
  /** The object as last seen. */
  delete?(obj: T): void;
}

export interface InformerOptions<T> {
  /** Period of `update(obj, obj)` resyncs; 0 (default) disables them. */
  resyncPeriodMs?: number;
  /** Extra indexes; `namespace` is always present. */
  indexers?: Record<string, IndexFunc<T>>;
  /** List page size (default 500, as client-go). */
  pageSize?: number;
  /** First retry delay after a failed list or watch (default 200 ms, doubling to 10 s). */
  backoffMs?: number;
  /** Called with errors the informer recovers from (for logs). */
  onError?(err: unknown): void;
  /** Applied to every object before it is cached and handed out (e.g. `stripManagedFields`). */
  transform?: (obj: T) => T;
}

/**
 * A transform that drops `metadata.managedFields`, which kube-scheduler and
 * kube-controller-manager do not read either: a third of a small object's size, kept once per
 * cached object. A write of a cached object without them keeps the stored ones.
 */
export function stripManagedFields<T extends KubeObject>(obj: T): T {
  // set to undefined rather than deleted: objects keep one shape
  if (obj.metadata?.managedFields) obj.metadata.managedFields = undefined;
  return obj;
}

/** Does this error (or Status) mean "resourceVersion too old, list again"? */
export function isGone(e: unknown): boolean {
  if (!e || typeof e !== 'object') return false;
  const x = e as { code?: unknown; statusCode?: unknown; reason?: unknown };
  return x.code === 410 || x.statusCode === 410 || x.reason === 'Expired' || x.reason === 'Gone';
}

class Relist extends Error {}

export class SharedInformer<T extends KubeObject = KubeObject> {
  readonly store: CacheStore<T>;
  #lw: ListWatcher<T>;
  #handlers: EventHandler<T>[] = [];
  #synced = false;
  #syncWaiters: (() => void)[] = [];
  #rv = '';
  #opts: Required<Omit<InformerOptions<T>, 'indexers' | 'onError' | 'transform'>> &
    Pick<InformerOptions<T>, 'onError' | 'transform'>;
  #started = false;

  constructor(lw: ListWatcher<T>, opts: InformerOptions<T> = {}) {
    this.#lw = lw;
    this.store = new CacheStore<T>({ [NAMESPACE_INDEX]: byNamespace, ...opts.indexers });
    this.#opts = {
      resyncPeriodMs: opts.resyncPeriodMs ?? 0,
      pageSize: opts.pageSize ?? 500,
      backoffMs: opts.backoffMs ?? 200,
      onError: opts.onError,
      transform: opts.transform,
    };
  }

  /** Register handlers; if the cache is already filled they first get `add` for every object. Returns an unregister function. */
  addEventHandler(h: EventHandler<T>): () => void {
    this.#handlers.push(h);
    if (this.#synced) for (const o of this.store.list()) this.#call(() => h.add?.(o, true));
    return () => {
      this.#handlers = this.#handlers.filter((x) => x !== h);
    };
  }

  addIndexers(indexers: Record<string, IndexFunc<T>>): void {
    this.store.addIndexers(indexers);
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  /** The resourceVersion of the last list, event or bookmark seen. */
  get lastResourceVersion(): string {
    return this.#rv;
  }

  /** Resolves true once the first list is in the cache, false if `signal` aborts first. */
  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.#synced) return Promise.resolve(true);
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = () => resolve(false);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#syncWaiters.push(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve(true);
      });
    });
  }

  /** Run until `signal` aborts. */
  async start(signal: AbortSignal): Promise<void> {
    if (this.#started) throw new Error('informer already started');
    this.#started = true;
    let resync: ReturnType<typeof setInterval> | undefined;
    if (this.#opts.resyncPeriodMs > 0) {
      resync = setInterval(() => this.#resync(), this.#opts.resyncPeriodMs);
    }
    let delay = this.#opts.backoffMs;
    let needList = true;
    try {
      while (!signal.aborted) {
        try {
          if (needList) {
            await this.#listAndReplace(signal);
            needList = false;
            delay = this.#opts.backoffMs;
          }
          const got = await this.#watchOnce(signal);
          if (got) {
            delay = this.#opts.backoffMs;
            continue;
          }
        } catch (e) {
          if (signal.aborted) break;
          if (e instanceof Relist || isGone(e)) {
            needList = true;
            continue;
          }
          this.#opts.onError?.(e);
        }
        await sleep(delay, signal);
        delay = Math.min(delay * 2, 10_000);
      }
    } finally {
      if (resync) clearInterval(resync);
    }
  }

  async #listAndReplace(signal: AbortSignal): Promise<void> {
    const items: T[] = [];
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await this.#lw.list({ limit: this.#opts.pageSize, continue: cont });
      if (signal.aborted) return;
      items.push(...page.items);
      rv = page.metadata.resourceVersion;
      cont = page.metadata.continue || undefined;
    } while (cont);
    this.#replace(items);
    this.#rv = rv;
    if (!this.#synced) {
      this.#synced = true;
      for (const w of this.#syncWaiters.splice(0)) w();
    }
  }

  #replace(items: T[]): void {
    const initial = !this.#synced;
    const seen = new Set<string>();
    const transform = this.#opts.transform;
    for (let obj of items) {
      if (transform) obj = transform(obj);
      const key = keyOf(obj);
      seen.add(key);
      const old = this.store.set(obj);
      if (!old) this.#emit('add', obj, undefined, initial);
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion)
        this.#emit('update', obj, old);
    }
    for (const key of this.store.keys()) {
      if (seen.has(key)) continue;
      const old = this.store.delete(key)!;
      this.#emit('delete', old);
    }
  }

  /** One watch; returns whether it delivered anything (a watch that ends at once is backed off). */
  async #watchOnce(signal: AbortSignal): Promise<boolean> {
    const ac = new AbortController();
    const onAbort = () => ac.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    let got = false;
    try {
      for await (const ev of this.#lw.watch({
        resourceVersion: this.#rv,
        allowWatchBookmarks: true,
        signal: ac.signal,
      })) {
        if (signal.aborted) break;
        if (ev.type === 'ERROR') {
          if (isGone(ev.object)) throw new Relist();
          throw Object.assign(new Error(`watch error: ${ev.object?.message ?? 'unknown'}`), {
            status: ev.object,
          });
        }
        got = true;
        this.#apply(ev);
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      ac.abort();
    }
    return got;
  }

  #apply(ev: WatchEvent): void {
    let obj = ev.object as T;
    const rv = obj?.metadata?.resourceVersion;
    if (ev.type === 'BOOKMARK') {
      if (rv) this.#rv = rv;
      return;
    }
    if (this.#opts.transform) obj = this.#opts.transform(obj);
    const key = keyOf(obj);
    const old = this.store.get(key);
    if (ev.type === 'DELETED') {
      if (old) {
        this.store.delete(key);
        this.#emit('delete', obj);
      }
    } else if (old && old.metadata?.resourceVersion === rv) {
      // a repeat of what the cache already holds: nothing changed
    } else {
      this.store.set(obj);
      if (old) this.#emit('update', obj, old);
      else this.#emit('add', obj, undefined, false);
    }
    if (rv) this.#rv = rv;
  }

  #resync(): void {
    if (!this.#synced) return;
    for (const o of this.store.list()) this.#emit('update', o, o);
  }

  #emit(kind: 'add' | 'update' | 'delete', obj: T, old?: T, initial = false): void {
    for (const h of this.#handlers) {
      if (kind === 'add') this.#call(() => h.add?.(obj, initial));
      else if (kind === 'update') this.#call(() => h.update?.(old!, obj));
      else this.#call(() => h.delete?.(obj));
    }
  }

  #call(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.#opts.onError?.(e);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
