/**
 * A compact way to write OpenAPI v3 schemas for the built-in kinds.
 *
 *   obj('A port a container exposes.', {
 *     containerPort: int('Port number on the pod IP.'),
 *     protocol: str('TCP, UDP or SCTP.', { default: 'TCP' }),
 *   }, { required: ['containerPort'] })
 *
 * Named types are referenced with `ref('io.k8s.api.core.v1.Container')`. A reference that
 * carries a description is written as upstream's v3 documents do:
 * `{ allOf: [{ $ref }], description }`; `refName()` reads either form.
 */
import type { Schema } from '../resource.ts';

type Extra = Partial<Schema>;

const REF_PREFIX = '#/components/schemas/';

export function str(description: string, extra: Extra = {}): Schema {
  return { type: 'string', description, ...extra };
}

export function int(description: string, extra: Extra = {}): Schema {
  return { type: 'integer', format: 'int32', description, ...extra };
}

export function int64(description: string, extra: Extra = {}): Schema {
  return { type: 'integer', format: 'int64', description, ...extra };
}

export function num(description: string, extra: Extra = {}): Schema {
  return { type: 'number', format: 'double', description, ...extra };
}

export function bool(description: string, extra: Extra = {}): Schema {
  return { type: 'boolean', description, ...extra };
}

/** Base64 data, as Go's []byte is encoded in JSON. */
export function bytes(description: string, extra: Extra = {}): Schema {
  return { type: 'string', format: 'byte', description, ...extra };
}

/** A string-keyed map of `values` (labels, data, resource lists). */
export function map(values: Schema, description: string, extra: Extra = {}): Schema {
  return { type: 'object', additionalProperties: values, description, ...extra };
}

export function strMap(description: string, extra: Extra = {}): Schema {
  return map({ type: 'string', default: '' }, description, extra);
}

export interface ObjOptions {
  required?: string[];
  gvk?: { group: string; version: string; kind: string };
  extra?: Extra;
}

export function obj(description: string, properties: Record<string, Schema>, opts: ObjOptions = {}): Schema {
  const s: Schema = { type: 'object', description, properties };
  if (opts.required?.length) s.required = opts.required;
  if (opts.gvk) s['x-kubernetes-group-version-kind'] = [opts.gvk];
  return { ...s, ...opts.extra };
}

export interface ArrOptions {
  /** Strategic merge key and list-map key (containers merge on `name`). */
  mergeKey?: string;
  /** Extra list-map keys beyond the merge key (container ports: `containerPort`, `protocol`). */
  mapKeys?: string[];
  /** `set` for scalar lists merged as a set (finalizers), `atomic` to replace wholesale. */
  listType?: 'atomic' | 'set' | 'map';
  /** Patch strategy; defaults to `merge` when a merge key is given. */
  patchStrategy?: string;
}

export function arr(items: Schema, description: string, opts: ArrOptions = {}): Schema {
  const s: Schema = { type: 'array', description, items };
  if (opts.mergeKey) {
    s['x-kubernetes-list-type'] = opts.listType ?? 'map';
    s['x-kubernetes-list-map-keys'] = opts.mapKeys ?? [opts.mergeKey];
    s['x-kubernetes-patch-merge-key'] = opts.mergeKey;
    s['x-kubernetes-patch-strategy'] = opts.patchStrategy ?? 'merge';
  } else {
    if (opts.listType) s['x-kubernetes-list-type'] = opts.listType;
    if (opts.mapKeys) s['x-kubernetes-list-map-keys'] = opts.mapKeys;
    if (opts.patchStrategy) s['x-kubernetes-patch-strategy'] = opts.patchStrategy;
  }
  return s;
}

export function strArr(description: string, opts: ArrOptions = {}): Schema {
  return arr({ type: 'string', default: '' }, description, { listType: 'atomic', ...opts });
}

/** A reference to a named schema; with a description it is wrapped in `allOf` as upstream does. */
export function ref(name: string, description?: string, extra: Extra = {}): Schema {
  if (description === undefined) return { $ref: REF_PREFIX + name, ...extra };
  return { allOf: [{ $ref: REF_PREFIX + name }], description, ...extra };
}

/** The schema name a property refers to, in either `ref()` form. */
export function refName(s: Schema): string | undefined {
  const r = s.$ref ?? (s.allOf?.length === 1 ? s.allOf[0].$ref : undefined);
  return r?.startsWith(REF_PREFIX) ? r.slice(REF_PREFIX.length) : undefined;
}

// Names of the apimachinery types every kind uses.
export const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
export const OBJECT_META = `${META}ObjectMeta`;
export const LIST_META = `${META}ListMeta`;
export const TIME = `${META}Time`;
export const MICRO_TIME = `${META}MicroTime`;
export const LABEL_SELECTOR = `${META}LabelSelector`;
export const CONDITION = `${META}Condition`;
export const DURATION = `${META}Duration`;
export const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
export const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
export const RAW_EXTENSION = 'io.k8s.apimachinery.pkg.runtime.RawExtension';

export function time(description: string): Schema {
  return ref(TIME, description);
}

export function quantityMap(description: string): Schema {
  return map(ref(QUANTITY), description);
}

export function intOrString(description: string): Schema {
  return ref(INT_OR_STRING, description);
}

export function labelSelector(description: string): Schema {
  return ref(LABEL_SELECTOR, description);
}

/** `conditions` as Kubernetes declares them: a list map keyed by `type`. */
export function conditions(itemName: string, description = 'The latest observations of the state.'): Schema {
  return arr(ref(itemName), description, { mergeKey: 'type' });
}

/**
 * The standard top of a kind: apiVersion, kind, metadata, then its own fields, tagged with
 * its group-version-kind.
 */
export function kind(
  gvk: { group: string; version: string; kind: string },
  description: string,
  properties: Record<string, Schema>,
  required: string[] = [],
): Schema {
  return obj(
    description,
    {
      apiVersion: str(
        'The versioned schema of this object, such as `v1` or `apps/v1`; the server converts to its own version.',
      ),
      kind: str('The REST resource this object represents, in CamelCase, such as `Pod`.'),
      metadata: ref(OBJECT_META, "Standard object's metadata.", { default: {} }),
      ...properties,
    },
    { gvk, required },
  );
}

/**
 * A kind and its `<Kind>List`, named `<pkg><Kind>` and `<pkg><Kind>List`:
 *
 *   ...kindAndList('io.k8s.api.apps.v1.', { group: 'apps', version: 'v1', kind: 'Deployment' }, 'Runs pods.', props)
 */
export function kindAndList(
  pkg: string,
  gvk: { group: string; version: string; kind: string },
  description: string,
  properties: Record<string, Schema>,
  required: string[] = [],
): Record<string, Schema> {
  const name = pkg + gvk.kind;
  return {
    [name]: kind(gvk, description, properties, required),
    [`${name}List`]: listOf(gvk, name, `A list of ${gvk.kind} objects.`),
  };
}

/** The `<Kind>List` schema for a kind. */
export function listOf(
  gvk: { group: string; version: string; kind: string },
  itemName: string,
  description: string,
): Schema {
  return obj(
    description,
    {
      apiVersion: str('The versioned schema of this object.'),
      items: arr(ref(itemName), 'The objects in the list.'),
      kind: str('The REST resource this object represents, in CamelCase.'),
      metadata: ref(LIST_META, 'Standard list metadata.', { default: {} }),
    },
    { gvk: { ...gvk, kind: `${gvk.kind}List` }, required: ['items'] },
  );
}
