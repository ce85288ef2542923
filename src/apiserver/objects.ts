/**
 * Objects over the store: the JSON encoding, `resourceVersion` = the key's modRevision, and
 * Kubernetes' error messages for store failures. Handlers and the in-process controllers
 * (garbage collector, namespace) all read and write through this one class.
 */
import { conflict, gone, isReason, notFound, StatusError } from '../api/errors.ts';
import type { KubeObject, ResourceDef } from '../api/resource.ts';
import type { Backend, KeyValue, ListResult, WatchEvent, WatchEventType } from '../store/backend.ts';
import { type CachedObject, type ResourceCache, withResourceVersion } from './cache/resource-cache.ts';
import type { WatchCache } from './cache/watch-cache.ts';
import { objectKey, resourcePrefix } from './keys.ts';

export const MODIFIED_MESSAGE =
  'the object has been modified; please apply your changes to the latest version and try again';

export interface Stored {
  obj: KubeObject;
  modRevision: number;
}

export interface ObjectEvent {
  type: WatchEventType;
  obj: KubeObject;
  prev?: KubeObject;
  revision: number;
}

export function qualifiedOf(def: ResourceDef): { group: string; kind: string } {
  return { group: def.group, kind: def.plural };
}

/** The stored form drops resourceVersion: the store's modRevision is the truth. */
export function encode(obj: KubeObject): string {
  const rv = obj.metadata?.resourceVersion;
  if (rv === undefined) return JSON.stringify(obj);
  const meta = { ...obj.metadata };
  delete meta.resourceVersion;
  return JSON.stringify({ ...obj, metadata: meta });
}

export function decode(kv: KeyValue, revision = kv.modRevision): KubeObject {
  const obj = JSON.parse(kv.value) as KubeObject;
  obj.metadata ??= {};
  obj.metadata.resourceVersion = String(revision);
  return obj;
}

/** How fresh a cached read must be: the store's current state, at least a revision, or anything (rv=0). */
export type Freshness = 'consistent' | 'any' | number;

export class Objects {
  readonly backend: Backend;
  /** The watch cache reads are served from, when the server runs one (see cache/watch-cache.ts). */
  cache?: WatchCache;

  constructor(backend: Backend, opts: { cache?: WatchCache } = {}) {
    this.backend = backend;
    this.cache = opts.cache;
  }

  /**
   * The watch cache's copy of a resource's objects, once fresh enough; undefined when it keeps
   * none of them (no cache, or a store in this process and not one of REQUEST_PATH_RESOURCES)
   * or could not catch up in time: the caller then reads the store.
   */
  async cached(def: ResourceDef, freshness: Freshness = 'consistent'): Promise<ResourceCache | undefined> {
    const cache = this.cache;
    const prefix = resourcePrefix(def);
    if (!cache?.keepsObjects(prefix)) return undefined;
    const rc = await cache.resource(prefix);
    if (!rc) return undefined;
    if (freshness === 'any') return rc;
    const ok = freshness === 'consistent' ? await cache.fresh() : await cache.waitFor(freshness);
    return ok ? rc : undefined;
  }

  /** One object as the JSON text the API serves, from the cache or the store; undefined when absent. */
  async getJson(
    def: ResourceDef,
    namespace: string | undefined,
    name: string,
    freshness: Freshness = 'consistent',
  ): Promise<CachedObject | undefined> {
    const key = objectKey(def, namespace, name);
    const rc = await this.cached(def, freshness);
    if (rc) return rc.get(key);
    const cache = this.cache;
    if (cache && !cache.holdsObjects) {
      const recent = cache.recentRead(key, await this.backend.currentRevision());
      if (recent) return recent;
    }
    const observed = cache?.observed ?? 0;
    const { kv, revision } = await this.backend.get(key);
    const hit = kv && { json: withResourceVersion(kv.value, kv.modRevision), modRevision: kv.modRevision };
    if (hit && cache) cache.rememberRead(key, hit, revision, observed);
    return hit;
  }

  key(def: ResourceDef, namespace: string | undefined, name: string): string {
    return objectKey(def, namespace, name);
  }

  async get(
    def: ResourceDef,
    namespace: string | undefined,
    name: string,
    revision?: number,
  ): Promise<Stored> {
    const stored = await this.#read(def, namespace, name, revision);
    if (!stored) throw notFound(qualifiedOf(def), name);
    return stored;
  }

  async tryGet(def: ResourceDef, namespace: string | undefined, name: string): Promise<Stored | undefined> {
    return this.#read(def, namespace, name);
  }

