/**
 * Patch semantics and server-side apply, as pure functions over plain JSON objects and the
 * kind's schema (`SchemaContext`). Nothing here touches HTTP or the store.
 *
 *   const ctx = SchemaContext.fromRegistry(registry, def);
 *   const patched = applyPatch('application/strategic-merge-patch+json', current, body, ctx);
 *   const { object } = updateManagedFields({ old: current, updated: patched, manager, ctx, now, apiVersion });
 *   // or, for application/apply-patch+yaml:
 *   const { object } = serverSideApply({ live: current, applied: body, manager, force, ctx, now, apiVersion });
 */
import { StatusError } from '../../api/errors.ts';
import { jsonPatch } from './json-patch.ts';
import { mergePatch } from './merge-patch.ts';
import type { SchemaContext } from './schema.ts';
import { strategicMergePatch } from './strategic.ts';

export { FieldSet, pathString } from './fieldset.ts';
export { type JsonPatchOp, jsonPatch } from './json-patch.ts';
export {
  type ApplyOptions,
  fieldManagerFor,
  type ManagedFieldsEntry,
  serverSideApply,
  type UpdateOptions,
  updateManagedFields,
} from './managed-fields.ts';
export { mergePatch } from './merge-patch.ts';
export { isAtomicMap, type ListType, listTypeOf, SchemaContext } from './schema.ts';
export { strategicMergePatch } from './strategic.ts';
export { compare, toFieldSet } from './typed.ts';

export const JSON_PATCH = 'application/json-patch+json';
export const MERGE_PATCH = 'application/merge-patch+json';
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';
export const APPLY_PATCH = 'application/apply-patch+yaml';

/**
 * The patch content types a kind accepts, for the 415 message and discovery: strategic merge
 * patch only where the schema carries strategy information (built-in kinds).
 */
export function acceptedPatchTypes(ctx: SchemaContext): string[] {
  return ctx.strategic
    ? [JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH]
    : [JSON_PATCH, MERGE_PATCH, APPLY_PATCH];
}

export interface ApplyPatchOptions {
  /**
   * What a strategic merge patch does on a kind without strategy information (custom
   * resources): `reject` answers 415 as Kubernetes does; `merge` applies it as a JSON merge
   * patch. Default `reject`.
   */
  strategicFallback?: 'reject' | 'merge';
}

/**
 * Apply a json, merge or strategic merge patch (already parsed from JSON) to `original`.
 * Apply patches go through `serverSideApply` instead. Throws StatusErrors as Kubernetes does.
 */
export function applyPatch(
  contentType: string,
  original: unknown,
  patch: unknown,
  ctx: SchemaContext,
  opts: ApplyPatchOptions = {},
): unknown {
  const type = contentType.split(';')[0].trim().toLowerCase();
  switch (type) {
    case JSON_PATCH:
      return jsonPatch(original, patch);
    case MERGE_PATCH:
      return mergePatch(original, patch);
    case STRATEGIC_MERGE_PATCH:
      if (ctx.strategic) return strategicMergePatch(original, patch, ctx);
      if (opts.strategicFallback === 'merge') return mergePatch(original, patch);
      break;
  }
  throw new StatusError(
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${acceptedPatchTypes(ctx).join(', ')}`,
  );
}
