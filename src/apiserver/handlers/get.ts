/** GET one object (or its status subresource, which is the object itself). Reads are linearizable. */
import type { Ctx } from '../context.ts';

export async function get(ctx: Ctx): Promise<void> {
  const { obj } = await ctx.parts.objects.get(ctx.def, ctx.namespace, ctx.info.name!);
  ctx.send(200, obj);
}
