/**
 * The resource contract: what the API server must know about a kind to serve it.
 *
 * Each built-in kind (Pod, Deployment, ...) and each CRD version is one `ResourceDef`.
 * The API server is generic: it routes `/api/v1/namespaces/{ns}/pods` or
 * `/apis/apps/v1/namespaces/{ns}/deployments` to the def, and the def supplies the
 * behaviour that differs by kind: defaulting, validation, status/spec split, printing,
 * schema. Nothing here touches the store or HTTP.
 *
 * Vocabulary (Kubernetes' own): group ('' for core), version, kind (`Deployment`),
 * resource or plural (`deployments`), GVK / GVR, subresource (`status`, `scale`, `binding`).
 *
 * The schema is an OpenAPI v3 schema (the same shape a CRD's `openAPIV3Schema` has), with
 * Kubernetes' extensions. It drives, in one place: OpenAPI v2/v3 documents, `kubectl explain`,
 * unknown-field detection (fieldValidation=Strict/Warn), strategic merge patch
 * (`x-kubernetes-patch-merge-key` / `x-kubernetes-patch-strategy`) and server-side apply
 * (`x-kubernetes-list-type`, `x-kubernetes-list-map-keys`, `x-kubernetes-map-type`).
 */
import type { StatusCause } from './errors.ts';

/** A Kubernetes object as it travels: plain JSON. */
export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMetaLike;
  [field: string]: unknown;
};

export interface ObjectMetaLike {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: {
    apiVersion: string;
    kind: string;
    name: string;
    uid: string;
    controller?: boolean;
    blockOwnerDeletion?: boolean;
  }[];
  managedFields?: unknown[];
  [field: string]: unknown;
}

/** OpenAPI v3 schema with Kubernetes' extensions (a subset of JSONSchemaProps). */
export interface Schema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  format?: string;
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  additionalProperties?: Schema | boolean;
  enum?: unknown[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  nullable?: boolean;
  /** Reference to a named definition, `#/components/schemas/io.k8s.api.core.v1.PodSpec`. */
  $ref?: string;
  allOf?: Schema[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-patch-merge-key'?: string;
  'x-kubernetes-patch-strategy'?: string;
  'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string }[];
}

/** A server-side printing column, as in `meta.k8s.io/v1 Table`. */
export interface TableColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format?: string;
  description: string;
  /** 0 shows by default; higher priorities show with `-o wide`. */
  priority: number;
}

export interface TableDef {
  columns: TableColumn[];
  /** One cell per column, in order. `now` is passed so that ages are testable. */
  row(obj: KubeObject, now: Date): unknown[];
}

/** Where the scale subresource reads and writes (paths in JSON-pointer-free dotted form). */
export interface ScaleDef {
  specReplicasPath: string; // 'spec.replicas'
  statusReplicasPath: string; // 'status.replicas'
  labelSelectorPath?: string; // 'status.selector' (string form) or the def computes it
}

export interface ResourceDef {
  group: string;
  version: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  /** The verbs of discovery: get list watch create update patch delete deletecollection. */
  verbs: string[];
  /** `status` when the kind has a status subresource; `scale` where Kubernetes has one. */
  subresources?: { status?: boolean; scale?: ScaleDef; extra?: string[] };
  /** The name of this kind's schema among `definitions` (e.g. `io.k8s.api.apps.v1.Deployment`). */
  schemaName: string;
  /**
   * Fields whose value selects with fieldSelector beyond metadata.name/metadata.namespace,
   * e.g. pods: `spec.nodeName`, `status.phase`. Maps the selector key to a getter.
   */
  selectableFields?: Record<string, (obj: KubeObject) => string | undefined>;
  /** Fill defaults in place (after decoding, before validation), as Kubernetes' defaulters do. */
  defaults?(obj: KubeObject): void;
  /** Validate a new object. Field paths and messages as Kubernetes words them. */
  validate?(obj: KubeObject): StatusCause[];
  /** Validate an update against the old object: immutable fields, plus `validate`'s checks. */
  validateUpdate?(obj: KubeObject, old: KubeObject): StatusCause[];
  /**
   * True when writes to the main resource keep the old status and writes to /status keep
   * the old spec (true for every kind with a status subresource).
   */
  hasStatus?: boolean;
  /** Does a spec change bump metadata.generation? (true for kinds with spec) */
  tracksGeneration?: boolean;
  table?: TableDef;
  /**
   * A create-only kind the API server answers without storing it (SubjectAccessReview,
   * TokenReview, ...): `verbs` is `['create']`; a create validates the object, fills its
   * `status` and returns it. Nothing is kept, so there is nothing to get, list or watch.
   */
  virtual?: boolean;
}

/** Every kind Skiff serves, and the named schemas they refer to. */
export interface ResourceRegistry {
  all(): ResourceDef[];
  /** By group, version and plural (`apps`, `v1`, `deployments`). */
  byResource(group: string, version: string, plural: string): ResourceDef | undefined;
  /** By group, version and kind (`apps`, `v1`, `Deployment`). */
  byKind(group: string, version: string, kind: string): ResourceDef | undefined;
  /** Named OpenAPI schemas, keyed like `io.k8s.api.core.v1.PodSpec`. */
  definitions(): Record<string, Schema>;
}
