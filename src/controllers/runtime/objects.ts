/** Helpers every workload controller shares: owner references, pod states, int-or-percent, hashes. */
import { isReason, type KubeObject, selectorMatches } from '../../api/index.ts';
import type { EventRecorder } from '../../client/index.ts';
import { type GroupVersionResource, PODS, type RestClient } from '../../client/index.ts';

export type Json = Record<string, any>;

export type OwnerReference = NonNullable<NonNullable<KubeObject['metadata']>['ownerReferences']>[number];

export function controllerRefOf(obj: KubeObject): OwnerReference | undefined {
  const refs = obj.metadata?.ownerReferences;
  if (refs) for (const r of refs) if (r.controller) return r;
  return undefined;
}

/** `selectorMatches` with the selector read once, for matching it against many objects. */
export function labelMatcher(selector: unknown): (labels: Record<string, string> | undefined) => boolean {
  if (!selector || typeof selector !== 'object') return () => false;
  const s = selector as { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
  const pairs = Object.entries(s.matchLabels ?? {});
  const expressions = s.matchExpressions?.length ? { matchExpressions: s.matchExpressions } : undefined;
  return (labels = {}) => {
    for (const [k, v] of pairs) if (labels[k] !== v) return false;
    return !expressions || selectorMatches(expressions, labels);
  };
}

/** An ownerReference naming `owner` as the managing controller (blocks foreground deletion). */
export function newControllerRef(owner: KubeObject, apiVersion: string, kind: string): OwnerReference {
  return {
    apiVersion,
    kind,
    name: owner.metadata!.name!,
    uid: owner.metadata!.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function isOwnedBy(obj: KubeObject, owner: KubeObject): boolean {
  return controllerRefOf(obj)?.uid === owner.metadata?.uid;
}

/**
 * The objects of `candidates` that `owner` controls, adopting matching orphans and releasing
 * owned objects that no longer match its selector, as upstream's ControllerRefManager does.
 */
export async function claimObjects<T extends KubeObject>(
  client: RestClient,
  gvr: GroupVersionResource,
  owner: KubeObject,
  ref: { apiVersion: string; kind: string },
  selector: unknown,
  candidates: T[],
): Promise<T[]> {
  const uid = owner.metadata?.uid;
  const ownerDeleting = !!owner.metadata?.deletionTimestamp;
  const matches = labelMatcher(selector);
  const out: T[] = [];
  for (const o of candidates) {
    const cref = controllerRefOf(o);
    if (cref) {
      if (cref.uid !== uid) continue;
      if (ownerDeleting || matches(o.metadata?.labels)) {
        out.push(o);
        continue;
      }
      // release: it no longer matches our selector
      const refs = (o.metadata?.ownerReferences ?? []).filter((r) => r.uid !== uid);
      await ignoreNotFound(
        client.patch(
          gvr,
          o.metadata!.name!,
          [
            { op: 'test', path: '/metadata/uid', value: o.metadata!.uid },
            { op: 'replace', path: '/metadata/ownerReferences', value: refs },
          ],
          { type: 'json', namespace: o.metadata?.namespace },
        ),
      );
      continue;
    }
    if (ownerDeleting || o.metadata?.deletionTimestamp || !matches(o.metadata?.labels)) continue;
    // adopt an orphan that matches
    try {
      const adopted = await client.patch<T>(
        gvr,
        o.metadata!.name!,
        {
          metadata: {
            uid: o.metadata!.uid,
            ownerReferences: [
              ...(o.metadata?.ownerReferences ?? []),
              newControllerRef(owner, ref.apiVersion, ref.kind),
            ],
          },
        },
        { type: 'merge', namespace: o.metadata?.namespace },
      );
      out.push(adopted);
    } catch (e) {
      if (!isReason(e, 'NotFound') && !isReason(e, 'Conflict') && !isReason(e, 'Invalid')) throw e;
    }
  }
  return out;
}

export async function ignoreNotFound<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (e) {
    if (isReason(e, 'NotFound')) return undefined;
    throw e;
  }
}

export function podCondition(pod: KubeObject, type: string): Json | undefined {
  const conditions = (pod.status as Json)?.conditions as Json[] | undefined;
  if (conditions) for (const c of conditions) if (c.type === type) return c;
  return undefined;
}

export function isPodReady(pod: KubeObject): boolean {
  return podCondition(pod, 'Ready')?.status === 'True';
}

/** Ready for at least `minReadySeconds`. */
export function isPodAvailable(pod: KubeObject, minReadySeconds: number, now: number): boolean {
  const c = podCondition(pod, 'Ready');
  if (c?.status !== 'True') return false;
  if (!minReadySeconds) return true;
  const t = Date.parse(c.lastTransitionTime ?? '');
  return Number.isNaN(t) || t + minReadySeconds * 1000 <= now;
}

export function podPhase(pod: KubeObject): string {
  return (pod.status as Json)?.phase ?? 'Pending';
}

/** Not finished and not being deleted: counts toward a controller's replicas. */
export function isPodActive(pod: KubeObject): boolean {
  const p = podPhase(pod);
  return p !== 'Succeeded' && p !== 'Failed' && !pod.metadata?.deletionTimestamp;
}

/** Resolve an int-or-percent (`2` or `'25%'`) against `total`, rounding as told. */
export function intOrPercent(v: unknown, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.endsWith('%')) {
    const x = (Number.parseInt(v, 10) * total) / 100;
    return roundUp ? Math.ceil(x) : Math.floor(x);
  }
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return 0;
}

/** A JSON rendering with sorted keys, so equal objects hash equally. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const keys = Object.keys(v).sort();
    return `{${keys
      .filter((k) => (v as Json)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Json)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

/** FNV-1a 32-bit of the template, spelled in Kubernetes' vowel-free alphabet (pod-template-hash). */
export function templateHash(template: unknown, collisionCount = 0): string {
  let h = 0x811c9dc5;
  const s = stableJson(template) + (collisionCount ? String(collisionCount) : '');
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  let out = '';
  for (const ch of String(h)) out += SAFE[ch.charCodeAt(0) % SAFE.length];
  return out;
}

/** RFC 3339 without fractions, as metav1.Time. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

/** A pod object from a template, owned by `owner`. */
export function podFromTemplate(
  template: Json,
  owner: KubeObject,
  ref: OwnerReference,
  extra: { name?: string; generateName?: string; labels?: Json; annotations?: Json } = {},
): KubeObject {
  const tm = (template.metadata ?? {}) as Json;
  const meta: Json = {
    namespace: owner.metadata?.namespace,
    labels: { ...(tm.labels ?? {}), ...(extra.labels ?? {}) },
    annotations: { ...(tm.annotations ?? {}), ...(extra.annotations ?? {}) },
    ownerReferences: [ref],
  };
  if (extra.name) meta.name = extra.name;
  else meta.generateName = extra.generateName ?? `${owner.metadata?.name}-`;
  if (tm.finalizers) meta.finalizers = tm.finalizers;
  return { apiVersion: 'v1', kind: 'Pod', metadata: meta, spec: structuredClone(template.spec ?? {}) };
}

/** Create a pod, reading AlreadyExists/namespace-terminating as harmless. */
export async function createPod(client: RestClient, pod: KubeObject): Promise<KubeObject | undefined> {
  try {
    return await client.create(PODS, pod);
  } catch (e) {
    if (isReason(e, 'AlreadyExists')) return undefined;
    throw e;
  }
}

/**
 * Creates a pod for `owner` as createPod does, recording on the owner what kube-controller-manager
 * records: `SuccessfulCreate` (`Created pod: <name>`) or `FailedCreate` (`Error creating: <why>`).
 */
export async function createPodFor(
  client: RestClient,
  events: EventRecorder,
  owner: KubeObject,
  pod: KubeObject,
): Promise<KubeObject | undefined> {
  try {
    const made = await createPod(client, pod);
    if (made) events.record(owner, 'Normal', 'SuccessfulCreate', `Created pod: ${made.metadata?.name}`);
    return made;
  } catch (e) {
    events.record(owner, 'Warning', 'FailedCreate', `Error creating: ${(e as Error)?.message ?? e}`);
    throw e;
  }
}

export function setCondition(conds: Json[], c: Json, now: number): Json[] {
  const old = conds.find((x) => x.type === c.type);
  const t = rfc3339(now);
  const next = { ...c, lastUpdateTime: c.lastUpdateTime === undefined ? undefined : t } as Json;
  if (old && old.status === c.status) next.lastTransitionTime = old.lastTransitionTime;
  else next.lastTransitionTime = t;
  if (old && old.status === c.status && old.reason === c.reason && old.message === c.message) return conds;
  for (const k of Object.keys(next)) if (next[k] === undefined) delete next[k];
  return [...conds.filter((x) => x.type !== c.type), next];
}

export function deepEqualJson(a: unknown, b: unknown): boolean {
  return stableJson(a) === stableJson(b);
}

/** Index pods by `spec.nodeName` on a shared pod informer (once, whoever asks first). */
export const NODE_NAME_INDEX = 'spec.nodeName';
export function indexPodsByNode(inf: {
  addIndexers(x: Record<string, (o: KubeObject) => string[]>): void;
  store: { byIndex(n: string, v: string): KubeObject[] };
}): void {
  try {
    inf.addIndexers({ [NODE_NAME_INDEX]: (p) => [((p.spec as Json)?.nodeName as string) ?? ''] });
  } catch {
    // already indexed by another controller
  }
}

/** Does a toleration tolerate a taint (key, operator Exists/Equal, value, effect)? */
export function tolerates(tol: Json, taint: Json): boolean {
  if (tol.effect && tol.effect !== taint.effect) return false;
  if (tol.operator === 'Exists') return !tol.key || tol.key === taint.key;
  return tol.key === taint.key && (tol.value ?? '') === (taint.value ?? '');
}

/** Are all taints with these effects tolerated? */
export function toleratesAll(tolerations: Json[], taints: Json[], effects: string[]): boolean {
  return taints
    .filter((t) => effects.includes(t.effect))
    .every((t) => tolerations.some((tol) => tolerates(tol, t)));
}

/** `namespace/name` of the object's controller when it is of `kind`. */
export function keyOfRef(obj: KubeObject, kind: string): string | undefined {
  const ref = controllerRefOf(obj);
  return ref?.kind === kind ? `${obj.metadata?.namespace}/${ref.name}` : undefined;
}
