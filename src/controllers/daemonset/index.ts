/**
 * The DaemonSet controller: one pod per eligible node.
 *
 * A node is eligible when it matches the template's nodeSelector and its NoSchedule/NoExecute
 * taints are tolerated, counting the tolerations every daemon pod gets (not-ready and
 * unreachable NoExecute; disk-, memory-, pid-pressure and unschedulable NoSchedule). Each pod
 * is pinned to its node as upstream does it: a required nodeAffinity term matching the field
 * `metadata.name`, left for the scheduler to bind. Pods carry `controller-revision-hash` (a
 * hash of the template); RollingUpdate replaces outdated pods, at most `maxUnavailable`
 * (default 1) unavailable at a time; OnDelete waits for the user.
 */
import { isReason, type KubeObject } from '../../api/index.ts';
import { eventRecorder, NODES, PODS } from '../../client/index.ts';
import { controllerFor } from '../runtime/controller.ts';
import { Expectations, observeOwnedPods } from '../runtime/expectations.ts';
import {
  claimObjects,
  createPodFor,
  deepEqualJson,
  ignoreNotFound,
  intOrPercent,
  isPodActive,
  isPodAvailable,
  isPodReady,
  type Json,
  newControllerRef,
  podFromTemplate,
  toleratesAll,
} from '../runtime/objects.ts';
import { CONTROLLER_REVISIONS, pruneRevisions, revisionHash, syncRevisions } from '../runtime/revisions.ts';

const DS = { group: 'apps', version: 'v1', resource: 'daemonsets' };

export { REVISION_HASH } from '../runtime/revisions.ts';

import { REVISION_HASH } from '../runtime/revisions.ts';

export const DAEMON_TOLERATIONS: Json[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];

/** The node a daemon pod is meant for: its nodeName, or its metadata.name affinity. */
export function targetNode(pod: KubeObject): string | undefined {
  const spec = (pod.spec ?? {}) as Json;
  if (spec.nodeName) return spec.nodeName;
  for (const term of spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution
    ?.nodeSelectorTerms ?? [])
    for (const f of term.matchFields ?? [])
      if (f.key === 'metadata.name' && f.operator === 'In') return f.values?.[0];
  return undefined;
}

function withTolerations(existing: Json[] = []): Json[] {
  const out = [...existing];
  for (const t of DAEMON_TOLERATIONS)
    if (!out.some((x) => x.key === t.key && x.effect === t.effect)) out.push(t);
  return out;
}

/** Does a node selector requirement (In, NotIn, Exists, DoesNotExist, Gt, Lt) hold for `value`? */
function requirementHolds(r: Json, value: string | undefined): boolean {
  const values = (r.values ?? []) as string[];
  switch (r.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      const a = Number.parseInt(value ?? '', 10);
      const b = Number.parseInt(values[0] ?? '', 10);
      if (Number.isNaN(a) || Number.isNaN(b)) return false;
      return r.operator === 'Gt' ? a > b : a < b;
    }
    default:
      return false;
  }
}

/** The template's required node affinity: any term whose expressions and fields all hold. */
export function matchesNodeAffinity(podSpec: Json, node: KubeObject): boolean {
  const terms = podSpec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution
    ?.nodeSelectorTerms as Json[] | undefined;
  if (!terms?.length) return true;
  const labels = node.metadata?.labels ?? {};
  return terms.some(
    (t) =>
      ((t.matchExpressions ?? []).length || (t.matchFields ?? []).length) &&
      ((t.matchExpressions ?? []) as Json[]).every((r) => requirementHolds(r, labels[r.key])) &&
      ((t.matchFields ?? []) as Json[]).every((r) =>
        requirementHolds(r, r.key === 'metadata.name' ? node.metadata?.name : undefined),
      ),
  );
}

export function shouldRun(ds: KubeObject, node: KubeObject): boolean {
  const tspec = ((ds.spec as Json)?.template?.spec ?? {}) as Json;
  const labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries((tspec.nodeSelector ?? {}) as Json)) if (labels[k] !== v) return false;
  if (!matchesNodeAffinity(tspec, node)) return false;
  const taints = ((node.spec as Json)?.taints ?? []) as Json[];
  return toleratesAll(withTolerations(tspec.tolerations), taints, ['NoSchedule', 'NoExecute']);
}

