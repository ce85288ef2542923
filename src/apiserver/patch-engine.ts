/** The PatchEngine the handlers use, over src/apiserver/patch's functions and the kind's schema. */

import type { KubeObject, ResourceDef, ResourceRegistry, Schema } from '../api/resource.ts';
import type { PatchEngine } from './context.ts';
import {
  applyPatch,
  type ManagedFieldsEntry,
  SchemaContext,
  serverSideApply,
  updateManagedFields,
} from './patch/index.ts';

/**
 * One SchemaContext per kind (and definitions version): the context memoizes resolved
 * schemas, so keeping it warms every later request of the kind.
 */
const contexts = new WeakMap<ResourceDef, { defs: Record<string, Schema>; ctx: SchemaContext }>();

function schemaContext(registry: ResourceRegistry, def: ResourceDef): SchemaContext {
  const defs = registry.definitions();
  const have = contexts.get(def);
  if (have && have.defs === defs) return have.ctx;
  const ctx = SchemaContext.fromRegistry(registry, def);
  contexts.set(def, { defs, ctx });
  return ctx;
}

/**
 * Field sets of creates, by kind and object shape. A create's managedFields entry is one
 * Update entry whose fieldsV1 is a pure function of the kind's schema and the object's shape:
 * its field names and, inside lists, its values (list keys, set members, atomic lists), but
 * not the scalar values reached through maps alone (a create adds each such field whatever
 * its value; null counts as absent, so it stays null). Pods of one template, or Events of one
 * component, repeat it. The value is the fieldsV1 as JSON text (parsed afresh for each
 * object: nothing is shared).
 */
const createSets = new Map<string, string | null>();
const CREATE_SETS_MAX = 2048;

/** The object as JSON with every scalar outside lists written as 0 (null stays null). */
function shape(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v !== 'object') return '0';
  if (Array.isArray(v)) return JSON.stringify(v);
  let out = '{';
  for (const k in v as Record<string, unknown>) {
    const c = (v as Record<string, unknown>)[k];
    if (c === undefined) continue;
    out += `${out.length > 1 ? ',' : ''}${JSON.stringify(k)}:${shape(c)}`;
  }
  return `${out}}`;
}

function shapeKey(def: ResourceDef, obj: KubeObject): string {
  return `${def.group}/${def.version}/${def.kind}\n${shape(obj)}`;
}

function apiVersionOf(def: ResourceDef, subresource?: string): string {
  return subresource === 'scale' ? 'autoscaling/v1' : def.group ? `${def.group}/${def.version}` : def.version;
}

function recordUpdate(
  old: KubeObject | undefined,
  updated: KubeObject,
  opts: { manager: string; def: ResourceDef; registry: ResourceRegistry; subresource?: string },
): KubeObject {
  const { manager, def, registry, subresource } = opts;
  const now = new Date();
  const apiVersion = apiVersionOf(def, subresource);
  const slow = () => {
    const { object, managedFields } = updateManagedFields({
      old,
      updated,
      manager,
      ctx: schemaContext(registry, def),
      now,
      apiVersion,
      subresource,
      resetFields:
        subresource === 'status' ? ['spec'] : def.hasStatus && !subresource ? ['status'] : undefined,
    });
    object.metadata = { ...object.metadata, managedFields };
    return { object, managedFields };
  };
  // A plain create (no previous object, no managedFields asked for) takes the memoized path.
  if (old !== undefined || subresource || !updated.metadata || updated.metadata.managedFields !== undefined) {
    return slow().object;
  }
  const key = shapeKey(def, updated);
  const known = createSets.get(key);
  if (known === undefined) {
    const { object, managedFields } = slow();
    if (createSets.size >= CREATE_SETS_MAX) createSets.clear();
    createSets.set(key, managedFields.length === 1 ? JSON.stringify(managedFields[0].fieldsV1) : null);
    return object;
  }
  if (known === null) return slow().object;
  const entry: ManagedFieldsEntry = {
    manager,
    operation: 'Update',
    apiVersion,
    time: `${now.toISOString().slice(0, 19)}Z`,
    fieldsType: 'FieldsV1',
    fieldsV1: JSON.parse(known),
  };
  // `updated` is the caller's to give away (create discards it): share its parts.
  return { ...updated, metadata: { ...updated.metadata, managedFields: [entry] } };
}

export const patchEngine: PatchEngine = {
  jsonPatch: (obj, patch) =>
    applyPatch('application/json-patch+json', obj, patch, SchemaContext.untyped()) as KubeObject,
  mergePatch: (obj, patch) =>
    applyPatch('application/merge-patch+json', obj, patch, SchemaContext.untyped()) as KubeObject,
  strategicMergePatch: (obj, patch, def, registry) =>
    applyPatch('application/strategic-merge-patch+json', obj, patch, schemaContext(registry, def), {
      strategicFallback: 'merge',
    }) as KubeObject,
  apply: (live, config, { manager, force, def, registry }) => {
    const { object, managedFields } = serverSideApply({
      live,
      applied: config,
      manager,
      force,
      ctx: schemaContext(registry, def),
      now: new Date(),
      apiVersion: def.group ? `${def.group}/${def.version}` : def.version,
      resetFields: def.hasStatus ? ['status'] : undefined,
    });
    object.metadata = { ...object.metadata, managedFields };
    return object;
  },
  recordUpdate,
};
