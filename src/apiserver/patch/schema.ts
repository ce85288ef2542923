/**
 * SchemaContext: a kind's OpenAPI schema together with the named definitions it refers to,
 * so that patching code can walk a schema without caring how it is split into `$ref`s.
 *
 *   const ctx = SchemaContext.fromRegistry(registry, def);   // or new SchemaContext(defs, 'io.k8s.api.apps.v1.Deployment')
 *   ctx.root                                 // the resolved root schema
 *   ctx.field(ctx.root, 'spec')              // resolved schema of `.spec`, or undefined
 *   ctx.items(ctx.field(spec, 'containers')) // resolved schema of one container
 *
 * Resolving follows `$ref: '#/components/schemas/<name>'` and the single-element
 * `allOf: [{$ref}]` wrapper upstream uses for documented references; the wrapper's own
 * keywords (description, default, x-kubernetes-*) win over the target's. An undefined schema
 * means "unknown": callers then deduce behaviour from the value (objects merge, lists replace).
 */
import type { ResourceDef, ResourceRegistry, Schema } from '../../api/resource.ts';

const REF_PREFIX = '#/components/schemas/';

export class SchemaContext {
  readonly definitions: Record<string, Schema>;
  readonly root: Schema | undefined;
  #strategic: boolean | undefined;
  #cache = new WeakMap<Schema, Schema>();

  /**
   * @param root the kind's schema or its name among `definitions`; undefined for a kind with no schema.
   * @param opts.strategic whether strategic merge patch applies (built-in kinds); detected when omitted.
   */
  constructor(
    definitions: Record<string, Schema>,
    root: string | Schema | undefined,
    opts: { strategic?: boolean } = {},
  ) {
    this.definitions = definitions;
    const s = typeof root === 'string' ? definitions[root] : root;
    this.root = s ? this.resolve(s) : undefined;
    this.#strategic = opts.strategic;
  }

  static fromRegistry(registry: ResourceRegistry, def: ResourceDef): SchemaContext {
    return new SchemaContext(registry.definitions(), def.schemaName);
  }

  /** A context with no schema at all: everything is deduced from values. */
  static untyped(): SchemaContext {
    return new SchemaContext({}, undefined, { strategic: false });
  }

  /** Follow references until a schema with content; undefined stays undefined. */
  resolve(s: Schema | undefined): Schema | undefined {
    if (!s) return undefined;
    const hit = this.#cache.get(s);
    if (hit) return hit;
    let out = s;
    for (let depth = 0; depth < 32; depth++) {
      const ref = out.$ref ?? (out.allOf?.length === 1 && !out.properties ? out.allOf[0].$ref : undefined);
      if (!ref) break;
      const target = ref.startsWith(REF_PREFIX) ? this.definitions[ref.slice(REF_PREFIX.length)] : undefined;
      const { $ref: _r, allOf: _a, ...own } = out;
      out = target ? { ...target, ...own } : own;
    }
    this.#cache.set(s, out);
    return out;
  }

  /** The schema of property `name` of an object schema (declared, else additionalProperties). */
  field(s: Schema | undefined, name: string): Schema | undefined {
    const r = this.resolve(s);
    if (!r) return undefined;
    const p = r.properties?.[name];
    if (p) return this.resolve(p);
    if (typeof r.additionalProperties === 'object') return this.resolve(r.additionalProperties);
    return undefined;
  }

  /** Is `name` a declared property (a struct field) rather than an entry of a map? */
  isDeclared(s: Schema | undefined, name: string): boolean {
    return this.resolve(s)?.properties?.[name] !== undefined;
  }

  /** The schema of one element of an array schema. */
  items(s: Schema | undefined): Schema | undefined {
    return this.resolve(this.resolve(s)?.items);
  }

  /**
   * Does strategic merge patch apply to this kind? Kubernetes serves it for built-in kinds
   * only; we recognise them by the patch extensions their schemas carry (every built-in kind
   * reaches ObjectMeta's `finalizers`/`ownerReferences`), unless told explicitly.
   */
  get strategic(): boolean {
    if (this.#strategic === undefined) this.#strategic = this.#hasPatchExtensions();
    return this.#strategic;
  }

  #hasPatchExtensions(): boolean {
    const seen = new Set<Schema>();
    const stack: (Schema | undefined)[] = [this.root];
    while (stack.length > 0) {
      const s = this.resolve(stack.pop());
      if (!s || seen.has(s)) continue;
      seen.add(s);
      if (s['x-kubernetes-patch-strategy'] || s['x-kubernetes-patch-merge-key']) return true;
      if (s.properties) stack.push(...Object.values(s.properties));
      if (s.items) stack.push(s.items);
      if (typeof s.additionalProperties === 'object') stack.push(s.additionalProperties);
    }
    return false;
  }
}

/** How server-side apply treats a list, from its schema (see `listTypeOf`). */
export type ListType = { type: 'atomic' } | { type: 'set' } | { type: 'map'; keys: string[] };

/**
 * The list type server-side apply uses: `x-kubernetes-list-type` when present; otherwise, as
 * Kubernetes does for built-in lists, a patch-merge-key list is a map keyed by that key, a
 * merge-strategy list of scalars is a set, and anything else is atomic.
 */
export function listTypeOf(s: Schema | undefined): ListType {
  const t = s?.['x-kubernetes-list-type'];
  if (t === 'map') {
    const keys =
      s?.['x-kubernetes-list-map-keys'] ??
      (s?.['x-kubernetes-patch-merge-key'] ? [s['x-kubernetes-patch-merge-key']] : []);
    return { type: 'map', keys };
  }
  if (t === 'set' || t === 'atomic') return { type: t };
  const key = s?.['x-kubernetes-patch-merge-key'];
  if (key) return { type: 'map', keys: [key] };
  if (s?.['x-kubernetes-patch-strategy']?.split(',').includes('merge')) return { type: 'set' };
  return { type: 'atomic' };
}

/** Is this object schema atomic for server-side apply (`x-kubernetes-map-type: atomic`)? */
export function isAtomicMap(s: Schema | undefined): boolean {
  return s?.['x-kubernetes-map-type'] === 'atomic';
}
