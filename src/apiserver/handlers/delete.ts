/**
 * DELETE: preconditions, finalizers, propagation policy and graceful pod deletion.
 *
 * - An object with finalizers (or one that gains `foregroundDeletion` / `orphan` from the
 *   propagation policy) is not removed: it gets a deletionTimestamp and stays until the
 *   controllers that own those finalizers clear them.
 * - A pod bound to a node gets a grace period (gracePeriodSeconds, else its
 *   terminationGracePeriodSeconds, else 30) and stays for its node agent; unbound pods and
 *   gracePeriodSeconds=0 go at once.
 */
import { badRequest, conflict, isReason, StatusError } from '../../api/errors.ts';
import type { KubeObject, ResourceDef } from '../../api/resource.ts';
import { afterDelete } from '../admission/index.ts';
import { type Ctx, readBody } from '../context.ts';
import { decodeBody } from '../negotiation.ts';
import { type Objects, qualifiedOf } from '../objects.ts';
import { listObjects } from './list.ts';
import { now } from './prepare.ts';

export interface DeleteOptions {
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export async function deleteOptionsOf(ctx: Ctx): Promise<DeleteOptions> {
  const raw = await readBody(ctx.req);
  let opts: DeleteOptions & { orphanDependents?: boolean; dryRun?: unknown } = {};
  if (raw.length) {
    const b = decodeBody(raw, ctx.req.headers['content-type'], ctx.parts.protobuf);
    if (b && typeof b === 'object' && !Array.isArray(b)) opts = b as typeof opts;
    else throw badRequest('the request body must be a DeleteOptions object');
  }
  const q = ctx.query;
  const policy =
    q.get('propagationPolicy') ??
    opts.propagationPolicy ??
    (opts.orphanDependents === true ? 'Orphan' : undefined);
  if (policy && !['Background', 'Foreground', 'Orphan'].includes(policy)) {
    throw badRequest(
      `propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`,
    );
  }
  const grace = q.get('gracePeriodSeconds') ?? opts.gracePeriodSeconds;
  return {
    propagationPolicy: policy as DeleteOptions['propagationPolicy'],
    gracePeriodSeconds: grace === undefined || grace === null ? undefined : Number(grace),
    preconditions: opts.preconditions,
    dryRun: ctx.dryRun || (Array.isArray(opts.dryRun) && opts.dryRun.includes('All')),
  };
}

export async function del(ctx: Ctx): Promise<void> {
  const opts = await deleteOptionsOf(ctx);
  const res = await deleteObject(ctx.parts.objects, ctx.def, ctx.namespace, ctx.info.name!, opts);
  if (res.deleted && !ctx.dryRun) await afterDelete(ctx.parts, ctx.def, res.deleted);
  if (res.obj) ctx.send(200, res.obj);
  else ctx.send(200, successStatus(ctx.def, res.deleted!));
}

function successStatus(def: ResourceDef, obj: KubeObject): KubeObject {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { name: obj.metadata?.name, group: def.group, kind: def.plural, uid: obj.metadata?.uid },
  };
}

/** `obj`: the object still there (terminating); `deleted`: the object as it was removed. */
export async function deleteObject(
  objects: Objects,
  def: ResourceDef,
  namespace: string | undefined,
  name: string,
  opts: DeleteOptions,
): Promise<{ obj?: KubeObject; deleted?: KubeObject }> {
  for (let attempt = 0; ; attempt++) {
    const cur = await objects.get(def, namespace, name);
    const obj = structuredClone(cur.obj);
    const m = obj.metadata!;
    const pre = opts.preconditions;
    if (pre?.uid && pre.uid !== m.uid) {
      throw conflict(
        qualifiedOf(def),
        name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${m.uid}`,
      );
    }
    if (pre?.resourceVersion && pre.resourceVersion !== m.resourceVersion) {
      throw conflict(
        qualifiedOf(def),
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${m.resourceVersion}`,
      );
    }
    const finalizers = new Set(m.finalizers ?? []);
    if (opts.propagationPolicy === 'Foreground') {
      finalizers.delete('orphan');
      finalizers.add('foregroundDeletion');
    } else if (opts.propagationPolicy === 'Orphan') {
      finalizers.delete('foregroundDeletion');
      finalizers.add('orphan');
    }
    const isNamespace = def.group === '' && def.plural === 'namespaces';
    if (isNamespace && ['default', 'kube-system', 'kube-public'].includes(name)) {
      throw new StatusError(
        'Forbidden',
        `namespaces "${name}" is forbidden: this namespace may not be deleted`,
        {
          name,
          kind: 'namespaces',
        },
      );
    }
    const isPod = def.group === '' && def.plural === 'pods';
    const bound = isPod && !!(obj.spec as { nodeName?: string } | undefined)?.nodeName;
    let grace = 0;
    if (bound && opts.gracePeriodSeconds !== 0) {
      grace =
        opts.gracePeriodSeconds ??
        (obj.spec as { terminationGracePeriodSeconds?: number }).terminationGracePeriodSeconds ??
        30;
      if (
        m.deletionTimestamp &&
        m.deletionGracePeriodSeconds !== undefined &&
        m.deletionGracePeriodSeconds <= grace
      ) {
        grace = m.deletionGracePeriodSeconds;
      }
    }
    try {
      if (isNamespace) {
        // The namespace controller empties it, then removes it.
        if (m.deletionTimestamp) return { obj: cur.obj };
        m.deletionTimestamp = now();
        m.deletionGracePeriodSeconds = 0;
        obj.status = { ...(obj.status as object), phase: 'Terminating' };
        if (finalizers.size) m.finalizers = [...finalizers];
        if (opts.dryRun) return { obj };
        return { obj: await objects.update(def, obj, cur.modRevision) };
      }
      if (finalizers.size > 0 || grace > 0) {
        const sameFinalizers = finalizers.size === (m.finalizers ?? []).length;
        if (m.deletionTimestamp && sameFinalizers && (m.deletionGracePeriodSeconds ?? 0) === grace)
          return { obj: cur.obj };
        m.finalizers = [...finalizers];
        if (m.finalizers.length === 0) delete m.finalizers;
        if (!m.deletionTimestamp || grace < (m.deletionGracePeriodSeconds ?? 0)) {
          m.deletionTimestamp = new Date(Date.now() + grace * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
        }
        m.deletionGracePeriodSeconds = grace;
        if (opts.dryRun) return { obj };
        return { obj: await objects.update(def, obj, cur.modRevision) };
      }
      if (opts.dryRun) return { deleted: cur.obj };
      return { deleted: await objects.delete(def, namespace, name, cur.modRevision) };
    } catch (e) {
      if (!isReason(e, 'Conflict') || attempt > 10) throw e;
    }
  }
}

export async function deleteCollection(ctx: Ctx): Promise<void> {
  const opts = await deleteOptionsOf(ctx);
  const list = (await listObjects(ctx)) as KubeObject;
  const items = list.items as KubeObject[];
  for (const o of items) {
    try {
      await deleteObject(ctx.parts.objects, ctx.def, o.metadata?.namespace, o.metadata!.name!, opts);
    } catch (e) {
      if (!isReason(e, 'NotFound')) throw e;
    }
  }
  ctx.send(200, list);
}
