/**
 * Field ownership (`metadata.managedFields`) and server-side apply.
 *
 * Every write records which manager set which fields. Ordinary writes (create, update,
 * patch) are `Update` operations: the manager takes the fields it added or changed, from
 * anyone, without conflict. An `Apply` declares the complete set of fields the manager
 * wants: changing a field another manager owns is a 409 conflict unless `force`; fields the
 * manager applied before and no longer applies are removed unless someone else owns them.
 *
 * Managers are identified as upstream does: an Update entry by manager, API version and
 * subresource; an Apply entry by manager and subresource. API versions are not converted:
 * ownership recorded under one version of a kind is compared as is.
 */
import { type StatusCause, StatusError } from '../../api/errors.ts';
import type { KubeObject } from '../../api/resource.ts';
import { FieldSet, fieldElement, pathString } from './fieldset.ts';
import { clone, deepEqual, isObject, type JsonObject } from './json.ts';
import type { SchemaContext } from './schema.ts';
import { compare, mergeApplied, removeFields, TypeError_, toFieldSet } from './typed.ts';

/** One `metadata.managedFields` entry, as Kubernetes stores it. */
export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time?: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

interface Owner {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  subresource?: string;
  time?: string;
  set: FieldSet;
}

type Managed = Map<string, Owner>;

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const MAX_UPDATE_MANAGERS = 10;

/** Fields no manager owns: identity and system metadata. */
const STRIPPED: string[][] = [
  ['f:apiVersion'],
  ['f:kind'],
  ...[
    'name',
    'namespace',
    'creationTimestamp',
    'selfLink',
    'uid',
    'clusterName',
    'generation',
    'managedFields',
    'resourceVersion',
  ].map((f) => ['f:metadata', fieldElement(f)]),
];

