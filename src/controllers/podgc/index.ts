/**
 * Pod garbage collection, every `periodMs` (20 s): deletes terminated pods (Succeeded or
 * Failed) beyond `terminatedPodThreshold` (12,500), oldest first; pods bound to nodes that no
 * longer exist; and unbound pods already being deleted. Options: `options.podgc`.
 */
import type { KubeObject } from '../../api/index.ts';
import { NODES, PODS } from '../../client/index.ts';
import type { Controller } from '../runtime/controller.ts';
import { ignoreNotFound, type Json, podPhase } from '../runtime/objects.ts';

export const podGCController: Controller = {
  name: 'podgc',
  async start(ctx) {
    const opts = ctx.options.podgc ?? {};
    const period = Number(opts.periodMs ?? 20_000);
    const threshold = Number(opts.terminatedPodThreshold ?? 12_500);
    const pods = ctx.informers.informerFor(PODS);
    const nodes = ctx.informers.informerFor(NODES);
    if (!(await ctx.informers.waitForSync(ctx.signal))) return;
    const del = (p: KubeObject, grace?: number) =>
      ignoreNotFound(
        ctx.client.delete(PODS, p.metadata!.name!, {
          namespace: p.metadata?.namespace,
          gracePeriodSeconds: grace,
          preconditions: { uid: p.metadata?.uid },
        }),
      ).catch((e) => ctx.log(`podgc: ${(e as Error).message}`));
    const sweep = async () => {
      const all = pods.store.list();
      const terminated = all
        .filter((p) => ['Succeeded', 'Failed'].includes(podPhase(p)) && !p.metadata?.deletionTimestamp)
        .sort(
          (a, b) =>
            (Date.parse(a.metadata?.creationTimestamp ?? '') || 0) -
            (Date.parse(b.metadata?.creationTimestamp ?? '') || 0),
        );
      for (const p of terminated.slice(0, Math.max(0, terminated.length - threshold))) await del(p);
      for (const p of all) {
        const node = (p.spec as Json)?.nodeName as string | undefined;
        if (node && !nodes.store.get(node)) {
          // make sure: the cache may lag behind a node just created
          const gone = await ctx.client.get(NODES, node).then(
            () => false,
            () => true,
          );
          if (gone) await del(p, 0);
        } else if (!node && p.metadata?.deletionTimestamp) await del(p, 0);
      }
    };
    while (!ctx.signal.aborted) {
      await sweep().catch((e) => ctx.log(`podgc: ${(e as Error).message}`));
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, period);
        ctx.signal.addEventListener(
          'abort',
          () => {
            clearTimeout(t);
            resolve();
          },
          { once: true },
        );
      });
    }
  },
};
