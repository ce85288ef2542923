/**
 * PATCH: JSON patch, merge patch, strategic merge patch and server-side apply, by Content-Type.
 * The patch algorithms come from src/apiserver/patch (ServerParts.patch); until it is wired in,
 * JSON and merge patch use the fallbacks below and strategic merge patch degrades to merge patch.
 */
import fastJsonPatch from 'fast-json-patch';
import { badRequest, isReason, StatusError } from '../../api/errors.ts';
import type { KubeObject } from '../../api/resource.ts';
import { type Ctx, type PatchEngine, readBody } from '../context.ts';
import { decodeBody } from '../negotiation.ts';
import { createObject } from './create.ts';
import { checkKind, checkNamespace, fieldManagement, fieldValidation, requireNamespace } from './prepare.ts';
import { updateObject } from './update.ts';

const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
  'application/apply-patch+json',
];

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    target && typeof target === 'object' && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export const fallbackPatch: PatchEngine = {
  jsonPatch(obj, patch) {
    if (!Array.isArray(patch)) throw badRequest('json patch must be an array of operations');
    try {
      return fastJsonPatch.applyPatch(structuredClone(obj), patch as fastJsonPatch.Operation[], true, false)
        .newDocument;
    } catch (e) {
      throw new StatusError(
        'Invalid',
        `the server rejected our request due to an error in our request: ${(e as Error).message.split('\n')[0]}`,
      );
    }
  },
  mergePatch: (obj, patch) => mergePatch(obj, patch) as KubeObject,
  strategicMergePatch: (obj, patch) => mergePatch(obj, stripDirectives(patch)) as KubeObject,
};

function stripDirectives(p: unknown): unknown {
  if (Array.isArray(p)) return p.map(stripDirectives);
  if (!p || typeof p !== 'object') return p;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p))
    if (!k.startsWith('$') && !k.startsWith('$setElementOrder')) out[k] = stripDirectives(v);
  return out;
}

export async function patch(ctx: Ctx): Promise<void> {
  const type = (ctx.req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (!PATCH_TYPES.includes(type)) {
    throw new StatusError(
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(', ')}`,
    );
  }
  const raw = await readBody(ctx.req);
  if (raw.length === 0) throw badRequest('the request body is empty');
  const body = decodeBody(raw, type);
  const engine = ctx.parts.patch ?? fallbackPatch;
  const { objects, registry } = ctx.parts;
  const name = ctx.info.name!;
  const isApply = type.startsWith('application/apply-patch');
  if (isApply && (!body || typeof body !== 'object' || Array.isArray(body)))
    throw badRequest('apply patch must be an object');
  await requireNamespace(ctx, false);
  for (let attempt = 0; ; attempt++) {
    let cur: Awaited<ReturnType<typeof objects.get>> | undefined;
    try {
      cur = await objects.get(ctx.def, ctx.namespace, name);
    } catch (e) {
      if (!(isApply && isReason(e, 'NotFound'))) throw e;
    }
    let next: KubeObject;
    if (isApply) {
      const config = structuredClone(body) as KubeObject;
      checkKind(ctx, config);
      checkNamespace(ctx, config);
      if (config.metadata?.name !== name) {
        throw badRequest(
          `the name of the object (${config.metadata?.name ?? ''}) does not match the name on the URL (${name})`,
        );
      }
      const manager = ctx.query.get('fieldManager');
      if (!manager) throw badRequest('PATCH requests with apply content type must set fieldManager');
      const force = ctx.query.get('force') === 'true';
      next = engine.apply
        ? engine.apply(cur?.obj, config, { manager, force, def: ctx.def, registry })
        : (mergePatch(cur?.obj ?? {}, config) as KubeObject);
      if (!cur) {
        fieldValidation(ctx, next);
        await requireNamespace(ctx, true);
        ctx.send(201, await createObject(objects, ctx.def, next, ctx.dryRun));
        return;
      }
    } else {
      const old = cur!.obj;
      if (type === 'application/json-patch+json') next = engine.jsonPatch(old, body);
      else if (type === 'application/merge-patch+json') next = engine.mergePatch(old, body);
      else next = engine.strategicMergePatch(old, body, ctx.def, registry);
      if (!next || typeof next !== 'object' || Array.isArray(next))
        throw badRequest('the patch did not produce an object');
      checkKind(ctx, next);
    }
    next.metadata ??= {};
    next.metadata.name = name;
    checkNamespace(ctx, next);
    fieldValidation(ctx, next);
    try {
      const out = await updateObject(objects, ctx.def, next, {
        subresource: ctx.info.subresource,
        dryRun: ctx.dryRun,
        base: cur,
        manage: isApply ? undefined : fieldManagement(ctx),
      });
      ctx.send(200, out);
      return;
    } catch (e) {
      // A patch without a resourceVersion of its own retries on a concurrent write.
      const pinned = (body as KubeObject)?.metadata?.resourceVersion;
      if (!isReason(e, 'Conflict') || pinned || attempt > 10) throw e;
    }
  }
}
