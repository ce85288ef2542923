/**
 * The cached state of one resource (every object under one resource prefix): a bounded ring
 * of recent events and the watchers they fan out to, and, when the store is remote, each
 * object once, as the JSON text the API answers with (resourceVersion included).
 *
 * JSON text rather than parsed objects: a 1 KiB pod costs about 1 KiB as a one-byte string
 * and three to five times that as a V8 object graph, and GET/LIST answer with the text as is.
 * A store in this process (SQLite, memory) answers gets and lists itself in microseconds, so
 * for it the cache keeps no objects (see WatchCache).
 */
import type { KubeObject } from '../../api/resource.ts';
import type { WatchEvent, WatchEventType } from '../../store/backend.ts';

export interface CachedObject {
  /** The object's JSON with metadata.resourceVersion set. */
  json: string;
  modRevision: number;
}

/** One change, decoded once and serialized once for every watcher. */
export class CachedEvent {
  readonly type: WatchEventType;
  readonly key: string;
  readonly revision: number;
  readonly json: string;
  #obj?: KubeObject;
  /** The object before this change, as JSON (with or without its resourceVersion), and its revision. */
  readonly #prevText?: string;
  readonly #prevRevision: number;
  #prev?: KubeObject;
  #lines?: Partial<Record<string, string>>;

  constructor(
    type: WatchEventType,
    key: string,
    revision: number,
    json: string,
    prevText?: string,
    prevRevision = 0,
  ) {
    this.type = type;
    this.key = key;
    this.revision = revision;
    this.json = json;
    this.#prevText = prevText;
    this.#prevRevision = prevRevision;
  }

  /** The object (shared: callers must not change it). */
  get obj(): KubeObject {
    this.#obj ??= JSON.parse(this.json) as KubeObject;
    return this.#obj;
  }

