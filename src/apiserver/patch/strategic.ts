/**
 * Kubernetes' strategic merge patch (application/strategic-merge-patch+json), driven by the
 * kind's schema instead of Go struct tags:
 *
 * - objects merge key by key; `null` deletes a key;
 * - a list whose schema says `x-kubernetes-patch-strategy: merge` merges: lists of objects
 *   by `x-kubernetes-patch-merge-key` (containers by `name`), lists of scalars as sets
 *   (finalizers); any other list is replaced;
 * - directives: `$patch: replace|delete` in an object (replace it / empty it), `$patch:
 *   replace|delete` as an element of a merging list (replace the list / delete the element with
 *   that key), `$deleteFromPrimitiveList/<field>: [values]`, `$setElementOrder/<field>: [...]`
 *   (the order kubectl's client-side apply wants), `$retainKeys: [fields]` (drop every other
 *   field, used by `strategy` and `volumes`).
 *
 * Merged list order follows upstream: `$setElementOrder` first, then the patch's order, with
 * server-only elements kept near their old neighbours.
 */

import { StatusError } from '../../api/errors.ts';
import type { Schema } from '../../api/resource.ts';
import { clone, deepEqual, isObject, type JsonObject } from './json.ts';
import type { SchemaContext } from './schema.ts';

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const DELETE_FROM = '$deleteFromPrimitiveList/';
const SET_ORDER = '$setElementOrder/';

function bad(message: string): StatusError {
  return new StatusError('BadRequest', message);
}

/** Apply a strategic merge patch to a copy of `original`; `original` is not modified. */
export function strategicMergePatch(original: unknown, patch: unknown, ctx: SchemaContext): JsonObject {
  if (!isObject(patch)) {
    throw bad(
      `json: cannot unmarshal ${Array.isArray(patch) ? 'array' : typeof patch} into Go value of type map[string]interface {}`,
    );
  }
  const base = isObject(original) ? clone(original) : {};
  return mergeMap(base, clone(patch), ctx.root, ctx);
}

function strategiesOf(s: Schema | undefined): string[] {
  return s?.['x-kubernetes-patch-strategy']?.split(',') ?? [];
}

function mergeMap(
  original: JsonObject,
  patch: JsonObject,
  schema: Schema | undefined,
  ctx: SchemaContext,
): JsonObject {
  if (Object.hasOwn(patch, DIRECTIVE)) {
    const d = patch[DIRECTIVE];
    if (d === 'delete') return {};
    if (d === 'replace') {
      delete patch[DIRECTIVE];
      return mergeMap({}, patch, schema, ctx);
    }
    if (d !== 'merge') throw bad(`unknown patch type: ${String(d)} in map: ${JSON.stringify(patch)}`);
    delete patch[DIRECTIVE];
  }

  if (Object.hasOwn(patch, RETAIN_KEYS)) {
    const keep = patch[RETAIN_KEYS];
    delete patch[RETAIN_KEYS];
    if (!Array.isArray(keep)) throw bad('invalid patch format of retainKeys');
    for (const [k, v] of Object.entries(patch)) {
      if (v === null || k.startsWith(DELETE_FROM) || k.startsWith(SET_ORDER)) continue;
      if (!keep.includes(k)) throw bad('invalid patch format of retainKeys');
    }
    for (const k of Object.keys(original)) if (!keep.includes(k)) delete original[k];
  }

  // Lists with an order directive are merged together with it.
  for (const [k, order] of Object.entries(patch)) {
    if (!k.startsWith(SET_ORDER)) continue;
    delete patch[k];
    if (!Array.isArray(order)) throw bad('invalid patch format of setElementOrder list');
    const field = k.slice(SET_ORDER.length);
    const fieldSchema = ctx.field(schema, field);
    const orig = Array.isArray(original[field]) ? (original[field] as unknown[]) : undefined;
    const p = Array.isArray(patch[field]) ? (patch[field] as unknown[]) : undefined;
    if (!orig && !p) continue;
    const merged = mergeList(orig ?? [], p ?? [], fieldSchema, ctx, order);
    original[field] = merged;
    delete patch[field];
  }

  for (const [key, value] of Object.entries(patch)) {
    let k = key;
    if (k.startsWith(DELETE_FROM)) {
      k = k.slice(DELETE_FROM.length);
      if (!Array.isArray(value)) throw bad('invalid patch format of primitive list');
      const cur = original[k];
      if (Array.isArray(cur)) original[k] = cur.filter((x) => !value.some((d) => deepEqual(d, x)));
      continue;
    }
    if (value === null) {
      delete original[k];
      continue;
    }
    const fieldSchema = ctx.field(schema, k);
    const cur = original[k];
    if (isObject(cur) && isObject(value)) {
      original[k] = strategiesOf(fieldSchema).includes('replace')
        ? fresh(value, fieldSchema, ctx)
        : mergeMap(cur, value, fieldSchema, ctx);
    } else if (Array.isArray(cur) && Array.isArray(value)) {
      original[k] = mergeList(cur, value, fieldSchema, ctx);
    } else {
      original[k] = fresh(value, fieldSchema, ctx);
    }
  }
  return original;
}

