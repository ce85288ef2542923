/**
 * OpenAPI v3 (`/openapi/v3`, `/openapi/v3/apis/{g}/{v}`) and v2 (`/openapi/v2`) documents
 * generated from the registry's schemas. kubectl uses them for `explain`, for apply's patch
 * metadata, and to learn that the server validates fields (`fieldValidation` on PATCH).
 */
import { createHash } from 'node:crypto';
import type { ResourceDef, ResourceRegistry, Schema } from '../api/resource.ts';
import { groupsOf } from './discovery.ts';

const QUERY = (name: string, type = 'string') => ({ name, in: 'query', schema: { type }, description: name });

function gvkExt(d: ResourceDef, kind = d.kind) {
  return [{ group: d.group, version: d.version, kind }];
}

function op(d: ResourceDef, action: string, params: object[], kind = d.kind) {
  return {
    operationId: `${action}${d.kind}`,
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvkExt(d, kind)[0],
    parameters: params,
    responses: {
      '200': {
        description: 'OK',
        content: { 'application/json': { schema: { $ref: `#/components/schemas/${d.schemaName}` } } },
      },
    },
  };
}

function paths(defs: ResourceDef[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const write = [QUERY('dryRun'), QUERY('fieldManager'), QUERY('fieldValidation')];
  for (const d of defs) {
    const base = d.group ? `/apis/${d.group}/${d.version}` : `/api/${d.version}`;
    const coll = d.namespaced ? `${base}/namespaces/{namespace}/${d.plural}` : `${base}/${d.plural}`;
    const listParams = [
      QUERY('labelSelector'),
      QUERY('fieldSelector'),
      QUERY('limit', 'integer'),
      QUERY('continue'),
      QUERY('resourceVersion'),
      QUERY('watch', 'boolean'),
    ];
    out[coll] = {
      get: op(d, 'list', listParams, d.listKind),
      post: op(d, 'post', write),
      delete: op(d, 'deletecollection', listParams),
    };
    out[`${coll}/{name}`] = {
      get: op(d, 'get', []),
      put: op(d, 'put', write),
      patch: op(d, 'patch', [...write, QUERY('force', 'boolean')]),
      delete: op(d, 'delete', [
        QUERY('dryRun'),
        QUERY('gracePeriodSeconds', 'integer'),
        QUERY('propagationPolicy'),
      ]),
    };
  }
  return out;
}

function rewriteRefs(s: unknown, to: string): unknown {
  if (Array.isArray(s)) return s.map((x) => rewriteRefs(x, to));
  if (!s || typeof s !== 'object') return s;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    out[k] =
      k === '$ref' && typeof v === 'string' ? to + v.slice(v.lastIndexOf('/') + 1) : rewriteRefs(v, to);
  }
  return out;
}

/** Every named schema, with each kind's schema tagged with its group-version-kinds. */
function schemas(registry: ResourceRegistry, refPrefix: string): Record<string, Schema> {
  const defs = registry.definitions();
  const out: Record<string, Schema> = {};
  for (const [name, s] of Object.entries(defs)) out[name] = rewriteRefs(s, refPrefix) as Schema;
  for (const d of registry.all()) {
    const s = out[d.schemaName];
    if (!s) continue;
    const gvks = [...(s['x-kubernetes-group-version-kind'] ?? [])];
    if (!gvks.some((g) => g.group === d.group && g.version === d.version && g.kind === d.kind))
      gvks.push(gvkExt(d)[0]);
    out[d.schemaName] = { ...s, 'x-kubernetes-group-version-kind': gvks };
  }
  return out;
}

export class OpenApi {
  readonly #registry: ResourceRegistry;
  #v3 = new Map<string, string>();
  #v2?: string;

  constructor(registry: ResourceRegistry) {
    this.#registry = registry;
  }

  #gvPath(group: string, version: string): string {
    return group ? `apis/${group}/${version}` : `api/${version}`;
  }

  /** The v3 document for `api/v1` or `apis/{g}/{v}`, serialized; undefined when unknown. */
  v3(path: string): string | undefined {
    const cached = this.#v3.get(path);
    if (cached) return cached;
    const defs = this.#registry.all().filter((d) => this.#gvPath(d.group, d.version) === path);
    if (defs.length === 0) return undefined;
    const doc = {
      openapi: '3.0.0',
      info: { title: 'Kubernetes', version: 'v1.32.0' },
      paths: paths(defs),
      components: { schemas: schemas(this.#registry, '#/components/schemas/') },
    };
    const text = JSON.stringify(doc);
    this.#v3.set(path, text);
    return text;
  }

  v3Index(): object {
    const paths: Record<string, { serverRelativeURL: string }> = {};
    for (const g of groupsOf(this.#registry)) {
      for (const v of g.versions) {
        const p = this.#gvPath(g.group, v);
        const hash = createHash('sha512')
          .update(this.v3(p) ?? '')
          .digest('hex')
          .slice(0, 64)
          .toUpperCase();
        paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${hash}` };
      }
    }
    return { paths };
  }

  v2(): string {
    if (this.#v2) return this.#v2;
    const defs = this.#registry.all();
    const p = paths(defs) as Record<
      string,
      Record<string, { parameters: { schema?: object; type?: string }[] }>
    >;
    // v2 parameters carry their type inline.
    for (const item of Object.values(p)) {
      for (const o of Object.values(item)) {
        o.parameters = o.parameters.map(({ schema, ...rest }) => ({
          ...rest,
          type: (schema as { type?: string })?.type ?? 'string',
        }));
      }
    }
    this.#v2 = JSON.stringify({
      swagger: '2.0',
      info: { title: 'Kubernetes', version: 'v1.32.0' },
      paths: rewriteRefs(p, '#/definitions/'),
      definitions: schemas(this.#registry, '#/definitions/'),
    });
    return this.#v2;
  }
}
