/**
 * The namespace controller: a namespace with a deletionTimestamp is `Terminating`; its
 * contents are deleted (every namespaced resource), and when nothing is left its `kubernetes`
 * finalizer (spec.finalizers) is cleared and the namespace itself goes.
 */
import { isReason } from '../../api/errors.ts';
import type { KubeObject, ResourceDef, ResourceRegistry } from '../../api/resource.ts';
import { deleteObject, type Objects } from '../../apiserver/index.ts';

const RECHECK_MS = 1000;

export async function runNamespaceController(
  objects: Objects,
  registry: ResourceRegistry,
  signal: AbortSignal,
): Promise<void> {
  const nsDef = registry.byResource('', 'v1', 'namespaces');
  if (!nsDef) return;
  const seen = new Set<string>();
  const contents = registry.all().filter((d) => {
    const k = `${d.group}/${d.plural}`;
    if (!d.namespaced || seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  const pending = new Set<string>();
  let wake: (() => void) | undefined;
  const enqueue = (name: string) => {
    pending.add(name);
    wake?.();
  };
  const initial = await objects.list(nsDef);
  for (const { obj } of initial.items) if (obj.metadata?.deletionTimestamp) enqueue(obj.metadata.name!);
  const watching = (async () => {
    for await (const ev of objects.watch(nsDef, undefined, initial.revision, signal)) {
      if (ev.type !== 'DELETED' && ev.obj.metadata?.deletionTimestamp) enqueue(ev.obj.metadata.name!);
    }
  })();
  while (!signal.aborted) {
    const next = pending.values().next();
    if (next.done) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
      wake = undefined;
      continue;
    }
    pending.delete(next.value);
    try {
      const done = await finalize(objects, nsDef, contents, next.value);
      if (!done) setTimeout(() => enqueue(next.value), RECHECK_MS).unref();
    } catch (e) {
      if (signal.aborted) break;
      console.error('namespace-controller:', e);
      setTimeout(() => enqueue(next.value), RECHECK_MS).unref();
    }
  }
  await watching;
}

/** One pass over a terminating namespace; true once it is gone. */
async function finalize(
  objects: Objects,
  nsDef: ResourceDef,
  contents: ResourceDef[],
  name: string,
): Promise<boolean> {
  const cur = await objects.tryGet(nsDef, undefined, name);
  if (!cur?.obj.metadata?.deletionTimestamp) return true;
  if ((cur.obj.status as { phase?: string } | undefined)?.phase !== 'Terminating') {
    await objects.guaranteedUpdate(nsDef, undefined, name, (o) => {
      o.status = { ...(o.status as object), phase: 'Terminating' };
      return o;
    });
  }
  let left = 0;
  for (const def of contents) {
    const { items } = await objects.list(def, name);
    left += items.length;
    for (const { obj } of items) {
      if (obj.metadata?.deletionTimestamp) continue;
      try {
        await deleteObject(objects, def, name, obj.metadata!.name!, { propagationPolicy: 'Background' });
      } catch (e) {
        if (!isReason(e, 'NotFound')) throw e;
      }
    }
  }
  if (left > 0) return false;
  const latest = await objects.tryGet(nsDef, undefined, name);
  if (!latest) return true;
  const ns: KubeObject = latest.obj;
  if ((ns.metadata?.finalizers ?? []).length > 0) return false;
  await objects.delete(nsDef, undefined, name, latest.modRevision);
  return true;
}