  /** The object before this change (for selector transitions), parsed on first use. */
  get prev(): KubeObject | undefined {
    if (this.#prev === undefined && this.#prevText !== undefined) {
      const prev = JSON.parse(this.#prevText) as KubeObject;
      prev.metadata ??= {};
      prev.metadata.resourceVersion = String(this.#prevRevision);
      this.#prev = prev;
    }
    return this.#prev;
  }

  /** The watch stream line for this event as `type` (selectors may turn MODIFIED into ADDED/DELETED). */
  line(type: string = this.type): string {
    this.#lines ??= {};
    let l = this.#lines[type];
    if (l === undefined) {
      l = `{"type":"${type}","object":${this.json}}\n`;
      this.#lines[type] = l;
    }
    return l;
  }

  /** Drop the parsed forms once every watcher has seen the event; the ring keeps the text. */
  release(): void {
    this.#obj = undefined;
    this.#prev = undefined;
    this.#lines = undefined;
  }
}

/** A watcher of a resource cache: events after `after`, under `keyPrefix`. */
export interface CacheWatcher {
  keyPrefix: string;
  after: number;
  deliver(ev: CachedEvent): void;
  /** The cache can no longer feed this watcher (reset, close): the stream ends. */
  end(): void;
}

export const RING_SIZE = 4096;

export class ResourceCache {
  readonly prefix: string;
  /** Every object of the resource by key; undefined when this cache keeps only events. */
  readonly #entries: Map<string, CachedObject> | undefined;
  #sorted: string[] | null = null;
  readonly #ring: (CachedEvent | undefined)[] = new Array(RING_SIZE);
  #ringHead = 0; // index of the oldest event
  #ringLen = 0;
  /** Every event of this resource with revision > ringStart is in the ring. */
  ringStart = 0;
  readonly watchers = new Set<CacheWatcher>();
  /** Events that arrived while the initial list was loading. */
  #pending: WatchEvent[] | undefined;
  /** Set once the watch cache has dropped this resource: it gets no more events. */
  dropped = false;

  /**
   * `objects`: keep every object (filled by `load`); otherwise only events from revision
   * `from` on, and the cache is usable at once.
   */
  constructor(prefix: string, opts: { objects: true } | { objects: false; from: number }) {
    this.prefix = prefix;
    if (opts.objects) {
      this.#entries = new Map();
      this.#pending = [];
    } else {
      this.ringStart = opts.from;
    }
  }

  /** Whether get and keys can answer: this cache keeps every object of the resource. */
  get holdsObjects(): boolean {
    return this.#entries !== undefined;
  }

  get loaded(): boolean {
    return this.#pending === undefined;
  }

  get size(): number {
    return this.#entries?.size ?? 0;
  }

  /** Fill from a list taken at `revision`, then apply what arrived meanwhile. */
  load(items: { key: string; value: string; modRevision: number }[], revision: number): void {
    const entries = this.#objects();
    for (const kv of items)
      entries.set(kv.key, {
        json: withResourceVersion(kv.value, kv.modRevision),
        modRevision: kv.modRevision,
      });
    this.ringStart = revision;
    const pending = this.#pending ?? [];
    this.#pending = undefined;
    for (const ev of pending) if (ev.kv.modRevision > revision) this.apply(ev);
  }

  /** A store event under this prefix, in revision order. */
  apply(ev: WatchEvent): void {
    if (this.#pending) {
      this.#pending.push(ev);
      return;
    }
    const { key, modRevision } = ev.kv;
    const json = withResourceVersion(ev.kv.value, modRevision);
    const entries = this.#entries;
    const before = entries?.get(key);
    if (entries) {
      if (ev.type === 'DELETED') {
        if (entries.delete(key)) this.#sorted = null;
      } else {
        if (!before) this.#sorted = null;
        entries.set(key, { json, modRevision });
      }
    }
    const cached = before
      ? new CachedEvent(ev.type, key, modRevision, json, before.json, before.modRevision)
      : new CachedEvent(ev.type, key, modRevision, json, ev.prev?.value, ev.prev?.modRevision);
    this.#push(cached);
    for (const w of this.watchers) {
      if (modRevision > w.after && key.startsWith(w.keyPrefix)) w.deliver(cached);
    }
    cached.release();
  }

  #push(ev: CachedEvent): void {
    if (this.#ringLen === RING_SIZE) {
      const old = this.#ring[this.#ringHead]!;
      this.ringStart = old.revision;
      this.#ring[this.#ringHead] = ev;
      this.#ringHead = (this.#ringHead + 1) % RING_SIZE;
    } else {
      this.#ring[(this.#ringHead + this.#ringLen) % RING_SIZE] = ev;
      this.#ringLen++;
    }
  }

  /** Events with revision > after, oldest first; undefined when the ring no longer reaches back that far. */
  eventsAfter(after: number): CachedEvent[] | undefined {
    if (after < this.ringStart) return undefined;
    const out: CachedEvent[] = [];
    for (let i = this.#ringLen - 1; i >= 0; i--) {
      const ev = this.#ring[(this.#ringHead + i) % RING_SIZE]!;
      if (ev.revision <= after) break;
      out.push(ev);
    }
    return out.reverse();
  }

  get(key: string): CachedObject | undefined {
    return this.#objects().get(key);
  }

  /** Keys under `keyPrefix` in key order, from `startKey` (inclusive). */
  keys(keyPrefix: string, startKey?: string): string[] {
    if (!this.#sorted) this.#sorted = [...this.#objects().keys()].sort(byteOrder);
    const sorted = this.#sorted;
    const from = startKey && startKey > keyPrefix ? startKey : keyPrefix;
    let lo = lowerBound(sorted, from);
    const out: string[] = [];
    for (; lo < sorted.length && sorted[lo].startsWith(keyPrefix); lo++) out.push(sorted[lo]);
    return out;
  }

  #objects(): Map<string, CachedObject> {
    if (!this.#entries) throw new Error(`the watch cache keeps no objects of ${this.prefix}`);
    return this.#entries;
  }

  /** End every watcher (the cache is being dropped). */
  endWatchers(): void {
    this.dropped = true;
    for (const w of this.watchers) w.end();
    this.watchers.clear();
  }
}

function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function lowerBound(a: string[], x: string): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The stored JSON (which has no resourceVersion) as the API serves it: what parsing it,
 * setting metadata.resourceVersion and serializing again gives. Stored values are
 * JSON.stringify's output (see encode in objects.ts), which that round trip leaves as it is,
 * so the field is spliced in at the end of `metadata`; text of any other form (whitespace,
 * no metadata object, one that has a resourceVersion) takes the round trip.
 */
export function withResourceVersion(value: string, revision: number): string {
  const end = metadataEnd(value);
  if (end > 0) {
    const sep = value.charCodeAt(end - 1) === 0x7b ? '' : ',';
    return `${value.slice(0, end)}${sep}"resourceVersion":"${revision}"${value.slice(end)}`;
  }
  const obj = JSON.parse(value) as KubeObject;
  obj.metadata ??= {};
  obj.metadata.resourceVersion = String(revision);
  return JSON.stringify(obj);
}

const RV_KEY = '"resourceVersion"';

/**
 * In compact JSON text of an object, the index of the `}` closing its top-level `metadata`
 * object; -1 when there is none, metadata already has a resourceVersion, or the text up to
 * there has whitespace outside strings (then it is not JSON.stringify's). The text after
 * metadata is not read.
 */
function metadataEnd(s: string): number {
  const n = s.length;
  if (n < 2 || s.charCodeAt(0) !== 0x7b) return -1;
  let depth = 0;
  let metaOpen = -1; // index of metadata's `{`
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) {
      const start = i;
      // the closing quote: the next one not escaped (preceded by an even run of backslashes)
      for (;;) {
        i = s.indexOf('"', i + 1);
        if (i < 0) return -1;
        let k = i - 1;
        while (s.charCodeAt(k) === 0x5c) k--;
        if ((i - 1 - k) % 2 === 0) break;
      }
      // a key when `:` follows: metadata's at depth 1, resourceVersion within it at depth 2
      if (s.charCodeAt(i + 1) === 0x3a) {
        const len = i + 1 - start;
        if (depth === 1 && metaOpen < 0 && len === 10 && s.startsWith('"metadata"', start)) {
          if (s.charCodeAt(i + 2) !== 0x7b) return -1;
          metaOpen = i + 2;
        } else if (depth === 2 && metaOpen >= 0 && len === RV_KEY.length && s.startsWith(RV_KEY, start)) {
          return -1;
        }
      }
    } else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 1 && metaOpen >= 0) return i;
    } else if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) return -1;
  }
  return -1;
}
