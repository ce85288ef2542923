/**
 * GET one object (or its status subresource, which is the object itself). Without a
 * resourceVersion the read is consistent (the store itself, or the watch cache once it has
 * caught up with the store); resourceVersion "0" may answer from the cache as it is; a plain
 * JSON answer is the stored text with its resourceVersion spliced in, with no parse or stringify.
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
  const hit = await objects.getJson(ctx.def, ctx.namespace, ctx.info.name!, freshnessOf(ctx));
  if (!hit) throw notFound(qualifiedOf(ctx.def), ctx.info.name!);
  if (form.codec === 'json' && !form.table && !form.partial)
    writeBody(ctx.res, 200, 'application/json', hit.json, ctx.warnings);
  else ctx.send(200, JSON.parse(hit.json));
}