export const daemonSetController = controllerFor('apps/v1', 'daemonsets')
  .owns('v1', 'pods')
  .owns('apps/v1', 'controllerrevisions')
  .watches('v1', 'nodes', (_node, ctx) => ctx.informers.informerFor(DS).store.keys())
  .named('daemonset')
  .complete((ctx) => {
    const sets = ctx.informers.informerFor(DS).store;
    const nodes = ctx.informers.informerFor(NODES).store;
    const pods = ctx.informers.informerFor(PODS);
    const revisions = ctx.informers.informerFor(CONTROLLER_REVISIONS).store;
    const exp = new Expectations({ now: ctx.now });
    const events = eventRecorder(ctx.client, 'daemonset-controller', {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
    });
    pods.addEventHandler(observeOwnedPods(exp, 'DaemonSet'));

    return async ({ namespace, name }) => {
      const key = `${namespace}/${name}`;
      const ds = sets.get(key);
      if (!ds) {
        exp.forget(key);
        return;
      }
      const spec = (ds.spec ?? {}) as Json;
      const revs = ds.metadata?.deletionTimestamp
        ? undefined
        : await syncRevisions(
            ctx.client,
            ds,
            { apiVersion: 'apps/v1', kind: 'DaemonSet' },
            revisions.byIndex('namespace', namespace ?? ''),
          );
      const hash = revs ? revisionHash(revs.update) : '';
      const owned = (
        await claimObjects(
          ctx.client,
          PODS,
          ds,
          { apiVersion: 'apps/v1', kind: 'DaemonSet' },
          spec.selector,
          pods.store.byIndex('namespace', namespace ?? ''),
        )
      ).filter(isPodActive);
      const byNode = new Map<string, KubeObject[]>();
      for (const p of owned) {
        const n = targetNode(p) ?? '';
        byNode.set(n, [...(byNode.get(n) ?? []), p]);
      }
      const now = ctx.now();
      const minReady = spec.minReadySeconds ?? 0;
      const create: string[] = [];
      const remove: KubeObject[] = [];
      let desired = 0;
      let misscheduled = 0;
      const eligible = nodes.list().filter((n) => shouldRun(ds, n));
      const eligibleNames = new Set(eligible.map((n) => n.metadata!.name!));
      for (const n of eligible) {
        desired++;
        const mine = byNode.get(n.metadata!.name!) ?? [];
        if (!mine.length) create.push(n.metadata!.name!);
        else if (mine.length > 1) remove.push(...mine.slice(1));
      }
      for (const [n, ps] of byNode)
        if (!eligibleNames.has(n)) {
          misscheduled += ps.length;
          remove.push(...ps);
        }
      if (exp.satisfied(key) && !ds.metadata?.deletionTimestamp) {
        // rolling update: replace outdated pods within maxUnavailable
        if ((spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
          const maxUnavailable = Math.max(
            1,
            intOrPercent(spec.updateStrategy?.rollingUpdate?.maxUnavailable ?? 1, desired, true),
          );
          const current = owned.filter((p) => eligibleNames.has(targetNode(p) ?? '') && !remove.includes(p));
          let unavailable = create.length + current.filter((p) => !isPodAvailable(p, minReady, now)).length;
          const outdated = current.filter((p) => p.metadata?.labels?.[REVISION_HASH] !== hash);
          // unavailable outdated pods first, they cost nothing
          outdated.sort((a, b) => Number(isPodReady(a)) - Number(isPodReady(b)));
          for (const p of outdated) {
            const free = !isPodAvailable(p, minReady, now);
            if (!free && unavailable >= maxUnavailable) break;
            if (!free) unavailable++;
            remove.push(p);
          }
        }
        exp.expectCreations(key, create.length);
        exp.expectDeletions(
          key,
          remove.map((p) => p.metadata!.uid!),
        );
        const ref = newControllerRef(ds, 'apps/v1', 'DaemonSet');
        const results = await Promise.allSettled([
          ...create.map((node) => {
            const pod = podFromTemplate(spec.template ?? {}, ds, ref, { labels: { [REVISION_HASH]: hash } });
            const ps = pod.spec as Json;
            ps.tolerations = withTolerations(ps.tolerations);
            ps.affinity = {
              ...ps.affinity,
              nodeAffinity: {
                ...ps.affinity?.nodeAffinity,
                requiredDuringSchedulingIgnoredDuringExecution: {
                  nodeSelectorTerms: [
                    { matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] },
                  ],
                },
              },
            };
            return createPodFor(ctx.client, events, ds, pod).catch((e) => {
              exp.lowerCreations(key, 1);
              throw e;
            });
          }),
          ...remove.map((p) =>
            ignoreNotFound(ctx.client.delete(PODS, p.metadata!.name!, { namespace })).then(
              () => events.record(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata?.name}`),
              (e) => {
                exp.deletionObserved(key, p.metadata!.uid!);
                throw e;
              },
            ),
          ),
        ]);
        const err = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
        if (err) throw err.reason;
      }
      const scheduled = owned.filter((p) => eligibleNames.has(targetNode(p) ?? ''));
      const available = scheduled.filter((p) => isPodAvailable(p, minReady, now)).length;
      const status: Json = {
        ...(ds.status as Json),
        currentNumberScheduled: new Set(scheduled.map(targetNode)).size,
        numberMisscheduled: misscheduled,
        desiredNumberScheduled: desired,
        numberReady: scheduled.filter(isPodReady).length,
        updatedNumberScheduled: scheduled.filter((p) => p.metadata?.labels?.[REVISION_HASH] === hash).length,
        numberAvailable: available,
        numberUnavailable: Math.max(0, desired - available),
        observedGeneration: ds.metadata?.generation ?? 0,
      };
      if (revs?.collisionCount) status.collisionCount = revs.collisionCount;
      if (revs)
        await pruneRevisions(
          ctx.client,
          revs,
          new Set(owned.map((p) => p.metadata?.labels?.[REVISION_HASH] ?? '')),
          spec.revisionHistoryLimit ?? 10,
        );
      if (!status.numberAvailable) delete status.numberAvailable;
      if (!status.numberUnavailable) delete status.numberUnavailable;
      if (!deepEqualJson(ds.status ?? {}, status)) {
        try {
          await ctx.client.updateStatus(DS, { ...ds, status });
        } catch (e) {
          if (!isReason(e, 'NotFound')) throw e;
        }
      }
      return undefined;
    };
  });
