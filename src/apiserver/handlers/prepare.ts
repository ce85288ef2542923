/**
 * Checks shared by the write verbs: the body names the kind the URL names, the name is valid,
 * the namespace exists and is not terminating, the def's defaulting and validation pass.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { badRequest, invalid, isReason, notFound, type StatusCause, StatusError } from '../../api/errors.ts';
import type { KubeObject, ResourceDef } from '../../api/resource.ts';
import type { Ctx, ManageFields } from '../context.ts';
import { checkFields } from '../fields.ts';
import { fieldManagerFor } from '../patch/index.ts';

export function apiVersionOf(def: ResourceDef): string {
  return def.group ? `${def.group}/${def.version}` : def.version;
}

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function nameCauses(
  def: ResourceDef,
  name: string | undefined,
  field = 'metadata.name',
): StatusCause[] {
  if (!name)
    return [
      { reason: 'FieldValueRequired', field, message: 'Required value: name or generateName is required' },
    ];
  const dnsLabel = def.plural === 'namespaces' || def.plural === 'services';
  if (dnsLabel ? !LABEL.test(name) || name.length > 63 : !SUBDOMAIN.test(name) || name.length > 253) {
    const what = dnsLabel ? 'a lowercase RFC 1123 label' : 'a lowercase RFC 1123 subdomain';
    const chars = dnsLabel
      ? "lower case alphanumeric characters or '-'"
      : "lower case alphanumeric characters, '-' or '.'";
    return [
      {
        reason: 'FieldValueInvalid',
        field,
        message: `Invalid value: ${JSON.stringify(name)}: ${what} must consist of ${chars}, and must start and end with an alphanumeric character`,
      },
    ];
  }
  return [];
}

/** The body is an object of this kind: apiVersion and kind match the URL (filled in when absent). */
export function checkKind(
  ctx: Ctx,
  obj: KubeObject,
  kind = ctx.def.kind,
  apiVersion = apiVersionOf(ctx.def),
): void {
  if (obj.apiVersion === undefined && obj.kind === undefined) {
    obj.apiVersion = apiVersion;
    obj.kind = kind;
    return;
  }
  if (obj.kind !== kind || obj.apiVersion !== apiVersion) {
    throw badRequest(
      `the API version in the data (${obj.apiVersion ?? ''}) does not match the expected API version (${apiVersion}) or the kind in the data (${obj.kind ?? ''}) does not match the expected kind (${kind})`,
    );
  }
  if (
    obj.metadata !== undefined &&
    (typeof obj.metadata !== 'object' || obj.metadata === null || Array.isArray(obj.metadata))
  ) {
    throw badRequest('metadata must be an object');
  }
}

/** Fill in and check the object's namespace against the URL's. */
export function checkNamespace(ctx: Ctx, obj: KubeObject): void {
  obj.metadata ??= {};
  if (!ctx.def.namespaced) {
    delete obj.metadata.namespace;
    return;
  }
  const ns = ctx.info.namespace;
  if (!ns) throw badRequest('the namespace of the object must be specified in the request URL');
  if (obj.metadata.namespace && obj.metadata.namespace !== ns) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  obj.metadata.namespace = ns;
}

/** Namespaced writes need a namespace that exists and (for creates) is not being deleted. */
export async function requireNamespace(ctx: Ctx, forCreate: boolean): Promise<void> {
  if (!ctx.def.namespaced) return;
  const nsDef = ctx.parts.registry.byResource('', 'v1', 'namespaces');
  if (!nsDef) return;
  const ns = ctx.info.namespace!;
  try {
    // The cache as it is answers for a namespace that exists (as Kubernetes' lifecycle admission
    // reads an informer); only a miss pays for a consistent read.
    const { objects } = ctx.parts;
    const hit =
      (await objects.getJson(nsDef, undefined, ns, 'any')) ?? (await objects.getJson(nsDef, undefined, ns));
    if (!hit) throw notFound({ kind: 'namespaces' }, ns);
    const obj = JSON.parse(hit.json) as KubeObject;
    if (
      forCreate &&
      (obj.metadata?.deletionTimestamp || (obj.status as { phase?: string })?.phase === 'Terminating')
    ) {
      throw new StatusError(
        'Forbidden',
        `${ctx.def.plural} "${ctx.info.name ?? ''}" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`,
        {
          name: ctx.info.name,
          group: ctx.def.group,
          kind: ctx.def.plural,
        },
      );
    }
  } catch (e) {
    if (isReason(e, 'NotFound')) throw notFound({ kind: 'namespaces' }, ns);
    throw e;
  }
}

