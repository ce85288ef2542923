/**
 * `defineKind` turns a short description of a kind into a full `ResourceDef`: it derives the
 * schema name, list kind and singular, and wraps the kind's own checks with the metadata
 * checks every kind shares (name rule, namespace, labels, annotations, immutable identity).
 */
import type { StatusCause } from '../errors.ts';
import type { KubeObject, ResourceDef, ScaleDef, TableDef } from '../resource.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from '../validation/meta.ts';
import { isDNS1123Subdomain, type NameValidator } from '../validation/names.ts';

export const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** Schema names use the Go package path: `io.k8s.api.<group prefix>.<version>.<Kind>`. */
const SCHEMA_PACKAGES: Record<string, string> = {
  '': 'io.k8s.api.core',
  apps: 'io.k8s.api.apps',
  batch: 'io.k8s.api.batch',
  'events.k8s.io': 'io.k8s.api.events',
  'coordination.k8s.io': 'io.k8s.api.coordination',
  'discovery.k8s.io': 'io.k8s.api.discovery',
  'storage.k8s.io': 'io.k8s.api.storage',
  'scheduling.k8s.io': 'io.k8s.api.scheduling',
  policy: 'io.k8s.api.policy',
  'rbac.authorization.k8s.io': 'io.k8s.api.rbac',
  'apiextensions.k8s.io': 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions',
  'networking.k8s.io': 'io.k8s.api.networking',
  autoscaling: 'io.k8s.api.autoscaling',
  'authentication.k8s.io': 'io.k8s.api.authentication',
  'authorization.k8s.io': 'io.k8s.api.authorization',
  // Upstream ships the snapshot kinds as CRDs, whose schemas are named by the reversed group.
  'snapshot.storage.k8s.io': 'io.k8s.storage.snapshot',
};

export function schemaPackage(group: string, version: string): string {
  const pkg = SCHEMA_PACKAGES[group];
  if (!pkg) throw new Error(`no schema package for group ${group}`);
  return `${pkg}.${version}`;
}

export interface KindSpec {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  verbs?: string[];
  status?: boolean;
  scale?: ScaleDef;
  extraSubresources?: string[];
  /** Rule for metadata.name; DNS-1123 subdomain unless said otherwise. */
  name?: NameValidator;
  /** Bump metadata.generation on spec changes (the workload kinds). */
  tracksGeneration?: boolean;
  selectableFields?: Record<string, (obj: KubeObject) => string | undefined>;
  defaults?(obj: KubeObject): void;
  /** The kind's own checks of a new object (metadata is checked already). */
  validate?(obj: KubeObject): StatusCause[];
  /** The kind's own checks of an update (immutable fields); `validate` runs as well. */
  validateUpdate?(obj: KubeObject, old: KubeObject): StatusCause[];
  table?: TableDef;
  /**
   * A create-only kind answered without storing (access and token reviews): verbs are
   * `['create']` and the object has no name, so the metadata checks do not apply.
   */
  virtual?: boolean;
}

export function defineKind(k: KindSpec): ResourceDef {
  const nameRule = k.name ?? isDNS1123Subdomain;
  const rules = { namespaced: k.namespaced, name: nameRule };
  const validate = (obj: KubeObject) => [
    ...(k.virtual ? [] : validateObjectMeta(obj, rules)),
    ...(k.validate?.(obj) ?? []),
  ];
  const subresources: ResourceDef['subresources'] = {};
  if (k.status) subresources.status = true;
  if (k.scale) subresources.scale = k.scale;
  if (k.extraSubresources?.length) subresources.extra = k.extraSubresources;
  const def: ResourceDef = {
    group: k.group,
    version: k.version,
    kind: k.kind,
    listKind: `${k.kind}List`,
    plural: k.plural,
    singular: k.kind.toLowerCase(),
    namespaced: k.namespaced,
    verbs: k.verbs ?? (k.virtual ? ['create'] : ALL_VERBS),
    subresources,
    schemaName: `${schemaPackage(k.group, k.version)}.${k.kind}`,
    validate,
    validateUpdate: (obj, old) => [
      ...validateObjectMetaUpdate(obj, old),
      ...validate(obj),
      ...(k.validateUpdate?.(obj, old) ?? []),
    ],
    hasStatus: k.status ?? false,
    tracksGeneration: k.tracksGeneration ?? false,
  };
  if (k.shortNames) def.shortNames = k.shortNames;
  if (k.categories) def.categories = k.categories;
  if (k.selectableFields) def.selectableFields = k.selectableFields;
  if (k.defaults) def.defaults = k.defaults;
  if (k.table) def.table = k.table;
  if (k.virtual) def.virtual = true;
  return def;
}

/**
 * A getter for a dotted path, for selectable fields: `field('spec.nodeName')`. A missing value
 * reads as `fallback` ('' by default), as Kubernetes' field sets do, so `spec.nodeName=` finds
 * unbound pods.
 */
export function field(path: string, fallback = ''): (obj: KubeObject) => string | undefined {
  const parts = path.split('.');
  return (obj) => {
    let v: unknown = obj;
    for (const p of parts) {
      if (v === null || typeof v !== 'object') return fallback;
      v = (v as Record<string, unknown>)[p];
    }
    if (v === undefined || v === null) return fallback;
    return String(v);
  };
}
