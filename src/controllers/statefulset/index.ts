/**
 * The StatefulSet controller: pods with stable names `<set>-<ordinal>` and their own
 * PersistentVolumeClaims `<template>-<set>-<ordinal>` from volumeClaimTemplates.
 *
 * OrderedReady (the default) creates ordinals 0..n-1 one at a time, each only once all lower
 * ones are Running and Ready, and removes surplus ones from the highest down, one at a time.
 * Parallel creates and deletes all at once. RollingUpdate replaces pods whose
 * `controller-revision-hash` differs from the template's, from the highest ordinal down
 * (stopping at `partition`), one at a time and only while every other pod is ready.
 * PVCs are kept when pods go (persistentVolumeClaimRetentionPolicy is not applied).
 */
import { isReason, type KubeObject } from '../../api/index.ts';
import { PODS } from '../../client/index.ts';
import { controllerFor } from '../runtime/controller.ts';
import { eventRecorder } from '../runtime/events.ts';
import {
  claimObjects,
  createPod,
  deepEqualJson,
  ignoreNotFound,
  isPodAvailable,
  isPodReady,
  type Json,
  newControllerRef,
  podFromTemplate,
  podPhase,
  templateHash,
} from '../runtime/objects.ts';

const STS = { group: 'apps', version: 'v1', resource: 'statefulsets' };
const PVCS = { group: '', version: 'v1', resource: 'persistentvolumeclaims' };
const HASH = 'controller-revision-hash';

function ordinalOf(set: string, pod: KubeObject): number {
  const n = pod.metadata?.name ?? '';
  if (!n.startsWith(`${set}-`)) return -1;
  const s = n.slice(set.length + 1);
  return /^\d+$/.test(s) ? Number(s) : -1;
}