export function fieldValidation(ctx: Ctx, obj: KubeObject): void {
  checkFields(ctx.def, ctx.parts.registry.definitions(), obj, ctx.query.get('fieldValidation'), ctx.warnings);
}

/** Defaulting then validation (create or update); 422 with the def's causes. */
export function defaultAndValidate(def: ResourceDef, obj: KubeObject, old?: KubeObject): void {
  def.defaults?.(obj);
  const causes = old && def.validateUpdate ? def.validateUpdate(obj, old) : (def.validate?.(obj) ?? []);
  if (causes.length) throw invalid(def.group, def.kind, obj.metadata?.name ?? '', causes);
}

/** The managedFields recorder for this request's write, when the patch engine records them. */
export function fieldManagement(ctx: Ctx, subresource = ctx.info.subresource): ManageFields | undefined {
  const engine = ctx.parts.patch;
  if (!engine?.recordUpdate) return undefined;
  const manager = fieldManagerFor(ctx.query.get('fieldManager'), ctx.req.headers['user-agent']);
  const { def } = ctx;
  const { registry } = ctx.parts;
  return (old, updated) => engine.recordUpdate!(old, updated, { manager, def, registry, subresource });
}

export function generateName(prefix: string): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  const bytes = randomBytes(5);
  let s = '';
  for (const b of bytes) s += alphabet[b % alphabet.length];
  return prefix.slice(0, 58) + s;
}

export function newUid(): string {
  return randomUUID();
}

export function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

/** Metadata the server owns: copied from the stored object on every update. */
export function keepServerMetadata(obj: KubeObject, old: KubeObject): void {
  const m = obj.metadata!;
  const o = old.metadata!;
  m.uid = o.uid;
  m.creationTimestamp = o.creationTimestamp;
  m.name = o.name;
  if (o.namespace) m.namespace = o.namespace;
  else delete m.namespace;
  if (o.deletionTimestamp) m.deletionTimestamp = o.deletionTimestamp;
  else delete m.deletionTimestamp;
  if (o.deletionGracePeriodSeconds !== undefined) m.deletionGracePeriodSeconds = o.deletionGracePeriodSeconds;
  else delete m.deletionGracePeriodSeconds;
  if (o.generation !== undefined) m.generation = o.generation;
  if (o.generateName !== undefined && m.generateName === undefined) m.generateName = o.generateName;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** Bump generation when anything but metadata and status changed. */
export function bumpGeneration(def: ResourceDef, obj: KubeObject, old: KubeObject): void {
  if (def.tracksGeneration === false) return;
  const strip = (o: KubeObject) => {
    const { metadata: _m, status: _s, ...rest } = o;
    return rest;
  };
  const changed = !sameJson(strip(obj), strip(old));
  const g = (old.metadata?.generation as number | undefined) ?? 1;
  obj.metadata!.generation = changed ? g + 1 : g;
}

/** True when an update changes nothing (resourceVersion aside): Kubernetes skips such writes. */
export function unchanged(obj: KubeObject, old: KubeObject): boolean {
  const a = { ...obj, metadata: { ...obj.metadata, resourceVersion: undefined } };
  const b = { ...old, metadata: { ...old.metadata, resourceVersion: undefined } };
  return sameJson(a, b);
}
