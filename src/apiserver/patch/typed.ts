/**
 * Schema-aware walks over plain JSON objects for server-side apply: the set of fields an
 * object sets, the comparison of two objects as added/modified/removed field sets, the merge
 * of an applied configuration into a live object, and removal of fields by path.
 *
 * Types come from the schema (`SchemaContext`): objects are granular unless
 * `x-kubernetes-map-type: atomic`; lists are atomic, sets or maps (see `listTypeOf`);
 * where the schema says nothing, objects are granular and lists atomic, as upstream deduces.
 */
import type { Schema } from '../../api/resource.ts';
import { FieldSet, fieldElement, keyElement, pathString, valueElement } from './fieldset.ts';
import { clone, deepEqual, isObject, type JsonObject } from './json.ts';
import { isAtomicMap, listTypeOf, type SchemaContext } from './schema.ts';

/** Raised when a list element lacks a key field; the caller turns it into a StatusError. */
export class TypeError_ extends Error {}

/**
 * The path element of each element of a list, or undefined for an atomic list.
 * With `strict`, a map-list element missing a key without a schema default is an error;
 * otherwise it is addressed by index.
 */
export function listElements(
  list: unknown[],
  schema: Schema | undefined,
  ctx: SchemaContext,
  path: readonly string[],
  strict: boolean,
): string[] | undefined {
  const lt = listTypeOf(schema);
  if (lt.type === 'atomic') return undefined;
  if (lt.type === 'set') return list.map((v) => valueElement(v));
  const items = ctx.items(schema);
  return list.map((el, i) => {
    const key: Record<string, unknown> = {};
    for (const k of lt.keys) {
      let v = isObject(el) ? el[k] : undefined;
      if (v === undefined || v === null) v = ctx.field(items, k)?.default;
      if (v === undefined) {
        if (strict) {
          throw new TypeError_(
            `${pathString(path)}: element ${i}: associative list with keys has an element that omits key field ${JSON.stringify(k)} (and doesn't have default value)`,
          );
        }
        return `i:${i}`;
      }
      key[k] = v;
    }
    return keyElement(key);
  });
}

/** The fields `value` sets: leaves, list elements, empty or null objects, and map entries. */
export function toFieldSet(value: unknown, ctx: SchemaContext, strict = false): FieldSet {
  const set = new FieldSet();
  walkSet(value, ctx.root, ctx, [], set, strict);
  return set;
}

function walkSet(
  v: unknown,
  s: Schema | undefined,
  ctx: SchemaContext,
  path: string[],
  set: FieldSet,
  strict: boolean,
) {
  if (isObject(v)) {
    if (isAtomicMap(s)) {
      set.insert(path);
      return;
    }
    for (const [k, child] of Object.entries(v)) {
      const p = [...path, fieldElement(k)];
      walkSet(child, ctx.field(s, k), ctx, p, set, strict);
      if (child === null || (isObject(child) && Object.keys(child).length === 0) || !ctx.isDeclared(s, k))
        set.insert(p);
    }
  } else if (Array.isArray(v)) {
    const pes = listElements(v, s, ctx, path, strict);
    if (!pes) {
      set.insert(path);
      return;
    }
    const items = ctx.items(s);
    v.forEach((el, i) => {
      const p = [...path, pes[i]];
      if (isObject(el)) walkSet(el, items, ctx, p, set, strict);
      set.insert(p);
    });
  } else if (path.length > 0) {
    set.insert(path);
  }
}

export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

/** What changed from `lhs` to `rhs`, as field sets. */
export function compare(lhs: unknown, rhs: unknown, ctx: SchemaContext): Comparison {
  const c = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  walkCompare(nn(lhs), nn(rhs), ctx.root, ctx, [], c);
  return c;
}

function nn(v: unknown): unknown {
  return v === null ? undefined : v;
}

