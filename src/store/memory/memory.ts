/**
 * An in-memory backend: the whole contract (history, watch, compaction) with no durability.
 * For unit tests and for tools that need a throwaway store; `memory://`.
 */
import type {
  Backend,
  GetOptions,
  KeyValue,
  ListOptions,
  ListResult,
  Watch,
  WatchEvent,
  WatchOptions,
} from '../backend.ts';
import { closedBackend, compacted, futureRevision, keyConflict, keyExists, keyNotFound } from '../errors.ts';
import { prefixEnd, rangeStart } from '../keys.ts';
import { WatchHub } from '../watch-hub.ts';

/** One life-step of a key: its value from `revision` on, or a tombstone (`kv` undefined). */
interface Version {
  revision: number;
  kv?: KeyValue;
}

export class MemoryBackend implements Backend {
  readonly name = 'memory';
  readonly inProcess = true;
  #revision = 0;
  #compacted = 0;
  /** Every key that has history, sorted for range scans... */
  #keys: string[] = [];
  /** ...but for keys new since the last scan: an insert into a sorted array of n keys moves n/2 of them. */
  #newKeys: string[] = [];
  #versions = new Map<string, Version[]>();
  /** Every event with its revision, oldest first (revision order = array order). */
  #log: WatchEvent[] = [];
  #hub = new WatchHub();
  #closed = false;

  async currentRevision(): Promise<number> {
    this.#check();
    return this.#revision;
  }

