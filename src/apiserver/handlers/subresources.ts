/**
 * Subresources beyond status: `scale` (autoscaling/v1 Scale over the def's replica paths),
 * `pods/binding` (sets spec.nodeName once) and `pods/eviction` (deletes the pod, for now).
 */
import { badRequest, conflict, StatusError } from '../../api/errors.ts';
import type { KubeObject, ScaleDef } from '../../api/resource.ts';
import { type Ctx, readBody } from '../context.ts';
import { decodeBody } from '../negotiation.ts';
import { qualifiedOf } from '../objects.ts';
import { deleteObject } from './delete.ts';
import { fallbackPatch } from './patch.ts';
import { checkKind, fieldManagement } from './prepare.ts';
import { updateObject } from './update.ts';

function at(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const p of path.split('.'))
    cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[p] : undefined;
  return cur;
}

function setAt(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let cur = obj;
  for (const p of parts.slice(0, -1)) {
    if (!cur[p] || typeof cur[p] !== 'object') cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[parts.at(-1)!] = value;
}

function selectorString(sel: unknown): string | undefined {
  if (typeof sel === 'string') return sel;
  const ml = (sel as { matchLabels?: Record<string, string> } | undefined)?.matchLabels;
  if (!ml) return undefined;
  return Object.entries(ml)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

export function toScale(s: ScaleDef, obj: KubeObject): KubeObject {
  const m = obj.metadata!;
  const sel = s.labelSelectorPath ? at(obj, s.labelSelectorPath) : at(obj, 'spec.selector');
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      creationTimestamp: m.creationTimestamp,
    },
    spec: { replicas: (at(obj, s.specReplicasPath) as number | undefined) ?? 0 },
    status: {
      replicas: (at(obj, s.statusReplicasPath) as number | undefined) ?? 0,
      selector: selectorString(sel),
    },
  };
}

export async function scale(ctx: Ctx, verb: 'get' | 'update' | 'patch'): Promise<void> {
  const s = ctx.def.subresources!.scale!;
  const { objects } = ctx.parts;
  const name = ctx.info.name!;
  const cur = await objects.get(ctx.def, ctx.namespace, name);
  if (verb === 'get') {
    ctx.send(200, toScale(s, cur.obj));
    return;
  }
  let next: KubeObject;
  if (verb === 'update') {
    next = await ctx.objectBody();
    checkKind(ctx, next, 'Scale', 'autoscaling/v1');
  } else {
    const type = (ctx.req.headers['content-type'] ?? '').split(';')[0].trim();
    const body = decodeBody(await readBody(ctx.req), type);
    const base = toScale(s, cur.obj);
    next =
      type === 'application/json-patch+json'
        ? fallbackPatch.jsonPatch(base, body)
        : fallbackPatch.mergePatch(base, body);
  }
  const replicas = (next.spec as { replicas?: unknown } | undefined)?.replicas;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
    throw new StatusError(
      'Invalid',
      `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
    );
  }
  const rv = next.metadata?.resourceVersion;
  if (rv && rv !== cur.obj.metadata?.resourceVersion) {
    throw conflict(
      qualifiedOf(ctx.def),
      name,
      'the object has been modified; please apply your changes to the latest version and try again',
    );
  }
  const obj = structuredClone(cur.obj);
  setAt(obj as Record<string, unknown>, s.specReplicasPath, replicas);
  const out = await updateObject(objects, ctx.def, obj, {
    base: cur,
    dryRun: ctx.dryRun,
    manage: fieldManagement(ctx, 'scale'),
  });
  ctx.send(200, toScale(s, out));
}

export async function binding(ctx: Ctx): Promise<void> {
  const b = await ctx.objectBody();
  const target = (b.target as { name?: string; kind?: string } | undefined)?.name;
  if (!target) throw new StatusError('Invalid', 'Binding "" is invalid: target.name: Required value');
  const name = ctx.info.name ?? b.metadata?.name;
  if (!name) throw badRequest('a binding needs the pod name');
  await ctx.parts.objects.guaranteedUpdate(ctx.def, ctx.namespace, name, (pod) => {
    pod.spec ??= {};
    const spec = pod.spec as { nodeName?: string };
    if (pod.metadata?.deletionTimestamp)
      throw conflict(qualifiedOf(ctx.def), name, 'pod is being deleted, cannot be assigned to a host');
    if (spec.nodeName)
      throw conflict(
        qualifiedOf(ctx.def),
        name,
        `pod ${name} is already assigned to node "${spec.nodeName}"`,
      );
    spec.nodeName = target;
    pod.status ??= {};
    const status = pod.status as { conditions?: Record<string, unknown>[] };
    const conds = (status.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
    conds.push({
      type: 'PodScheduled',
      status: 'True',
      lastProbeTime: null,
      lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    });
    status.conditions = conds;
    return pod;
  });
  ctx.send(201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
}

export async function eviction(ctx: Ctx): Promise<void> {
  const e = await ctx.objectBody();
  const opts = (e.deleteOptions ?? {}) as { gracePeriodSeconds?: number };
  await deleteObject(ctx.parts.objects, ctx.def, ctx.namespace, ctx.info.name!, {
    gracePeriodSeconds: opts.gracePeriodSeconds,
  });
  ctx.send(201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
}
