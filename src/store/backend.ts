/**
 * The storage contract: a versioned key-value store with etcd's semantics, which is all
 * the API server needs (kine showed that Kubernetes' storage is this much and no more).
 *
 * Vocabulary
 * - key: a path string such as `/registry/pods/default/web-0`. Keys are ordered bytewise;
 *   a "prefix" selects every key that starts with it.
 * - revision: one counter for the whole store, starting at 1 for the first write and
 *   increasing by exactly one on every successful create, update or delete. The
 *   API server exposes it as `resourceVersion`.
 * - createRevision / modRevision: the revision that created a key, and the one that
 *   last wrote it. A deleted key is gone: creating it again starts a new life with a
 *   new createRevision.
 * - compaction: forgetting history older than a revision. Reads and watches at a
 *   compacted revision fail with `Gone` (HTTP 410); reads at the current state never do.
 *
 * Lifecycle: `open` a backend (from a URL, see `index.ts`), use it from many callers at
 * once, `close` it. A write resolves only once it is durable: after a crash (kill -9) of
 * the process every acknowledged write is there, with its revision.
 *
 * Errors are StatusErrors (src/api/errors.ts) whose `details.name` is the key:
 * NotFound, AlreadyExists and Conflict for failed preconditions; Expired (410) for a
 * compacted revision; Timeout (504, "Too large resource version") for a revision the store
 * has not reached; ServiceUnavailable once closed or when etcd cannot be reached.
 *
 * Example
 *   const rev = await b.create('/registry/configmaps/default/a', '{"data":{}}');
 *   const { kv } = await b.get('/registry/configmaps/default/a');   // kv.modRevision === rev
 *   await b.update(kv.key, '{"data":{"x":"1"}}', rev);                // Conflict if someone else wrote
 */

/** One stored key at one point in time. `value` is opaque to the store (Skiff stores JSON text). */
export interface KeyValue {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
}

export interface GetOptions {
  /** Read the key as it was at this revision (0 or absent: now). Gone if compacted. */
  revision?: number;
}

export interface ListOptions {
  /** Read as of this revision (0 or absent: now). Gone if compacted. */
  revision?: number;
  /** At most this many items (0 or absent: no limit). */
  limit?: number;
  /** Start at this key (inclusive), which must lie under the prefix; for pagination. */
  startKey?: string;
}

export interface ListResult {
  items: KeyValue[];
  /** The revision the list was read at: the store's current revision when none was asked for. */
  revision: number;
  /** True when `limit` cut the list short: more keys follow the last item. */
  more: boolean;
  /** How many keys under the prefix remain after the returned items (valid when `more`). */
  remaining: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/**
 * A change to one key. For DELETED, `kv.value` is the value the key had just before,
 * and `kv.modRevision` is the revision of the delete itself. `prev` is the key as it was
 * before this change (absent for ADDED).
 */
export interface WatchEvent {
  type: WatchEventType;
  kv: KeyValue;
  prev?: KeyValue;
}

export interface WatchOptions {
  /**
   * Deliver every change with modRevision > afterRevision; Gone if that history is
   * compacted (afterRevision + 1 < compactedRevision). 0 or absent: from now, meaning from
   * the call on for memory and sqlite, and from when etcd registers the watch for etcd; to
   * miss nothing, pass the revision of a list or get.
   */
  afterRevision?: number;
  /** Ends the watch; the iterator then returns. */
  signal?: AbortSignal;
}

/**
 * A watch: an async stream of events, in revision order, with no gap and no duplicate.
 * It ends (returns) when its signal aborts or the backend closes; it throws `Gone` if it
 * falls behind compaction.
 */
export type Watch = AsyncIterable<WatchEvent>;

export interface Backend {
  /** Short name for logs and benchmarks, e.g. `sqlite` or `etcd`. */
  readonly name: string;

  /**
   * True when the data lives in this process (memory, or an SQLite file it has open): a read
   * costs microseconds and no round trip, so the API server reads the store for every get and
   * list instead of keeping a copy of each object in its watch cache.
   */
  readonly inProcess?: boolean;

  /** The current revision (0 for an empty new store). */
  currentRevision(): Promise<number>;

  /** The key now or at a revision; `kv` is undefined when absent. `revision` is the revision read at. */
  get(key: string, opts?: GetOptions): Promise<{ kv?: KeyValue; revision: number }>;

  /** Keys under a prefix, in key order. */
  list(prefix: string, opts?: ListOptions): Promise<ListResult>;

  /** How many keys are under a prefix now. */
  count(prefix: string): Promise<number>;

  /** Create a key that must not exist; resolves to the new revision. Throws AlreadyExists. */
  create(key: string, value: string): Promise<KeyValue>;

  /**
   * Replace a key's value if its modRevision is still `expectedModRevision`; resolves to the
   * new KeyValue. Throws NotFound if the key is absent, Conflict if it was written since.
   */
  update(key: string, value: string, expectedModRevision: number): Promise<KeyValue>;

  /**
   * Delete a key, if `expectedModRevision` is given only when it still matches. Resolves to
   * the deleted KeyValue (its value before, modRevision = the delete's revision).
   * Throws NotFound or Conflict.
   */
  delete(key: string, expectedModRevision?: number): Promise<KeyValue>;

  /** Watch every key under a prefix. */
  watch(prefix: string, opts?: WatchOptions): Watch;

  /**
   * Forget history at revisions below `revision`; the state at `revision` and after stays
   * readable. At or below the current compaction point it does nothing; above the current
   * revision it throws Timeout.
   */
  compact(revision: number): Promise<void>;

  /** The oldest revision still readable (history below it is compacted); 0 if never compacted. */
  compactedRevision(): Promise<number>;

  /** Release files, connections and watches. */
  close(): Promise<void>;
}
