/**
 * Unknown-field detection against a kind's OpenAPI schema, for `fieldValidation`:
 * Strict fails the request, Warn (the default) answers with warnings, Ignore says nothing.
 * Unknown fields are pruned from the object in every mode, as Kubernetes' decoder drops them.
 */
import { badRequest } from '../api/errors.ts';
import type { KubeObject, ResourceDef, Schema } from '../api/resource.ts';

function resolve(s: Schema | undefined, defs: Record<string, Schema>, depth = 0): Schema | undefined {
  if (!s || depth > 20) return s;
  if (s.$ref) return resolve(defs[s.$ref.slice(s.$ref.lastIndexOf('/') + 1)], defs, depth + 1);
  if (s.allOf?.length === 1 && !s.properties) return resolve(s.allOf[0], defs, depth + 1);
  return s;
}

/** Paths of fields the schema does not know, pruned from `value` in place. */
export function pruneUnknown(
  value: unknown,
  schema: Schema | undefined,
  defs: Record<string, Schema>,
  path: string,
  out: string[],
): void {
  const s = resolve(schema, defs);
  if (!s || value === null || typeof value !== 'object') return;
  if (s['x-kubernetes-preserve-unknown-fields'] || s['x-kubernetes-embedded-resource']) return;
  if (Array.isArray(value)) {
    if (s.items) {
      for (let i = 0; i < value.length; i++) pruneUnknown(value[i], s.items, defs, `${path}[${i}]`, out);
    }
    return;
  }
  const obj = value as Record<string, unknown>;
  if (s.properties) {
    for (const k of Object.keys(obj)) {
      const child = s.properties[k];
      const p = path ? `${path}.${k}` : k;
      if (child) pruneUnknown(obj[k], child, defs, p, out);
      else if (typeof s.additionalProperties === 'object')
        pruneUnknown(obj[k], s.additionalProperties, defs, p, out);
      else if (s.additionalProperties !== true) {
        out.push(p);
        delete obj[k];
      }
    }
  } else if (typeof s.additionalProperties === 'object') {
    for (const k of Object.keys(obj))
      pruneUnknown(obj[k], s.additionalProperties, defs, path ? `${path}.${k}` : k, out);
  }
}

/** Check `obj` per the request's fieldValidation; adds warnings or throws 400 under Strict. */
export function checkFields(
  def: ResourceDef,
  defs: Record<string, Schema>,
  obj: KubeObject,
  mode: string | null,
  warnings: string[],
): void {
  const schema = defs[def.schemaName];
  if (!schema) return;
  const unknown: string[] = [];
  pruneUnknown(obj, schema, defs, '', unknown);
  if (unknown.length === 0) return;
  const m = (mode ?? 'Warn').toLowerCase();
  if (m === 'strict') {
    throw badRequest(`strict decoding error: ${unknown.map((p) => `unknown field "${p}"`).join(', ')}`);
  }
  if (m === 'warn') for (const p of unknown) warnings.push(`unknown field "${p}"`);
}
