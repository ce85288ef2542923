/**
 * The informer's cache: objects by key (`namespace/name`, or `name` for cluster-scoped
 * objects) with secondary indexes. An index function maps an object to the index values it
 * is filed under; `byIndex('namespace', 'default')` then returns every object filed there.
 */
import type { KubeObject } from '../api/resource.ts';

export type IndexFunc<T> = (obj: T) => string[];

/** `namespace/name` for namespaced objects, `name` otherwise, as client-go's MetaNamespaceKeyFunc. */
export function keyOf(obj: KubeObject): string {
  const m = obj.metadata ?? {};
  return m.namespace ? `${m.namespace}/${m.name}` : `${m.name}`;
}

/** The index every informer has: objects by namespace. */
export const NAMESPACE_INDEX = 'namespace';
export const byNamespace: IndexFunc<KubeObject> = (o) => [o.metadata?.namespace ?? ''];

export class CacheStore<T extends KubeObject = KubeObject> {
  #items = new Map<string, T>();
  #indexers = new Map<string, IndexFunc<T>>();
  /** index name → value → keys */
  #indices = new Map<string, Map<string, Set<string>>>();

  constructor(indexers: Record<string, IndexFunc<T>> = {}) {
    this.addIndexers(indexers);
  }

  addIndexers(indexers: Record<string, IndexFunc<T>>): void {
    for (const [name, fn] of Object.entries(indexers)) {
      if (this.#indexers.has(name)) throw new Error(`indexer ${name} already exists`);
      this.#indexers.set(name, fn);
      const idx = new Map<string, Set<string>>();
      this.#indices.set(name, idx);
      for (const [key, obj] of this.#items) this.#fileUnder(idx, fn(obj), key);
    }
  }

  get(key: string): T | undefined {
    return this.#items.get(key);
  }

  getByObject(obj: KubeObject): T | undefined {
    return this.#items.get(keyOf(obj));
  }

  list(): T[] {
    return [...this.#items.values()];
  }

  keys(): string[] {
    return [...this.#items.keys()];
  }

  get size(): number {
    return this.#items.size;
  }

  /** Objects filed under `value` in index `name`. */
  byIndex(name: string, value: string): T[] {
    const idx = this.#indices.get(name);
    if (!idx) throw new Error(`no indexer named ${name}`);
    const keys = idx.get(value);
    if (!keys) return [];
    const out: T[] = [];
    for (const k of keys) out.push(this.#items.get(k)!);
    return out;
  }

  /** Insert or replace; returns the previous object. */
  set(obj: T): T | undefined {
    const key = keyOf(obj);
    const old = this.#items.get(key);
    if (old) this.#unindex(old, key);
    this.#items.set(key, obj);
    for (const [name, fn] of this.#indexers) this.#fileUnder(this.#indices.get(name)!, fn(obj), key);
    return old;
  }

  /** Remove by key; returns the removed object. */
  delete(key: string): T | undefined {
    const old = this.#items.get(key);
    if (!old) return undefined;
    this.#unindex(old, key);
    this.#items.delete(key);
    return old;
  }

  #fileUnder(idx: Map<string, Set<string>>, values: string[], key: string): void {
    for (const v of values) {
      let s = idx.get(v);
      if (!s) {
        s = new Set();
        idx.set(v, s);
      }
      s.add(key);
    }
  }

  #unindex(obj: T, key: string): void {
    for (const [name, fn] of this.#indexers) {
      const idx = this.#indices.get(name)!;
      for (const v of fn(obj)) {
        const s = idx.get(v);
        if (!s) continue;
        s.delete(key);
        if (s.size === 0) idx.delete(v);
      }
    }
  }
}
