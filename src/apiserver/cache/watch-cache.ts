/**
 * The watch cache: the API server's memory of the store, as Kubernetes' cacher keeps it.
 *
 * One store watch on `/registry/` feeds every resource's cache (a resource's cache is
 * loaded on first use by one list at the revision the watch has reached). Since the watch
 * sees every write under `/registry/`, the revision it has reached (`observed`) is the
 * revision of the whole cache, which is what makes consistent reads cheap: ask the store
 * for its current revision, wait until the watch has passed it, answer from memory.
 *
 * - consistent read (no resourceVersion, or NotOlderThan N): `fresh(N)` then read.
 * - resourceVersion "0": whatever the cache holds now.
 * - anything the cache cannot answer (Exact, old continue tokens, a watch older than the
 *   ring) goes to the store, as before.
 *
 * A store in this process (SQLite, memory: `Backend.inProcess`) reads a key in microseconds,
 * so for it the cache keeps no objects: gets and lists read the store, which is consistent by
 * itself, and the cache keeps only each watched resource's ring of recent events for fan-out
 * and resumption (as kube-apiserver did before consistent lists from its cache). The server's
 * memory then no longer grows with the number of objects. The few resources the server reads
 * itself on most requests (REQUEST_PATH_RESOURCES) stay in memory all the same.
 */
import type { Backend } from '../../store/backend.ts';
import { type CachedObject, ResourceCache } from './resource-cache.ts';

interface Waiter {
  revision: number;
  resolve: (ok: boolean) => void;
}

export const CACHE_ROOT = '/registry/';

/**
 * Resources whose objects the cache keeps even for a store in this process: the server reads
 * them on most requests (namespace lifecycle and priority admission, RBAC, service-account
 * tokens), as kube-apiserver's admission plugins and authorizer read them through informers.
 * They are few and small; a read from memory costs ~1 µs where a store read costs 10-30 µs
 * inside a busy server.
 */
export const REQUEST_PATH_RESOURCES: readonly string[] = [
  '/registry/core/namespaces/',
  '/registry/core/serviceaccounts/',
  '/registry/scheduling.k8s.io/priorityclasses/',
  '/registry/rbac.authorization.k8s.io/clusterroles/',
  '/registry/rbac.authorization.k8s.io/clusterrolebindings/',
  '/registry/rbac.authorization.k8s.io/roles/',
  '/registry/rbac.authorization.k8s.io/rolebindings/',
];

/**
 * The JSON text of recently read objects the cache keeps for a store in this process, at
 * most (in UTF-16 units; a pod is ~1-3 KiB). Reads of a few hot objects then skip the store
 * and the resourceVersion splice (~15-20 µs of a get's ~120 µs), while the server's memory
 * stays bounded however many objects there are.
 */
export const RECENT_READS_BUDGET = 8 * 1024 * 1024;

interface RecentRead {
  obj: CachedObject;
  /** Read again since it was remembered or last given a second chance. */
  used: boolean;
}

/** How long a consistent read waits for the watch before reading the store instead. */
const FRESH_TIMEOUT_MS = 3000;

export class WatchCache {
  readonly backend: Backend;
  #observed = 0;
  #resources = new Map<string, ResourceCache>();
  #loading = new Map<string, Promise<ResourceCache>>();
  #waiters: Waiter[] = [];
  #abort = new AbortController();
  #running?: Promise<void>;
  #revInflight?: Promise<number>;
  #revNext?: Promise<number>;
  #closed = false;
  /**
   * Recently read objects of resources whose objects the cache does not keep, oldest first;
   * eviction gives an entry read since it was last passed a second chance (CLOCK), which keeps
   * a hit to setting a flag. Every store event for a key drops its entry, and an entry is
   * served only while the watch has seen every revision the store has, so it is never older
   * than a store read.
   */
  #recent = new Map<string, RecentRead>();
  #recentSize = 0;
  readonly #recentBudget: number;