function walkCompare(
  l: unknown,
  r: unknown,
  s: Schema | undefined,
  ctx: SchemaContext,
  path: string[],
  c: Comparison,
) {
  if (l === undefined && r === undefined) return;
  const leaf = () => {
    if (l === undefined) c.added.insert(path);
    else if (r === undefined) c.removed.insert(path);
    else if (!deepEqual(l, r)) c.modified.insert(path);
  };
  const objs = (l === undefined || isObject(l)) && (r === undefined || isObject(r));
  if (objs && !isAtomicMap(s)) {
    const lo = (l ?? {}) as JsonObject;
    const ro = (r ?? {}) as JsonObject;
    const keys = new Set([...Object.keys(lo), ...Object.keys(ro)]);
    for (const k of keys)
      walkCompare(nn(lo[k]), nn(ro[k]), ctx.field(s, k), ctx, [...path, fieldElement(k)], c);
    const isMapType = !ctx.resolve(s)?.properties || keys.size === 0;
    if (path.length > 0 && isMapType && (l === undefined || r === undefined)) leaf();
    return;
  }
  const arrs = (l === undefined || Array.isArray(l)) && (r === undefined || Array.isArray(r));
  if (arrs && listTypeOf(s).type !== 'atomic') {
    const la = (l ?? []) as unknown[];
    const ra = (r ?? []) as unknown[];
    const lp = listElements(la, s, ctx, path, false) ?? [];
    const rp = listElements(ra, s, ctx, path, false) ?? [];
    const items = ctx.items(s);
    const lm = new Map(lp.map((pe, i) => [pe, la[i]]));
    const rm = new Map(rp.map((pe, i) => [pe, ra[i]]));
    for (const pe of new Set([...lp, ...rp])) {
      const a = nn(lm.get(pe));
      const b = nn(rm.get(pe));
      const p = [...path, pe];
      if (isObject(a) || isObject(b)) {
        walkCompare(a, b, items, ctx, p, c);
        if (a === undefined) c.added.insert(p);
        else if (b === undefined) c.removed.insert(p);
      } else {
        walkCompare(a, b, items, ctx, p, c);
      }
    }
    return;
  }
  leaf();
}

/**
 * Merge an applied configuration into a live object: the configuration's values win,
 * objects merge field by field, map- and set-lists merge by element, atomic values replace.
 * A null in the configuration removes the field.
 */
export function mergeApplied(live: unknown, config: unknown, ctx: SchemaContext): unknown {
  return merge(live, config, ctx.root, ctx, []);
}

function merge(l: unknown, r: unknown, s: Schema | undefined, ctx: SchemaContext, path: string[]): unknown {
  if (r === undefined) return l;
  if (r === null) return undefined;
  if (l === undefined || l === null) return stripNulls(clone(r));
  if (isObject(l) && isObject(r) && !isAtomicMap(s)) {
    const out: JsonObject = { ...l };
    for (const [k, v] of Object.entries(r)) {
      const m = merge(l[k], v, ctx.field(s, k), ctx, [...path, fieldElement(k)]);
      if (m === undefined) delete out[k];
      else out[k] = m;
    }
    return out;
  }
  if (Array.isArray(l) && Array.isArray(r)) {
    const lp = listElements(l, s, ctx, path, false);
    const rp = listElements(r, s, ctx, path, true);
    if (!lp || !rp) return clone(r);
    const items = ctx.items(s);
    return mergeLists(l, lp, r, rp, (a, b, pe) => merge(a, b, items, ctx, [...path, pe]));
  }
  return clone(r);
}

function stripNulls(v: unknown): unknown {
  if (isObject(v)) {
    for (const [k, c] of Object.entries(v)) {
      if (c === null) delete v[k];
      else stripNulls(c);
    }
  } else if (Array.isArray(v)) {
    for (const c of v) stripNulls(c);
  }
  return v;
}

/**
 * Merge two keyed lists keeping live-only elements where they were and shared and new
 * elements in the configuration's order (the interleaving upstream's merge produces).
 */
