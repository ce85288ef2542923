/**
 * Objects over the store: the JSON encoding, `resourceVersion` = the key's modRevision, and
 * Kubernetes' error messages for store failures. Handlers and the in-process controllers
 * (garbage collector, namespace) all read and write through this one class.
 */
import { conflict, gone, isReason, notFound, StatusError } from '../api/errors.ts';
import type { KubeObject, ResourceDef } from '../api/resource.ts';
import type { Backend, KeyValue, WatchEvent, WatchEventType } from '../store/backend.ts';
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

export class Objects {
  readonly backend: Backend;

  constructor(backend: Backend) {
    this.backend = backend;
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
    const { kv } = await this.backend.get(
      objectKey(def, namespace, name),
      revision ? { revision } : undefined,
    );
    if (!kv) throw notFound(qualifiedOf(def), name);
    return { obj: decode(kv), modRevision: kv.modRevision };
  }

  async tryGet(def: ResourceDef, namespace: string | undefined, name: string): Promise<Stored | undefined> {
    const { kv } = await this.backend.get(objectKey(def, namespace, name));
    return kv ? { obj: decode(kv), modRevision: kv.modRevision } : undefined;
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
      const cur = await this.get(def, namespace, name);
      const next = await mutate(structuredClone(cur.obj));
      if (!next) return cur.obj;
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
    let res: Awaited<ReturnType<Backend['list']>>;
    try {
      res = await this.backend.list(resourcePrefix(def, namespace), opts);
    } catch (e) {
      if (isReason(e, 'Gone') || isReason(e, 'Expired'))
        throw gone(`too old resource version: ${opts.revision}`);
      throw e;
    }
    return {
      items: res.items.map((kv) => ({ obj: decode(kv), modRevision: kv.modRevision })),
      revision: res.revision,
      more: res.more,
      remaining: res.remaining,
      lastKey: res.items.at(-1)?.key,
    };
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
