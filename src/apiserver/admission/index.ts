/**
 * Admission on create, as Kubernetes' built-in plugins, run before defaulting and validation:
 *
 *   Priority                   pod `spec.priority` (and preemptionPolicy) from its
 *                              priorityClassName, or from the globalDefault PriorityClass
 *   DefaultTolerationSeconds   pods tolerate node not-ready/unreachable NoExecute for 300 s
 *   Service IPs                a Service's cluster IP and node ports (src/apiserver/service-ips)
 *
 * ServiceAccount defaulting (`default`) is in the pod defaults of src/api.
 *
 *   const undo = await admitCreate(parts, def, obj);  // may throw a Status
 *   try { await store(obj) } catch (e) { await undo(); throw e }
 */
import { StatusError } from '../../api/errors.ts';
import type { KubeObject, ResourceDef } from '../../api/resource.ts';
import type { ServerParts } from '../context.ts';

type Json = Record<string, any>;

export const DEFAULT_TOLERATION_SECONDS = 300;
const NOT_READY = 'node.kubernetes.io/not-ready';
const UNREACHABLE = 'node.kubernetes.io/unreachable';

const isCore = (def: ResourceDef, plural: string) => def.group === '' && def.plural === plural;

/** Runs the create admission for `obj`; the returned function undoes what it reserved. */
export async function admitCreate(
  parts: ServerParts,
  def: ResourceDef,
  obj: KubeObject,
): Promise<() => Promise<void>> {
  if (isCore(def, 'pods')) {
    await admitPriority(parts, obj);
    addDefaultTolerations(obj);
  }
  if (isCore(def, 'services') && parts.serviceIps) {
    const ips = parts.serviceIps;
    await ips.allocate(obj);
    return () => ips.release(obj);
  }
  return async () => {};
}

/** For updates: a Service keeps or gains its allocations (see ServiceIpAllocator.onUpdate). */
export async function admitUpdate(
  parts: ServerParts,
  def: ResourceDef,
  old: KubeObject,
  next: KubeObject,
): Promise<void> {
  if (isCore(def, 'services') && parts.serviceIps) await parts.serviceIps.onUpdate(old, next);
}

/** After a delete: what the object held goes back to its pools. */
export async function afterDelete(
  parts: ServerParts,
  def: ResourceDef,
  gone: KubeObject | undefined,
): Promise<void> {
  if (gone && isCore(def, 'services') && parts.serviceIps) await parts.serviceIps.release(gone);
}

async function admitPriority(parts: ServerParts, pod: KubeObject): Promise<void> {
  const def = parts.registry.byResource('scheduling.k8s.io', 'v1', 'priorityclasses');
  if (!def) return;
  pod.spec ??= {};
  const spec = pod.spec as Json;
  const name = pod.metadata?.name ?? '';
  let pc: KubeObject | undefined;
  if (spec.priorityClassName) {
    pc = (await parts.objects.tryGet(def, undefined, spec.priorityClassName))?.obj;
    if (!pc) {
      throw new StatusError(
        'Forbidden',
        `pods "${name}" is forbidden: no PriorityClass with name ${spec.priorityClassName} was found`,
        { name, kind: 'pods' },
      );
    }
  } else {
    const all = await parts.objects.list(def);
    // Several global defaults: the lowest value wins, as upstream's getDefaultPriorityClass.
    pc = all.items
      .map((s) => s.obj)
      .filter((c) => c.globalDefault === true)
      .sort((a, b) => (a.value as number) - (b.value as number))[0];
    if (pc) spec.priorityClassName = pc.metadata?.name;
  }
  const value = (pc?.value as number | undefined) ?? 0;
  if (spec.priority !== undefined && spec.priority !== value) {
    throw new StatusError(
      'Forbidden',
      `pods "${name}" is forbidden: the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${value} from the given PriorityClass name`,
      { name, kind: 'pods' },
    );
  }
  spec.priority = value;
  if (pc) spec.preemptionPolicy ??= pc.preemptionPolicy ?? 'PreemptLowerPriority';
}

/** DefaultTolerationSeconds: unless the pod already tolerates them, ride out not-ready/unreachable for 300 s. */
export function addDefaultTolerations(pod: KubeObject): void {
  pod.spec ??= {};
  const spec = pod.spec as Json;
  const tolerations: Json[] = spec.tolerations ?? [];
  const tolerates = (key: string) =>
    tolerations.some(
      (t) =>
        (t.key === key || (!t.key && t.operator === 'Exists')) && (!t.effect || t.effect === 'NoExecute'),
    );
  for (const key of [NOT_READY, UNREACHABLE]) {
    if (tolerates(key)) continue;
    tolerations.push({
      key,
      operator: 'Exists',
      effect: 'NoExecute',
      tolerationSeconds: DEFAULT_TOLERATION_SECONDS,
    });
  }
  spec.tolerations = tolerations;
}