function mergeLists(
  l: unknown[],
  lp: string[],
  r: unknown[],
  rp: string[],
  mergeItem: (a: unknown, b: unknown, pe: string) => unknown,
): unknown[] {
  const rset = new Set(rp);
  const lmap = new Map(lp.map((pe, i) => [pe, l[i]]));
  const shared = rp.filter((pe) => lmap.has(pe));
  let next = 0;
  const done = new Set<string>();
  const out: unknown[] = [];
  const emitRight = (ri: number) => {
    const pe = rp[ri];
    done.add(pe);
    const m = mergeItem(lmap.get(pe), r[ri], pe);
    if (m !== undefined) out.push(m);
    if (shared[next] === pe) next++;
  };
  let li = 0;
  let ri = 0;
  while (li < l.length || ri < r.length) {
    if (li < l.length && ri < r.length) {
      if (lp[li] === rp[ri]) {
        emitRight(ri);
        li++;
        ri++;
        continue;
      }
      if (rset.has(lp[li]) && shared[next] !== undefined && shared[next] !== lp[li]) {
        li++;
        continue;
      }
    }
    if (li < l.length) {
      if (!rset.has(lp[li])) {
        out.push(l[li]);
        li++;
        continue;
      }
      if (done.has(lp[li])) {
        li++;
        continue;
      }
    }
    if (ri < r.length) {
      emitRight(ri);
      ri++;
    } else {
      li++;
    }
  }
  return out;
}

/** Find the child of `container` that path element `pe` names. */
function locate(
  container: unknown,
  pe: string,
): { kind: 'field'; key: string } | { kind: 'index'; index: number } | undefined {
  const body = pe.slice(2);
  if (pe.startsWith('f:'))
    return isObject(container) && Object.hasOwn(container, body) ? { kind: 'field', key: body } : undefined;
  if (!Array.isArray(container)) return undefined;
  let index = -1;
  if (pe.startsWith('k:')) {
    const key = JSON.parse(body) as JsonObject;
    index = container.findIndex(
      (el) => isObject(el) && Object.entries(key).every(([k, v]) => deepEqual(el[k], v)),
    );
  } else if (pe.startsWith('v:')) {
    const v = JSON.parse(body);
    index = container.findIndex((el) => deepEqual(el, v));
  } else if (pe.startsWith('i:')) {
    index = Number(body) < container.length ? Number(body) : -1;
  }
  return index >= 0 ? { kind: 'index', index } : undefined;
}

function childAt(container: unknown, pe: string): unknown {
  const loc = locate(container, pe);
  if (!loc) return undefined;
  return loc.kind === 'field' ? (container as JsonObject)[loc.key] : (container as unknown[])[loc.index];
}

/**
 * Remove the fields at `paths` from `obj` (in place). A path whose subtree still holds a
 * field of `keep` stays; objects and lists left empty by a removal go too, unless `keep`
 * holds them.
 */
export function removeFields(obj: JsonObject, paths: string[][], keep: FieldSet): void {
  // Shallowest first: removing an element takes its fields along, and elements are found
  // by key, so what is left of a path stays addressable.
  const sorted = [...paths].sort((a, b) => a.length - b.length);
  for (const path of sorted) {
    if (path.length === 0) continue;
    const sub = keep.node(path);
    if (sub && !sub.isEmpty()) continue;
    if (isKeyField(path)) continue;
    const chain: unknown[] = [obj];
    for (const pe of path.slice(0, -1)) {
      const next = childAt(chain[chain.length - 1], pe);
      if (next === undefined) break;
      chain.push(next);
    }
    if (chain.length !== path.length) continue;
    if (!removeChild(chain[chain.length - 1], path[path.length - 1])) continue;
    // Tidy containers this removal left empty.
    for (let d = path.length - 1; d > 0; d--) {
      const c = chain[d];
      const empty = isObject(c) ? Object.keys(c).length === 0 : Array.isArray(c) && c.length === 0;
      if (!empty || keep.hasPrefix(path.slice(0, d))) break;
      removeChild(chain[d - 1], path[d - 1]);
    }
  }
}

/** Is this path a key field of an associative-list element (which stays while the element does)? */
function isKeyField(path: string[]): boolean {
  const last = path[path.length - 1];
  const parent = path[path.length - 2];
  if (!last?.startsWith('f:') || !parent?.startsWith('k:')) return false;
  return Object.hasOwn(JSON.parse(parent.slice(2)) as JsonObject, last.slice(2));
}

function removeChild(container: unknown, pe: string): boolean {
  const loc = locate(container, pe);
  if (!loc) return false;
  if (loc.kind === 'field') delete (container as JsonObject)[loc.key];
  else (container as unknown[]).splice(loc.index, 1);
  return true;
}
