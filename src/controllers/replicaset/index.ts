/**
 * The ReplicaSet controller: keeps `spec.replicas` active pods matching the selector.
 *
 * Pods it creates carry a controller ownerReference (blockOwnerDeletion) to the ReplicaSet;
 * matching orphans are adopted and owned pods that stop matching are released. Creations are
 * sent in slow-start batches (1, 2, 4, ...) and recorded as expectations, so the controller
 * waits to see its own pods before computing the next diff. Deletion picks the cheapest pods
 * first: unscheduled, then pending, then not ready, then by `controller.kubernetes.io/pod-deletion-cost`,
 * then the most recently ready.
 */
import { isReason, type KubeObject, selectorMatches } from '../../api/index.ts';
import { eventRecorder, keyOf, PODS } from '../../client/index.ts';
import { controllerFor } from '../runtime/controller.ts';
import { Expectations, observeOwnedPods } from '../runtime/expectations.ts';
import {
  claimObjects,
  createPodFor,
  deepEqualJson,
  ignoreNotFound,
  isPodActive,
  isPodAvailable,
  isPodReady,
  type Json,
  newControllerRef,
  podCondition,
  podFromTemplate,
  podPhase,
} from '../runtime/objects.ts';

const RS = { group: 'apps', version: 'v1', resource: 'replicasets' };
const BURST = 500;

/** Lower sorts first: the order in which surplus pods are deleted. */
export function deletionRank(a: KubeObject, b: KubeObject): number {
  const sa = (a.spec as Json)?.nodeName ? 1 : 0;
  const sb = (b.spec as Json)?.nodeName ? 1 : 0;
  if (sa !== sb) return sa - sb;
  const phase = (p: KubeObject) => ({ Pending: 0, Unknown: 1, Running: 2 })[podPhase(p)] ?? 0;
  if (phase(a) !== phase(b)) return phase(a) - phase(b);
  const ra = isPodReady(a) ? 1 : 0;
  const rb = isPodReady(b) ? 1 : 0;
  if (ra !== rb) return ra - rb;
  const cost = (p: KubeObject) =>
    Number(p.metadata?.annotations?.['controller.kubernetes.io/pod-deletion-cost'] ?? 0) || 0;
  if (cost(a) !== cost(b)) return cost(a) - cost(b);
  // newer ready pods go first
  const t = (p: KubeObject) => Date.parse(podCondition(p, 'Ready')?.lastTransitionTime ?? '') || 0;
  if (t(a) !== t(b)) return t(b) - t(a);
  return (
    (Date.parse(b.metadata?.creationTimestamp ?? '') || 0) -
    (Date.parse(a.metadata?.creationTimestamp ?? '') || 0)
  );
}

export const replicaSetController = controllerFor('apps/v1', 'replicasets')
  .owns('v1', 'pods')
  .named('replicaset')
  .workers(4)
  // every reconcile reads all of the ReplicaSet's pods: batch their changes
  .batchPeriod(100)
  .complete((ctx, enqueue) => {
    const rsStore = ctx.informers.informerFor(RS).store;
    const pods = ctx.informers.informerFor(PODS);
    const exp = new Expectations({ now: ctx.now });
    const events = eventRecorder(ctx.client, 'replicaset-controller', {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
    });
    pods.addEventHandler(observeOwnedPods(exp, 'ReplicaSet', enqueueMatching));
    // an orphan pod may be adopted by any ReplicaSet whose selector matches it
    function enqueueMatching(p: KubeObject) {
      for (const rs of rsStore.byIndex('namespace', p.metadata?.namespace ?? ''))
        if (selectorMatches((rs.spec as Json)?.selector, p.metadata?.labels ?? {})) enqueue(keyOf(rs));
    }

    return async ({ namespace, name }) => {
      const key = `${namespace}/${name}`;
      const rs = rsStore.get(key);
      if (!rs) {
        exp.forget(key);
        return;
      }
      const spec = (rs.spec ?? {}) as Json;
      const ns = pods.store.byIndex('namespace', namespace ?? '');
      const owned = await claimObjects(
        ctx.client,
        PODS,
        rs,
        { apiVersion: 'apps/v1', kind: 'ReplicaSet' },
        spec.selector,
        ns,
      );
      const active = owned.filter(isPodActive);
      const want = spec.replicas ?? 1;
      let requeue: number | undefined;
      if (exp.satisfied(key) && !rs.metadata?.deletionTimestamp) {
        const diff = active.length - want;
        if (diff < 0) {
          const n = Math.min(-diff, BURST);
          exp.expectCreations(key, n);
          const ref = newControllerRef(rs, 'apps/v1', 'ReplicaSet');
          let left = n;
          for (let batch = 1; left > 0; batch = Math.min(batch * 2, left)) {
            const size = Math.min(batch, left);
            const results = await Promise.allSettled(
              Array.from({ length: size }, () =>
                createPodFor(ctx.client, events, rs, podFromTemplate(spec.template ?? {}, rs, ref)),
              ),
            );
            left -= size;
            const failed = results.filter((r) => r.status === 'rejected' || r.value === undefined).length;
            if (failed) {
              exp.lowerCreations(key, failed + left);
              const err = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
              if (err) throw err.reason;
              break;
            }
          }
        } else if (diff > 0) {
          const victims = [...active].sort(deletionRank).slice(0, Math.min(diff, BURST));
          exp.expectDeletions(
            key,
            victims.map((p) => p.metadata!.uid!),
          );
          await Promise.all(
            victims.map(async (p) => {
              try {
                await ignoreNotFound(ctx.client.delete(PODS, p.metadata!.name!, { namespace }));
                events.record(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata?.name}`);
              } catch (e) {
                exp.deletionObserved(key, p.metadata!.uid!);
                events.record(rs, 'Warning', 'FailedDelete', `Error deleting: ${(e as Error)?.message ?? e}`);
                throw e;
              }
            }),
          );
        }
      }
      const now = ctx.now();
      const minReady = spec.minReadySeconds ?? 0;
      // one pass: this runs after every change of any of its pods
      const templateLabels = Object.entries((spec.template?.metadata?.labels ?? {}) as Json);
      let fullyLabeled = 0;
      let ready = 0;
      let available = 0;
      for (const p of active) {
        const labels = p.metadata?.labels ?? {};
        if (templateLabels.every(([k, v]) => labels[k] === v)) fullyLabeled++;
        if (!isPodReady(p)) continue;
        ready++;
        if (isPodAvailable(p, minReady, now)) available++;
      }
      const status: Json = {
        replicas: active.length,
        fullyLabeledReplicas: fullyLabeled,
        readyReplicas: ready,
        availableReplicas: available,
        observedGeneration: rs.metadata?.generation ?? 0,
      };
      if (minReady && status.readyReplicas > status.availableReplicas) requeue = minReady * 1000;
      const old = (rs.status ?? {}) as Json;
      const oldCmp = { ...old };
      delete oldCmp.conditions;
      if (!deepEqualJson(oldCmp, status)) {
        try {
          await ctx.client.updateStatus(RS, { ...rs, status: { ...status, conditions: old.conditions } });
        } catch (e) {
          if (isReason(e, 'NotFound')) return;
          throw e;
        }
      }
      return requeue !== undefined ? { requeueAfter: requeue } : undefined;
    };
  });
