/**
 * GET one object (or its status subresource, which is the object itself). Without a
 * resourceVersion the read is consistent (the watch cache first catches up with the store);
 * resourceVersion "0" answers from the cache as it is; a plain JSON answer is the cached
 * text itself, with no parse or stringify.
 */
import { notFound } from '../../api/errors.ts';
import { type Ctx, writeBody } from '../context.ts';
import type { Freshness } from '../objects.ts';
import { qualifiedOf } from '../objects.ts';

export function freshnessOf(ctx: Ctx): Freshness {
  const rv = ctx.query.get('resourceVersion');
  if (rv === '0') return 'any';
  if (rv && /^\d+$/.test(rv)) return Number(rv);
  return 'consistent';
}

export async function get(ctx: Ctx): Promise<void> {
  const { objects } = ctx.parts;
  const form = ctx.form();
  if (objects.cache && form.codec === 'json' && !form.table && !form.partial) {
    const hit = await objects.getCachedJson(ctx.def, ctx.namespace, ctx.info.name!, freshnessOf(ctx));
    if (hit === undefined) throw notFound(qualifiedOf(ctx.def), ctx.info.name!);
    if (hit) {
      writeBody(ctx.res, 200, 'application/json', hit.json, ctx.warnings);
      return;
    }
  }
  const { obj } = await objects.get(ctx.def, ctx.namespace, ctx.info.name!);
  ctx.send(200, obj);
}