  async get(key: string, opts: GetOptions = {}): Promise<{ kv?: KeyValue; revision: number }> {
    const at = this.#readRevision(opts.revision);
    const versions = this.#versions.get(key);
    return { kv: versions && this.#at(versions, at), revision: at };
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    const at = this.#readRevision(opts.revision);
    const limit = opts.limit && opts.limit > 0 ? opts.limit : Number.POSITIVE_INFINITY;
    const items: KeyValue[] = [];
    let remaining = 0;
    for (const key of this.#range(rangeStart(prefix, opts.startKey), prefixEnd(prefix))) {
      const kv = this.#at(this.#versions.get(key) ?? [], at);
      if (!kv) continue;
      if (items.length < limit) items.push(kv);
      else remaining++;
    }
    return { items, revision: at, more: remaining > 0, remaining };
  }

  async count(prefix: string): Promise<number> {
    this.#check();
    let n = 0;
    for (const key of this.#range(prefix, prefixEnd(prefix))) if (this.#latest(key)) n++;
    return n;
  }

  async create(key: string, value: string): Promise<KeyValue> {
    this.#check();
    if (this.#latest(key)) throw keyExists(key);
    const revision = this.#revision + 1;
    const kv: KeyValue = { key, value, createRevision: revision, modRevision: revision };
    this.#commit(key, { revision, kv }, { type: 'ADDED', kv });
    return kv;
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<KeyValue> {
    this.#check();
    const prev = this.#latest(key);
    if (!prev) throw keyNotFound(key);
    if (prev.modRevision !== expectedModRevision)
      throw keyConflict(key, expectedModRevision, prev.modRevision);
    const revision = this.#revision + 1;
    const kv: KeyValue = { key, value, createRevision: prev.createRevision, modRevision: revision };
    this.#commit(key, { revision, kv }, { type: 'MODIFIED', kv, prev });
    return kv;
  }

  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    this.#check();
    const prev = this.#latest(key);
    if (!prev) throw keyNotFound(key);
    if (expectedModRevision !== undefined && prev.modRevision !== expectedModRevision) {
      throw keyConflict(key, expectedModRevision, prev.modRevision);
    }
    const revision = this.#revision + 1;
    const kv: KeyValue = { ...prev, modRevision: revision };
    this.#commit(key, { revision }, { type: 'DELETED', kv, prev });
    return kv;
  }

  watch(prefix: string, opts: WatchOptions = {}): Watch {
    const after = opts.afterRevision && opts.afterRevision > 0 ? opts.afterRevision : this.#revision;
    return this.#hub.subscribe(
      prefix,
      after,
      this.#revision,
      (p, from, limit) => this.#history(p, from, limit),
      opts.signal,
    );
  }

  async compact(revision: number): Promise<void> {
    this.#check();
    if (revision > this.#revision) throw futureRevision(revision, this.#revision);
    if (revision <= this.#compacted) return;
    for (const [key, versions] of this.#versions) {
      // Keep the version readable at `revision` and every later one; drop older ones.
      let keep = 0;
      while (keep + 1 < versions.length && versions[keep + 1].revision <= revision) keep++;
      let kept = versions.slice(keep);
      if (!kept[0].kv && kept[0].revision <= revision) kept = kept.slice(1);
      if (kept.length > 0) this.#versions.set(key, kept);
      else this.#versions.delete(key);
    }
    this.#keys = this.#sorted().filter((k) => this.#versions.has(k));
    const first = this.#log.findIndex((ev) => ev.kv.modRevision >= revision);
    this.#log = first < 0 ? [] : this.#log.slice(first);
    this.#compacted = revision;
  }

  async compactedRevision(): Promise<number> {
    this.#check();
    return this.#compacted;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#hub.close();
  }

  #check(): void {
    if (this.#closed) throw closedBackend(this.name);
  }

  /** The revision a read at `asked` happens at, after checking it is still readable. */
  #readRevision(asked?: number): number {
    this.#check();
    if (!asked || asked <= 0) return this.#revision;
    if (asked < this.#compacted) throw compacted(asked, this.#compacted);
    if (asked > this.#revision) throw futureRevision(asked, this.#revision);
    return asked;
  }

  #latest(key: string): KeyValue | undefined {
    const versions = this.#versions.get(key);
    return versions?.[versions.length - 1].kv;
  }

  #at(versions: Version[], revision: number): KeyValue | undefined {
    for (let i = versions.length - 1; i >= 0; i--)
      if (versions[i].revision <= revision) return versions[i].kv;
    return undefined;
  }

  /** The keys in order, with the new ones merged in. */
  #sorted(): string[] {
    if (this.#newKeys.length === 0) return this.#keys;
    const add = this.#newKeys.sort();
    const old = this.#keys;
    const out: string[] = new Array(old.length + add.length);
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < old.length && j < add.length) out[k++] = old[i] < add[j] ? old[i++] : add[j++];
    while (i < old.length) out[k++] = old[i++];
    while (j < add.length) out[k++] = add[j++];
    this.#keys = out;
    this.#newKeys = [];
    return out;
  }

  /** Keys in [start, end) in order. */
  *#range(start: string, end: string | undefined): Generator<string> {
    const keys = this.#sorted();
    for (let i = lowerBound(keys, start); i < keys.length; i++) {
      const key = keys[i];
      if (end !== undefined && key >= end) return;
      yield key;
    }
  }

  #commit(key: string, version: Version, ev: WatchEvent): void {
    let versions = this.#versions.get(key);
    if (!versions) {
      versions = [];
      this.#versions.set(key, versions);
      this.#newKeys.push(key);
    }
    versions.push(version);
    this.#revision = version.revision;
    this.#log.push(ev);
    this.#hub.publish(ev);
  }

  #history(prefix: string, after: number, limit: number): WatchEvent[] {
    if (after + 1 < this.#compacted) throw compacted(after + 1, this.#compacted);
    const out: WatchEvent[] = [];
    // The log is dense from its first entry on, so the start is found by arithmetic.
    const base = this.#log.length > 0 ? this.#log[0].kv.modRevision : this.#revision + 1;
    for (let i = Math.max(0, after + 1 - base); i < this.#log.length && out.length < limit; i++) {
      const ev = this.#log[i];
      if (ev.kv.key.startsWith(prefix)) out.push(ev);
    }
    return out;
  }
}

function lowerBound(sorted: string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