/** A patch value for a field the original lacks: taken as is, minus directives and nulls. */
function fresh(value: unknown, schema: Schema | undefined, ctx: SchemaContext): unknown {
  if (isObject(value)) return mergeMap({}, value, schema, ctx);
  if (Array.isArray(value)) return mergeList([], value, schema, ctx);
  return value;
}

function mergeList(
  original: unknown[],
  patch: unknown[],
  schema: Schema | undefined,
  ctx: SchemaContext,
  order?: unknown[],
): unknown[] {
  const items = ctx.items(schema);
  if (!strategiesOf(schema).includes('merge')) {
    return patch.map((v) => (isObject(v) ? mergeMap({}, v, items, ctx) : v));
  }
  if (original.length === 0 && patch.length === 0) return [];
  const all = [...original, ...patch];
  if (all.some((v) => Array.isArray(v))) {
    throw new StatusError('Invalid', 'the server rejected our request due to an error in our request', {
      causes: [{ message: 'lists of lists are not supported' }],
    });
  }
  const mergeKey = schema?.['x-kubernetes-patch-merge-key'] ?? '';
  const ofMaps = all.some(isObject);

  let merged: unknown[];
  let patchOrder: unknown[];
  if (!ofMaps) {
    merged = [];
    for (const v of all) if (!merged.some((m) => deepEqual(m, v))) merged.push(v);
    patchOrder = patch;
  } else {
    if (!mergeKey) throw bad('cannot merge lists without merge key');
    let base = original;
    const plain: JsonObject[] = [];
    let replace = false;
    for (const p of patch) {
      if (!isObject(p)) throw bad(`list element types are not identical: ${JSON.stringify(all)}`);
      if (!Object.hasOwn(p, DIRECTIVE)) {
        plain.push(p);
        continue;
      }
      const d = p[DIRECTIVE];
      if (d === 'delete') {
        if (!Object.hasOwn(p, mergeKey)) throw noMergeKey(p, mergeKey);
        base = base.filter((o) => !(isObject(o) && deepEqual(o[mergeKey], p[mergeKey])));
      } else if (d === 'replace') {
        replace = true;
      } else if (d === 'merge') {
        throw bad('merging lists cannot yet be specified in the patch');
      } else {
        throw bad(`unknown patch type: ${String(d)} in map: ${JSON.stringify(p)}`);
      }
    }
    if (replace) return plain.map((p) => mergeMap({}, p, items, ctx));
    merged = [...base];
    for (const p of plain) {
      if (!Object.hasOwn(p, mergeKey)) throw noMergeKey(p, mergeKey);
      const i = merged.findIndex((o) => isObject(o) && deepEqual(o[mergeKey], p[mergeKey]));
      if (i >= 0) merged[i] = mergeMap(merged[i] as JsonObject, p, items, ctx);
      else merged.push(mergeMap({}, p, items, ctx));
    }
    patchOrder = plain;
  }
  return normalizeOrder(merged, order ?? patchOrder, original, ofMaps ? mergeKey : '');
}

function noMergeKey(m: JsonObject, key: string): StatusError {
  return bad(`map: ${JSON.stringify(m)} does not contain declared merge key: ${key}`);
}

/**
 * Order a merged list as upstream does: elements named by `patchOrder` in that order,
 * interleaved with server-only elements, which keep their places relative to `serverOrder`.
 */
function normalizeOrder(
  merged: unknown[],
  patchOrder: unknown[],
  serverOrder: unknown[],
  mergeKey: string,
): unknown[] {
  const id = (v: unknown) => (mergeKey && isObject(v) ? v[mergeKey] : v);
  const indexIn = (list: unknown[], v: unknown) => list.findIndex((x) => deepEqual(id(x), id(v)));
  const patchItems: unknown[] = [];
  const serverOnly: unknown[] = [];
  for (const v of merged) (indexIn(patchOrder, v) >= 0 ? patchItems : serverOnly).push(v);
  const byIndex = (list: unknown[]) => (a: unknown, b: unknown) => rank(list, a) - rank(list, b);
  const rank = (list: unknown[], v: unknown) => {
    const i = indexIn(list, v);
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  patchItems.sort(byIndex(patchOrder));
  serverOnly.sort(byIndex(serverOrder));
  // Insert server-only items among patch items, before the first patch item that comes after
  // them on the server; an item the server does not know ends the comparison.
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < serverOnly.length || j < patchItems.length) {
    if (j >= patchItems.length) out.push(serverOnly[i++]);
    else if (i >= serverOnly.length) out.push(patchItems[j++]);
    else {
      const li = indexIn(serverOrder, serverOnly[i]);
      const ri = indexIn(serverOrder, patchItems[j]);
      if (li >= 0 && ri >= 0 && li < ri) out.push(serverOnly[i++]);
      else out.push(patchItems[j++]);
    }
  }
  return out;
}