  async #read(
    def: ResourceDef,
    namespace: string | undefined,
    name: string,
    revision?: number,
  ): Promise<Stored | undefined> {
    const key = objectKey(def, namespace, name);
    const rc = revision ? undefined : await this.cached(def);
    if (rc) {
      const hit = rc.get(key);
      return hit && { obj: JSON.parse(hit.json), modRevision: hit.modRevision };
    }
    const { kv } = await this.backend.get(key, revision ? { revision } : undefined);
    return kv && { obj: decode(kv), modRevision: kv.modRevision };
  }

  async create(def: ResourceDef, obj: KubeObject): Promise<KubeObject> {
    const name = obj.metadata!.name!;
    try {
      const kv = await this.backend.create(objectKey(def, obj.metadata?.namespace, name), encode(obj));
      obj.metadata!.resourceVersion = String(kv.modRevision);
      return obj;
    } catch (e) {
      if (isReason(e, 'AlreadyExists')) {
        throw new StatusError('AlreadyExists', `${qualify(def)} "${name}" already exists`, {
          name,
          group: def.group,
          kind: def.plural,
        });
      }
      throw e;
    }
  }

  /** Write `obj` over the version at `modRevision`; Conflict with Kubernetes' message when it moved on. */
  async update(def: ResourceDef, obj: KubeObject, modRevision: number): Promise<KubeObject> {
    const name = obj.metadata!.name!;
    try {
      const kv = await this.backend.update(
        objectKey(def, obj.metadata?.namespace, name),
        encode(obj),
        modRevision,
      );
      obj.metadata!.resourceVersion = String(kv.modRevision);
      return obj;
    } catch (e) {
      if (isReason(e, 'Conflict')) throw conflict(qualifiedOf(def), name, MODIFIED_MESSAGE);
      if (isReason(e, 'NotFound')) throw notFound(qualifiedOf(def), name);
      throw e;
    }
  }

  async delete(
    def: ResourceDef,
    namespace: string | undefined,
    name: string,
    modRevision?: number,
  ): Promise<KubeObject> {
    try {
      const kv = await this.backend.delete(objectKey(def, namespace, name), modRevision);
      return decode(kv);
    } catch (e) {
      if (isReason(e, 'Conflict')) throw conflict(qualifiedOf(def), name, MODIFIED_MESSAGE);
      if (isReason(e, 'NotFound')) throw notFound(qualifiedOf(def), name);
      throw e;
    }
  }

  /**
   * Read-modify-write with retries on conflict. `mutate` returns the new object, or undefined
   * to leave the object as it is. Resolves to the object as stored afterwards.
   */
  async guaranteedUpdate(
    def: ResourceDef,
    namespace: string | undefined,
    name: string,
    mutate: (obj: KubeObject) => KubeObject | undefined | Promise<KubeObject | undefined>,
  ): Promise<KubeObject> {
    for (let attempt = 0; ; attempt++) {
      // The text is parsed for mutate, and again only if the stored object is the answer.
      const cur = await this.getJson(def, namespace, name);
      if (!cur) throw notFound(qualifiedOf(def), name);
      const next = await mutate(JSON.parse(cur.json));
      if (!next) return JSON.parse(cur.json) as KubeObject;
      try {
        return await this.update(def, next, cur.modRevision);
      } catch (e) {
        if (!isReason(e, 'Conflict') || attempt >= 20) throw e;
      }
    }
  }

  /** Every object of a resource (optionally in one namespace) at one revision. */
  async list(
    def: ResourceDef,
    namespace?: string,
    opts: { revision?: number; limit?: number; startKey?: string } = {},
  ): Promise<{ items: Stored[]; revision: number; more: boolean; remaining: number; lastKey?: string }> {
    if (!opts.revision && !opts.limit && !opts.startKey && this.cache) {
      const rc = await this.cached(def);
      if (rc) {
        const revision = this.cache.observed;
        const keys = rc.keys(resourcePrefix(def, namespace));
        const items = keys.map((k) => {
          const e = rc.get(k)!;
          return { obj: JSON.parse(e.json) as KubeObject, modRevision: e.modRevision };
        });
        return { items, revision, more: false, remaining: 0, lastKey: keys.at(-1) };
      }
    }
    const res = await this.#storeList(def, namespace, opts);
    return {
      items: res.items.map((kv) => ({ obj: decode(kv), modRevision: kv.modRevision })),
      revision: res.revision,
      more: res.more,
      remaining: res.remaining,
      lastKey: res.items.at(-1)?.key,
    };
  }

  /** A page of a resource (optionally in one namespace) from the store, as the JSON texts the API serves. */
  async listJson(
    def: ResourceDef,
    namespace?: string,
    opts: { revision?: number; limit?: number; startKey?: string } = {},
  ): Promise<{ items: { key: string; json: string }[]; revision: number; more: boolean; remaining: number }> {
    const res = await this.#storeList(def, namespace, opts);
    return {
      items: res.items.map((kv) => ({ key: kv.key, json: withResourceVersion(kv.value, kv.modRevision) })),
      revision: res.revision,
      more: res.more,
      remaining: res.remaining,
    };
  }

  async #storeList(
    def: ResourceDef,
    namespace: string | undefined,
    opts: { revision?: number; limit?: number; startKey?: string },
  ): Promise<ListResult> {
    try {
      return await this.backend.list(resourcePrefix(def, namespace), opts);
    } catch (e) {
      if (isReason(e, 'Gone') || isReason(e, 'Expired'))
        throw gone(`too old resource version: ${opts.revision}`);
      throw e;
    }
  }

  /** Changes to a resource after a revision, decoded. A DELETED event's object carries the delete's revision. */
  async *watch(
    def: ResourceDef,
    namespace: string | undefined,
    afterRevision: number,
    signal: AbortSignal,
  ): AsyncGenerator<ObjectEvent> {
    const w = this.backend.watch(resourcePrefix(def, namespace), { afterRevision, signal });
    for await (const ev of w) yield toObjectEvent(ev);
  }
}

export function toObjectEvent(ev: WatchEvent): ObjectEvent {
  return {
    type: ev.type,
    obj: decode(ev.kv, ev.kv.modRevision),
    prev: ev.prev ? decode(ev.prev) : undefined,
    revision: ev.kv.modRevision,
  };
}

export function qualify(def: ResourceDef): string {
  return def.group ? `${def.plural}.${def.group}` : def.plural;
}
