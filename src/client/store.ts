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
  /** index name → value → key → object (objects held here too, so byIndex needs no lookups) */
  #indices = new Map<string, Map<string, Map<string, T>>>();

  constructor(indexers: Record<string, IndexFunc<T>> = {}) {
    this.addIndexers(indexers);
  }

  addIndexers(indexers: Record<string, IndexFunc<T>>): void {
    for (const [name, fn] of Object.entries(indexers)) {
      if (this.#indexers.has(name)) throw new Error(`indexer ${name} already exists`);
      this.#indexers.set(name, fn);
      const idx = new Map<string, Map<string, T>>();
      this.#indices.set(name, idx);
      for (const [key, obj] of this.#items) this.#fileUnder(idx, fn(obj), key, obj);
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
    const filed = idx.get(value);
    return filed ? [...filed.values()] : [];
  }

  /** Insert or replace; returns the previous object. */
  set(obj: T): T | undefined {
    const key = keyOf(obj);
    const old = this.#items.get(key);
    this.#items.set(key, obj);
    for (const [name, fn] of this.#indexers) {
      const idx = this.#indices.get(name)!;
      const values = fn(obj);
      if (old) {
        const was = fn(old);
        // filed under the same values (the usual update): replace in place
        if (was.length === values.length && was.every((v, i) => v === values[i])) {
          for (const v of values) idx.get(v)!.set(key, obj);
          continue;
        }
        this.#unfile(idx, was, key);
      }
      this.#fileUnder(idx, values, key, obj);
    }
    return old;
  }

  /** Remove by key; returns the removed object. */
  delete(key: string): T | undefined {
    const old = this.#items.get(key);
    if (!old) return undefined;
    for (const [name, fn] of this.#indexers) this.#unfile(this.#indices.get(name)!, fn(old), key);
    this.#items.delete(key);
    return old;
  }

  #fileUnder(idx: Map<string, Map<string, T>>, values: string[], key: string, obj: T): void {
    for (const v of values) {
      let filed = idx.get(v);
      if (!filed) {
        filed = new Map();
        idx.set(v, filed);
      }
      filed.set(key, obj);
    }
  }

  #unfile(idx: Map<string, Map<string, T>>, values: string[], key: string): void {
    for (const v of values) {
      const filed = idx.get(v);
      if (!filed) continue;
      filed.delete(key);
      if (filed.size === 0) idx.delete(v);
    }
  }
}