function identity(o: Pick<Owner, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string {
  return JSON.stringify([
    o.manager,
    o.operation,
    o.operation === 'Apply' ? '' : o.apiVersion,
    o.subresource ?? '',
  ]);
}

function decode(entries: unknown): Managed {
  const m: Managed = new Map();
  if (!Array.isArray(entries)) return m;
  for (const e of entries) {
    if (
      !isObject(e) ||
      typeof e.manager !== 'string' ||
      (e.operation !== 'Apply' && e.operation !== 'Update')
    )
      continue;
    const o: Owner = {
      manager: e.manager,
      operation: e.operation,
      apiVersion: typeof e.apiVersion === 'string' ? e.apiVersion : '',
      set: FieldSet.fromFieldsV1(e.fieldsV1),
    };
    if (typeof e.subresource === 'string' && e.subresource) o.subresource = e.subresource;
    if (typeof e.time === 'string') o.time = e.time;
    m.set(identity(o), o);
  }
  return m;
}

/** Entries sorted as upstream: Apply before Update, then by time, manager, version, subresource. */
function encode(m: Managed): ManagedFieldsEntry[] {
  const owners = [...m.values()].filter((o) => !o.set.isEmpty());
  owners.sort(
    (a, b) =>
      cmp(a.operation, b.operation) ||
      cmp(a.time ?? '', b.time ?? '') ||
      cmp(a.manager, b.manager) ||
      cmp(a.apiVersion, b.apiVersion) ||
      cmp(a.subresource ?? '', b.subresource ?? ''),
  );
  return owners.map((o) => {
    // Key order as Kubernetes writes an entry.
    const e: Partial<ManagedFieldsEntry> = {
      manager: o.manager,
      operation: o.operation,
      apiVersion: o.apiVersion,
    };
    if (o.time) e.time = o.time;
    e.fieldsType = 'FieldsV1';
    e.fieldsV1 = o.set.toFieldsV1();
    if (o.subresource) e.subresource = o.subresource;
    return e as ManagedFieldsEntry;
  });
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** RFC 3339 to the second, as metav1.Time serialises. */
function timestamp(now: Date): string {
  return `${now.toISOString().slice(0, 19)}Z`;
}

function withoutMeta(obj: unknown): JsonObject {
  const o = isObject(obj) ? clone(obj) : {};
  if (isObject(o.metadata)) delete o.metadata.managedFields;
  return o;
}

function strip(set: FieldSet, resetFields: string[][]): FieldSet {
  let s = set;
  for (const p of [...STRIPPED, ...resetFields]) s = s.withoutPrefix(p);
  return s;
}

/** `['status']`, `['spec']` or `['metadata','labels']` style paths to FieldSet paths. */
function resetPaths(resetFields: string[] | undefined): string[][] {
  return (resetFields ?? []).map((p) => p.split('.').map(fieldElement));
}

function setManagedFields(obj: JsonObject, m: Managed): ManagedFieldsEntry[] {
  const entries = encode(m);
  if (!isObject(obj.metadata)) obj.metadata = {};
  const meta = obj.metadata as JsonObject;
  if (entries.length > 0) meta.managedFields = entries;
  else delete meta.managedFields;
  return entries;
}

/**
 * Record an operation from `oldObj` to `newObj` by the owner `id` (force: other owners lose
 * what it changes). Returns the comparison.
 */
function recordUpdate(
  m: Managed,
  oldObj: unknown,
  newObj: unknown,
  owner: Omit<Owner, 'set' | 'time'>,
  ctx: SchemaContext,
  reset: string[][],
  time: string,
): void {
  const c = compare(oldObj, newObj, ctx);
  const changed = strip(c.added.union(c.modified), reset);
  const removed = strip(c.removed, reset);
  for (const o of m.values()) o.set = o.set.difference(changed).difference(removed);
  const id = identity(owner);
  if (!changed.isEmpty()) {
    const prev = m.get(id);
    m.set(id, { ...owner, time, set: prev ? prev.set.union(changed) : changed });
  }
  for (const [k, o] of m) if (o.set.isEmpty()) m.delete(k);
  capUpdateManagers(m);
}

/** At most ten Update entries: the oldest are folded into `ancient-changes`. */
function capUpdateManagers(m: Managed): void {
  const updates = [...m.entries()]
    .filter(([, o]) => o.operation === 'Update')
    .sort(([, a], [, b]) => cmp(a.time ?? '', b.time ?? ''));
  if (updates.length <= MAX_UPDATE_MANAGERS) return;
  let ancientId = '';
  for (const [k, o] of updates.slice(0, updates.length - MAX_UPDATE_MANAGERS + 1)) {
    if (o.manager === 'ancient-changes') continue;
    m.delete(k);
    const ancient: Owner = {
      manager: 'ancient-changes',
      operation: 'Update',
      apiVersion: o.apiVersion,
      time: o.time,
      set: o.set,
    };
    ancientId = identity(ancient);
    const prev = m.get(ancientId);
    m.set(ancientId, prev ? { ...ancient, set: prev.set.union(o.set) } : ancient);
  }
}

export interface UpdateOptions {
  /** The stored object before the write; undefined for create. */
  old: KubeObject | undefined;
  /** The object about to be stored (its managedFields, if the client changed them, are honoured). */
  updated: KubeObject;
  manager: string;
  operation?: 'Update';
  ctx: SchemaContext;
  now: Date;
  /** The API version the client wrote, e.g. `apps/v1`. */
  apiVersion: string;
  subresource?: string;
  /** Fields this endpoint resets, which no one owns through it (e.g. `['status']` on the main resource). */
  resetFields?: string[];
}

/**
 * Record ownership for an ordinary write (create, update, non-apply patch): returns the
 * object to store, with `metadata.managedFields` updated, and those entries.
 */
export function updateManagedFields(opts: UpdateOptions): {
  object: KubeObject;
  managedFields: ManagedFieldsEntry[];
} {
  const { old, updated, manager, ctx, now, apiVersion, subresource } = opts;
  const requested = updated.metadata?.managedFields;
  let m: Managed;
  if (subresource) m = decode(old?.metadata?.managedFields);
  else if (
    Array.isArray(requested) &&
    (requested.length === 0 || (requested.length === 1 && deepEqual(requested[0], {})))
  ) {
    m = new Map();
  } else {
    m = decode(requested);
    if (m.size === 0) m = decode(old?.metadata?.managedFields);
  }
  const object = withoutMeta(updated) as KubeObject;
  const owner = { manager, operation: 'Update' as const, apiVersion, subresource };
  recordUpdate(m, withoutMeta(old), object, owner, ctx, resetPaths(opts.resetFields), timestamp(now));
  const managedFields = setManagedFields(object, m);
  return { object, managedFields };
}

export interface ApplyOptions {
  /** The stored object; undefined when apply creates it. */
  live: KubeObject | undefined;
  /** The applied configuration (the request body). */
  applied: KubeObject;
  manager: string;
  force: boolean;
  ctx: SchemaContext;
  now: Date;
  apiVersion: string;
  subresource?: string;
  resetFields?: string[];
}

/**
 * Server-side apply: merge `applied` into `live` as `manager`, returning the object to store
 * (with managedFields) or throwing a 409 conflict:
 *
 *   Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas
 */
export function serverSideApply(opts: ApplyOptions): {
  object: KubeObject;
  managedFields: ManagedFieldsEntry[];
} {
  const { live, applied, manager, force, ctx, now, apiVersion, subresource } = opts;
  if (!isObject(applied))
    throw new StatusError('BadRequest', 'error decoding YAML: the applied configuration is not an object');
  if (applied.metadata?.managedFields !== undefined && applied.metadata?.managedFields !== null) {
    throw new StatusError('BadRequest', 'metadata.managedFields must be nil');
  }
  const reset = resetPaths(opts.resetFields);
  const time = timestamp(now);
  const liveObj = withoutMeta(live);
  const m = decode(live?.metadata?.managedFields);
  if (live && m.size === 0) {
    // An object no one has claimed yet: whatever it holds belongs to "before-first-apply".
    recordUpdate(
      m,
      {},
      liveObj,
      { manager: 'before-first-apply', operation: 'Update', apiVersion },
      ctx,
      reset,
      time,
    );
  }

  let configSet: FieldSet;
  let merged: JsonObject;
  try {
    configSet = strip(toFieldSet(applied, ctx, true), reset);
    merged = (mergeApplied(liveObj, withoutMeta(applied), ctx) ?? {}) as JsonObject;
  } catch (e) {
    if (!(e instanceof TypeError_)) throw e;
    throw new StatusError(
      'BadRequest',
      `failed to create typed patch object (${gvkString(applied)}): ${e.message}`,
    );
  }

  const owner: Owner = { manager, operation: 'Apply', apiVersion, time, set: configSet };
  if (subresource) owner.subresource = subresource;
  const id = identity(owner);
  const lastSet = m.get(id)?.set;
  m.set(id, owner);

  // Fields this manager applied before and dropped now go, unless someone still owns them.
  if (lastSet && !lastSet.isEmpty()) {
    let owned = new FieldSet();
    for (const o of m.values()) owned = owned.union(o.set);
    removeFields(merged, lastSet.difference(owned).paths(), owned);
  }

  const c = compare(liveObj, merged, ctx);
  const changed = strip(c.added.union(c.modified), reset);
  const removed = strip(c.removed, reset);
  const conflicts: { owner: Owner; set: FieldSet }[] = [];
  for (const [k, o] of m) {
    if (k === id) continue;
    const set = o.set.intersection(changed);
    if (!set.isEmpty()) conflicts.push({ owner: o, set });
  }
  if (conflicts.length > 0 && !force) throw conflictError(conflicts);
  for (const [k, o] of m) {
    if (k === id) continue;
    o.set = o.set.difference(changed).difference(removed);
    if (o.set.isEmpty()) m.delete(k);
  }

  if (manager === 'kubectl' && isObject(merged.metadata) && isObject(merged.metadata.annotations)) {
    const ann = merged.metadata.annotations;
    if (typeof ann[LAST_APPLIED] === 'string') ann[LAST_APPLIED] = lastApplied(applied);
  }
  const managedFields = setManagedFields(merged, m);
  return { object: merged as KubeObject, managedFields };
}

function lastApplied(applied: KubeObject): string {
  const copy = clone(applied);
  const ann = copy.metadata?.annotations;
  if (ann) {
    delete ann[LAST_APPLIED];
    if (Object.keys(ann).length === 0 && copy.metadata) delete copy.metadata.annotations;
  }
  return `${JSON.stringify(copy)}\n`;
}

function gvkString(o: KubeObject): string {
  const av = typeof o.apiVersion === 'string' ? o.apiVersion : '';
  const gv = av.includes('/') ? av : `/${av}`;
  return `${gv}, Kind=${o.kind ?? ''}`;
}

function describeOwner(o: Owner): string {
  let s = JSON.stringify(o.manager);
  if (o.subresource) s += ` with subresource ${JSON.stringify(o.subresource)}`;
  if (o.operation === 'Update') s += ` using ${o.apiVersion}`;
  return s;
}

function conflictError(conflicts: { owner: Owner; set: FieldSet }[]): StatusError {
  const list: { who: string; path: string }[] = [];
  for (const { owner, set } of conflicts) {
    for (const p of set.paths()) list.push({ who: describeOwner(owner), path: pathString(p) });
  }
  list.sort((a, b) => cmp(a.who, b.who) || cmp(a.path, b.path));
  const causes: StatusCause[] = list.map((c) => ({
    reason: 'FieldManagerConflict',
    message: `conflict with ${c.who}`,
    field: c.path,
  }));
  let message: string;
  if (list.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${list[0].who}: ${list[0].path}`;
  } else {
    const lines: string[] = [];
    for (const who of [...new Set(list.map((c) => c.who))]) {
      lines.push(`conflicts with ${who}:`);
      for (const c of list) if (c.who === who) lines.push(`- ${c.path}`);
    }
    message = `Apply failed with ${list.length} conflicts: ${lines.join('\n')}`;
  }
  return new StatusError('Conflict', message, { causes });
}

/**
 * The field manager of a request, as Kubernetes picks it: the `fieldManager` query parameter,
 * else the User-Agent up to its first `/` (`kubectl/v1.32.0 (linux/amd64)` → `kubectl`),
 * printable characters only, at most 128 bytes.
 */
export function fieldManagerFor(
  fieldManager: string | undefined | null,
  userAgent: string | undefined | null,
): string {
  if (fieldManager) return fieldManager;
  const prefix = (userAgent ?? '').split('/')[0];
  let out = '';
  for (const ch of prefix) {
    if (/\p{C}/u.test(ch)) continue;
    if (Buffer.byteLength(out + ch) > 128) break;
    out += ch;
  }
  return out;
}