export const statefulSetController = controllerFor('apps/v1', 'statefulsets')
  .owns('v1', 'pods')
  .named('statefulset')
  .complete((ctx) => {
    const sets = ctx.informers.informerFor(STS).store;
    const pods = ctx.informers.informerFor(PODS).store;
    const events = eventRecorder(ctx.client, 'statefulset-controller', {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
    });
    return async ({ namespace, name }) => {
      const sts = sets.get(`${namespace}/${name}`);
      if (!sts || sts.metadata?.deletionTimestamp) return;
      const spec = (sts.spec ?? {}) as Json;
      const replicas = spec.replicas ?? 1;
      const parallel = spec.podManagementPolicy === 'Parallel';
      const hash = `${name}-${templateHash(spec.template)}`;
      const owned = await claimObjects(
        ctx.client,
        PODS,
        sts,
        { apiVersion: 'apps/v1', kind: 'StatefulSet' },
        spec.selector,
        pods.byIndex('namespace', namespace ?? ''),
      );
      const byOrdinal = new Map<number, KubeObject>();
      for (const p of owned) {
        const o = ordinalOf(name, p);
        if (o >= 0) byOrdinal.set(o, p);
      }
      const now = ctx.now();
      const healthy = (p: KubeObject | undefined) =>
        !!p && !p.metadata?.deletionTimestamp && podPhase(p) === 'Running' && isPodReady(p);
      const ref = newControllerRef(sts, 'apps/v1', 'StatefulSet');
      const makePod = async (i: number) => {
        for (const t of (spec.volumeClaimTemplates ?? []) as Json[]) {
          const claim = {
            apiVersion: 'v1',
            kind: 'PersistentVolumeClaim',
            metadata: {
              name: `${t.metadata?.name}-${name}-${i}`,
              namespace,
              labels: { ...(spec.selector?.matchLabels ?? {}), ...(t.metadata?.labels ?? {}) },
            },
            spec: structuredClone(t.spec ?? {}),
          };
          await ctx.client.create(PVCS, claim).then(
            () =>
              events.record(
                sts,
                'Normal',
                'SuccessfulCreate',
                `create Claim ${claim.metadata.name} Pod ${name}-${i} in StatefulSet ${name} success`,
              ),
            (e) => {
              if (!isReason(e, 'AlreadyExists')) throw e;
            },
          );
        }
        const pod = podFromTemplate(spec.template ?? {}, sts, ref, {
          name: `${name}-${i}`,
          labels: {
            [HASH]: hash,
            'statefulset.kubernetes.io/pod-name': `${name}-${i}`,
            'apps.kubernetes.io/pod-index': String(i),
          },
        });
        const ps = pod.spec as Json;
        ps.hostname = `${name}-${i}`;
        if (spec.serviceName) ps.subdomain = spec.serviceName;
        const vols = (ps.volumes ?? []) as Json[];
        for (const t of (spec.volumeClaimTemplates ?? []) as Json[]) {
          const v = {
            name: t.metadata?.name,
            persistentVolumeClaim: { claimName: `${t.metadata?.name}-${name}-${i}` },
          };
          const at = vols.findIndex((x) => x.name === v.name);
          if (at >= 0) vols[at] = v;
          else vols.push(v);
        }
        if (vols.length) ps.volumes = vols;
        try {
          if (await createPod(ctx.client, pod))
            events.record(
              sts,
              'Normal',
              'SuccessfulCreate',
              `create Pod ${name}-${i} in StatefulSet ${name} successful`,
            );
        } catch (e) {
          events.record(
            sts,
            'Warning',
            'FailedCreate',
            `create Pod ${name}-${i} in StatefulSet ${name} failed error: ${(e as Error)?.message ?? e}`,
          );
          throw e;
        }
      };
      const del = async (p: KubeObject) => {
        await ignoreNotFound(
          ctx.client.delete(PODS, p.metadata!.name!, { namespace, preconditions: { uid: p.metadata?.uid } }),
        );
        events.record(
          sts,
          'Normal',
          'SuccessfulDelete',
          `delete Pod ${p.metadata?.name} in StatefulSet ${name} successful`,
        );
      };

      // finished pods are replaced
      for (const [i, p] of byOrdinal) {
        const ph = podPhase(p);
        if ((ph === 'Failed' || ph === 'Succeeded') && !p.metadata?.deletionTimestamp) {
          await del(p);
          byOrdinal.delete(i);
        }
      }
      let acted = false;
      // scale up
      for (let i = 0; i < replicas; i++) {
        const p = byOrdinal.get(i);
        if (!p) {
          await makePod(i);
          acted = true;
          if (!parallel) break;
          continue;
        }
        if (!parallel && !healthy(p)) {
          acted = true; // wait for it
          break;
        }
      }
      // scale down, highest first
      if (!acted) {
        const surplus = [...byOrdinal.keys()].filter((i) => i >= replicas).sort((a, b) => b - a);
        for (const i of surplus) {
          const p = byOrdinal.get(i)!;
          if (!p.metadata?.deletionTimestamp) await del(p);
          acted = true;
          if (!parallel) break;
        }
      }
      // rolling update, highest first, once all are healthy
      const strategy = spec.updateStrategy?.type ?? 'RollingUpdate';
      if (!acted && strategy === 'RollingUpdate') {
        const partition = spec.updateStrategy?.rollingUpdate?.partition ?? 0;
        const all = [...byOrdinal.entries()].filter(([i]) => i < replicas).sort((a, b) => b[0] - a[0]);
        if (all.every(([, p]) => healthy(p))) {
          const stale = all.find(([i, p]) => i >= partition && p.metadata?.labels?.[HASH] !== hash);
          if (stale) await del(stale[1]);
        }
      }
      const live = [...byOrdinal.values()].filter((p) => !p.metadata?.deletionTimestamp);
      const updated = live.filter((p) => p.metadata?.labels?.[HASH] === hash).length;
      const old = (sts.status ?? {}) as Json;
      const status: Json = {
        ...old,
        observedGeneration: sts.metadata?.generation ?? 0,
        replicas: live.length,
        readyReplicas: live.filter(isPodReady).length,
        availableReplicas: live.filter((p) => isPodAvailable(p, spec.minReadySeconds ?? 0, now)).length,
        currentReplicas: updated === live.length ? live.length : live.length - updated,
        updatedReplicas: updated,
        updateRevision: hash,
        currentRevision: updated === live.length ? hash : (old.currentRevision ?? hash),
        collisionCount: old.collisionCount ?? 0,
      };
      if (!deepEqualJson(old, status)) {
        try {
          await ctx.client.updateStatus(STS, { ...sts, status });
        } catch (e) {
          if (!isReason(e, 'NotFound')) throw e;
        }
      }
      return undefined;
    };
  });