  /** Whether every resource's cache keeps its objects (for a remote store), or only REQUEST_PATH_RESOURCES'. */
  readonly holdsObjects: boolean;

  constructor(backend: Backend, opts: { objects?: boolean; recentReadsBudget?: number } = {}) {
    this.backend = backend;
    this.holdsObjects = opts.objects ?? !backend.inProcess;
    this.#recentBudget = this.holdsObjects ? 0 : (opts.recentReadsBudget ?? RECENT_READS_BUDGET);
  }

  /** The revision the cache has reached. */
  get observed(): number {
    return this.#observed;
  }

  /** Start the store watch. Resolves once it is established. */
  async start(): Promise<void> {
    this.#observed = await this.backend.currentRevision();
    this.#running = this.#run();
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      try {
        const w = this.backend.watch(CACHE_ROOT, { afterRevision: this.#observed, signal });
        for await (const ev of w) {
          this.#observed = ev.kv.modRevision;
          if (this.#recentSize) this.#forget(ev.kv.key);
          const prefix = resourcePrefixOfKey(ev.kv.key);
          if (prefix) this.#resources.get(prefix)?.apply(ev);
          if (this.#waiters.length) this.#wake();
        }
      } catch (e) {
        if (signal.aborted) break;
        console.error('apiserver: watch cache lost its store watch, reloading:', (e as Error)?.message ?? e);
      }
      if (signal.aborted) break;
      // The watch ended or fell behind: drop everything and start again from now.
      this.#reset();
      await new Promise((r) => setTimeout(r, 100));
      try {
        this.#observed = await this.backend.currentRevision();
      } catch {}
    }
    this.#reset();
    for (const w of this.#waiters) w.resolve(false);
    this.#waiters = [];
  }

  #reset(): void {
    this.#recent.clear();
    this.#recentSize = 0;
    for (const r of this.#resources.values()) r.endWatchers();
    this.#resources.clear();
    this.#loading.clear();
  }

  #wake(): void {
    const still: Waiter[] = [];
    for (const w of this.#waiters) {
      if (w.revision <= this.#observed) w.resolve(true);
      else still.push(w);
    }
    this.#waiters = still;
  }

  /**
   * The store's current revision. Concurrent callers share one store round trip, but a
   * caller never gets an answer from a request that started before it asked.
   */
  currentRevision(): Promise<number> {
    if (!this.#revInflight) {
      const p = this.backend.currentRevision();
      this.#revInflight = p;
      p.then(
        () => {
          if (this.#revInflight === p) this.#revInflight = undefined;
        },
        () => {
          if (this.#revInflight === p) this.#revInflight = undefined;
        },
      );
      return p;
    }
    if (!this.#revNext) {
      const next = this.#revInflight
        .catch(() => 0)
        .then(() => {
          this.#revNext = undefined;
          return this.currentRevision();
        });
      this.#revNext = next;
    }
    return this.#revNext;
  }

  /**
   * A recently read object, when the cache holds one and has seen everything the store has at
   * `storeRevision` (the store's revision now): then no write to the key can have happened
   * since the entry was read.
   */
  recentRead(key: string, storeRevision: number): CachedObject | undefined {
    if (!this.#recentSize || storeRevision !== this.#observed) return undefined;
    const hit = this.#recent.get(key);
    if (!hit) return undefined;
    hit.used = true;
    return hit.obj;
  }

  /**
   * Remember an object read from the store at `readRevision`, if the watch had seen exactly that
   * revision, both when the read was made (`observedAtRead`) and now: no event for the key can
   * then fall between the read and this entry, so the next event for it will drop the entry.
   */
  rememberRead(key: string, obj: CachedObject, readRevision: number, observedAtRead: number): void {
    if (!this.#recentBudget || this.#closed) return;
    if (readRevision !== observedAtRead || observedAtRead !== this.#observed) return;
    if (obj.json.length > this.#recentBudget / 16) return;
    this.#forget(key);
    this.#recent.set(key, { obj, used: false });
    this.#recentSize += obj.json.length;
    while (this.#recentSize > this.#recentBudget) {
      const [k, v] = this.#recent.entries().next().value!;
      this.#recent.delete(k);
      if (v.used) {
        v.used = false;
        this.#recent.set(k, v);
      } else this.#recentSize -= v.obj.json.length;
    }
  }

  #forget(key: string): void {
    const had = this.#recent.get(key);
    if (!had) return;
    this.#recent.delete(key);
    this.#recentSize -= had.obj.json.length;
  }

  /** How many recently read objects the cache holds, and their size in UTF-16 units (for tests). */
  get recentReads(): { count: number; size: number } {
    return { count: this.#recent.size, size: this.#recentSize };
  }

  /** Wait until the cache has seen `revision`; false after the timeout or on close. */
  waitFor(revision: number, timeoutMs = FRESH_TIMEOUT_MS): Promise<boolean> {
    if (revision <= this.#observed) return Promise.resolve(true);
    if (this.#closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter = {
        revision,
        resolve: (ok: boolean) => {
          clearTimeout(timer);
          resolve(ok);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  /** A consistent read point: true once the cache holds the store's current state (or `atLeast`). */
  async fresh(atLeast = 0): Promise<boolean> {
    const rev = Math.max(atLeast, await this.currentRevision());
    return this.waitFor(rev);
  }

  /** Whether the cache of a resource prefix keeps its objects (else only its events). */
  keepsObjects(prefix: string): boolean {
    return this.holdsObjects || REQUEST_PATH_RESOURCES.includes(prefix);
  }

  /**
   * The loaded cache of a resource prefix (`/registry/<group>/<plural>/`), made on first use;
   * undefined once closed.
   */
  resource(prefix: string): ResourceCache | Promise<ResourceCache | undefined> | undefined {
    const have = this.#resources.get(prefix);
    if (have?.loaded) return have;
    if (this.#closed) return undefined;
    if (!this.keepsObjects(prefix)) {
      // Events only: every event after the revision reached now is still to come.
      const rc = new ResourceCache(prefix, { objects: false, from: this.#observed });
      this.#resources.set(prefix, rc);
      return rc;
    }
    let p = this.#loading.get(prefix);
    if (!p) {
      const rc = new ResourceCache(prefix, { objects: true });
      this.#resources.set(prefix, rc);
      const at = this.#observed;
      p = this.#load(rc, at);
      this.#loading.set(prefix, p);
      p.catch(() => {
        if (this.#resources.get(prefix) === rc) this.#resources.delete(prefix);
        this.#loading.delete(prefix);
      });
    }
    return p;
  }

  /** In pages small enough for etcd's 4 MiB gRPC message limit. */
  async #load(rc: ResourceCache, at: number): Promise<ResourceCache> {
    const items = [];
    let startKey: string | undefined;
    for (;;) {
      const page = await this.backend.list(rc.prefix, { revision: at, limit: 500, startKey });
      items.push(...page.items);
      if (!page.more || page.items.length === 0) break;
      startKey = `${page.items.at(-1)!.key}\u0000`;
    }
    rc.load(items, at);
    this.#loading.delete(rc.prefix);
    return rc;
  }

  /** How many objects the cache holds (for benchmarks and tests). */
  get objectCount(): number {
    let n = 0;
    for (const r of this.#resources.values()) n += r.size;
    return n;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#abort.abort();
    await this.#running;
  }
}

/** `/registry/<group>/<plural>/` of a key, or undefined. */
export function resourcePrefixOfKey(key: string): string | undefined {
  const a = key.indexOf('/', CACHE_ROOT.length);
  if (a < 0) return undefined;
  const b = key.indexOf('/', a + 1);
  if (b < 0) return undefined;
  return key.slice(0, b + 1);
}
