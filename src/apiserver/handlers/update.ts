/** PUT: replace an object, optionally conditional on its resourceVersion; /status writes only status. */
import { badRequest, conflict, notFound } from '../../api/errors.ts';
import type { KubeObject, ResourceDef } from '../../api/resource.ts';
import { admitUpdate } from '../admission/index.ts';
import type { Ctx, ManageFields } from '../context.ts';
import { MODIFIED_MESSAGE, type Objects, qualifiedOf } from '../objects.ts';
import {
  bumpGeneration,
  checkKind,
  checkNamespace,
  defaultAndValidate,
  fieldManagement,
  fieldValidation,
  keepServerMetadata,
  requireNamespace,
  unchanged,
} from './prepare.ts';

export async function update(ctx: Ctx): Promise<void> {
  const obj = await ctx.objectBody();
  checkKind(ctx, obj);
  checkNamespace(ctx, obj);
  const name = ctx.info.name!;
  if (obj.metadata?.name !== undefined && obj.metadata.name !== name) {
    throw badRequest(
      `the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`,
    );
  }
  obj.metadata!.name = name;
  fieldValidation(ctx, obj);
  await requireNamespace(ctx, false);
  const out = await updateObject(ctx.parts.objects, ctx.def, obj, {
    subresource: ctx.info.subresource,
    dryRun: ctx.dryRun,
    manage: fieldManagement(ctx),
    admit: (old, next) => admitUpdate(ctx.parts, ctx.def, old, next),
  });
  ctx.send(200, out);
}

export interface UpdateOptions {
  subresource?: string;
  dryRun?: boolean;
  /** Stored version the change was computed from (patch); defaults to the current one. */
  base?: { obj: KubeObject; modRevision: number };
  /** Records the write's managedFields (after the no-op check: a write that changes nothing stays one). */
  manage?: ManageFields;
  /** Update admission (a Service keeping its cluster IP), before defaulting and validation. */
  admit?: (old: KubeObject, next: KubeObject) => Promise<void>;
}

/**
 * The update path shared by PUT, PATCH and apply: resourceVersion precondition, spec/status
 * split, server-owned metadata, generation, validation, no-op detection, and deletion once
 * the last finalizer of a deleting object is gone.
 */
export async function updateObject(
  objects: Objects,
  def: ResourceDef,
  obj: KubeObject,
  opts: UpdateOptions,
): Promise<KubeObject> {
  const name = obj.metadata!.name!;
  const ns = def.namespaced ? obj.metadata!.namespace : undefined;
  const cur = opts.base ?? (await objects.get(def, ns, name));
  const old = cur.obj;
  const want = obj.metadata?.resourceVersion;
  if (want && want !== old.metadata?.resourceVersion)
    throw conflict(qualifiedOf(def), name, MODIFIED_MESSAGE);
  if (def.hasStatus || opts.subresource === 'status') {
    if (opts.subresource === 'status') {
      const status = obj.status;
      obj = structuredClone(old);
      if (status === undefined) delete obj.status;
      else obj.status = status;
    } else if (old.status === undefined) delete obj.status;
    else obj.status = old.status;
  }
  keepServerMetadata(obj, old);
  bumpGeneration(def, obj, old);
  if (opts.subresource !== 'status' && opts.admit && !opts.dryRun) await opts.admit(old, obj);
  if (opts.subresource !== 'status') defaultAndValidate(def, obj, old);
  obj.metadata!.resourceVersion = old.metadata?.resourceVersion;
  if (unchanged(obj, old)) return old;
  if (opts.manage) {
    obj = opts.manage(old, obj);
    obj.metadata!.resourceVersion = old.metadata?.resourceVersion;
  }
  if (opts.dryRun) return obj;
  if (
    obj.metadata?.deletionTimestamp &&
    !(obj.metadata.finalizers ?? []).length &&
    !isGracefulPod(def, obj)
  ) {
    return objects.delete(def, ns, name, cur.modRevision).catch((e) => {
      if (e?.reason === 'NotFound') throw notFound(qualifiedOf(def), name);
      throw e;
    });
  }
  return objects.update(def, obj, cur.modRevision);
}

/** A bound pod in its grace period stays until its node (or a grace-0 delete) removes it. */
function isGracefulPod(def: ResourceDef, obj: KubeObject): boolean {
  return def.group === '' && def.plural === 'pods' && (obj.metadata?.deletionGracePeriodSeconds ?? 0) > 0;
}
