/**
 * The StatefulSet controller: pods with stable names `<set>-<ordinal>` and their own
 * PersistentVolumeClaims `<template>-<set>-<ordinal>` from volumeClaimTemplates.
 *
 * OrderedReady (the default) creates ordinals 0..n-1 one at a time, each only once all lower
 * ones are Running and Ready, and removes surplus ones from the highest down, one at a time.
 * Parallel creates and deletes all at once. RollingUpdate replaces pods whose
 * `controller-revision-hash` differs from the template's, from the highest ordinal down
 * (stopping at `partition`), one at a time and only while every other pod is ready.
 * Below the partition, a missing pod is recreated at `status.currentRevision`. Templates are
 * kept as ControllerRevisions (pods labelled with the revision's name), so `kubectl rollout
 * history|undo|status` work. persistentVolumeClaimRetentionPolicy: whenDeleted Delete gives the
 * claims an ownerReference to the set, whenScaled Delete gives a condemned ordinal's claims one
 * to its pod only; the garbage collector then removes them (Retain, the default, keeps them).
 */
import { isReason, type KubeObject } from '../../api/index.ts';
import { eventRecorder, PODS } from '../../client/index.ts';
import { controllerFor } from '../runtime/controller.ts';
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
} from '../runtime/objects.ts';
import { CONTROLLER_REVISIONS, pruneRevisions, syncRevisions } from '../runtime/revisions.ts';

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
  .owns('apps/v1', 'controllerrevisions')
  .named('statefulset')
  .complete((ctx) => {
    const sets = ctx.informers.informerFor(STS).store;
    const pods = ctx.informers.informerFor(PODS).store;
    const claims = ctx.informers.informerFor(PVCS).store;
    const revisions = ctx.informers.informerFor(CONTROLLER_REVISIONS).store;
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
      const revs = await syncRevisions(
        ctx.client,
        sts,
        { apiVersion: 'apps/v1', kind: 'StatefulSet' },
        revisions.byIndex('namespace', namespace ?? ''),
      );
      const hash = revs.update.metadata!.name!;
      const oldStatus = (sts.status ?? {}) as Json;
      const currentName: string = oldStatus.currentRevision ?? hash;
      const currentRev = revs.all.find((r) => r.metadata?.name === currentName);
      const currentTemplate = currentRev
        ? { ...((currentRev as Json).data?.spec?.template ?? {}) }
        : undefined;
      if (currentTemplate) delete currentTemplate.$patch;
      const rolling = (spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
      const partition: number = rolling ? (spec.updateStrategy?.rollingUpdate?.partition ?? 0) : 0;
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
      const retention = (spec.persistentVolumeClaimRetentionPolicy ?? {}) as Json;
      const setRef = { apiVersion: 'apps/v1', kind: 'StatefulSet', name, uid: sts.metadata!.uid! };
      // claim owners per retention policy: the set (whenDeleted Delete), or for a condemned
      // ordinal the pod alone (whenScaled Delete), so the garbage collector removes the claim
      const syncClaimOwners = async () => {
        for (const t of (spec.volumeClaimTemplates ?? []) as Json[]) {
          const prefix = `${t.metadata?.name}-${name}-`;
          for (const claim of claims.byIndex('namespace', namespace ?? '')) {
            const cn = claim.metadata?.name ?? '';
            if (!cn.startsWith(prefix) || !/^\d+$/.test(cn.slice(prefix.length))) continue;
            const i = Number(cn.slice(prefix.length));
            const pod = byOrdinal.get(i);
            const refs = (claim.metadata?.ownerReferences ?? []).filter(
              (r) => r.uid !== sts.metadata?.uid && !(r.kind === 'Pod' && r.name === `${name}-${i}`),
            );
            if (i >= replicas && retention.whenScaled === 'Delete') {
              if (pod)
                refs.push({
                  apiVersion: 'v1',
                  kind: 'Pod',
                  name: pod.metadata!.name!,
                  uid: pod.metadata!.uid!,
                });
              else if (retention.whenDeleted === 'Delete') refs.push(setRef);
            } else if (retention.whenDeleted === 'Delete') refs.push(setRef);
            if (deepEqualJson(refs, claim.metadata?.ownerReferences ?? [])) continue;
            await ignoreNotFound(
              ctx.client.patch(
                PVCS,
                cn,
                [
                  { op: 'test', path: '/metadata/uid', value: claim.metadata?.uid },
                  { op: 'replace', path: '/metadata/ownerReferences', value: refs },
                ],
                { type: 'json', namespace },
              ),
            );
          }
        }
      };
      const makePod = async (i: number) => {
        for (const t of (spec.volumeClaimTemplates ?? []) as Json[]) {
          const claim = {
            apiVersion: 'v1',
            kind: 'PersistentVolumeClaim',
            metadata: {
              name: `${t.metadata?.name}-${name}-${i}`,
              namespace,
              labels: { ...(spec.selector?.matchLabels ?? {}), ...(t.metadata?.labels ?? {}) },
              ownerReferences: retention.whenDeleted === 'Delete' ? [setRef] : undefined,
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
        // below the partition, pods are made at the current revision
        const atCurrent = i < partition && currentTemplate !== undefined && currentName !== hash;
        const pod = podFromTemplate((atCurrent ? currentTemplate : spec.template) ?? {}, sts, ref, {
          name: `${name}-${i}`,
          labels: {
            [HASH]: atCurrent ? currentName : hash,
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
      await syncClaimOwners();
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
        const all = [...byOrdinal.entries()].filter(([i]) => i < replicas).sort((a, b) => b[0] - a[0]);
        if (all.every(([, p]) => healthy(p))) {
          const stale = all.find(([i, p]) => i >= partition && p.metadata?.labels?.[HASH] !== hash);
          if (stale) await del(stale[1]);
        }
      }
      const live = [...byOrdinal.values()].filter((p) => !p.metadata?.deletionTimestamp);
      const updated = live.filter((p) => p.metadata?.labels?.[HASH] === hash).length;
      const ready = live.filter(isPodReady).length;
      const old = oldStatus;
      // the rollout is complete once every replica is at the update revision and ready
      const done = updated === replicas && live.length === replicas && ready === replicas;
      const currentRevision =
        done || !revs.all.some((r) => r.metadata?.name === currentName) ? hash : currentName;
      const status: Json = {
        ...old,
        observedGeneration: sts.metadata?.generation ?? 0,
        replicas: live.length,
        readyReplicas: ready,
        availableReplicas: live.filter((p) => isPodAvailable(p, spec.minReadySeconds ?? 0, now)).length,
        currentReplicas: live.filter((p) => p.metadata?.labels?.[HASH] === currentRevision).length,
        updatedReplicas: updated,
        updateRevision: hash,
        currentRevision,
        collisionCount: revs.collisionCount,
      };
      const inUse = new Set([currentRevision, ...live.map((p) => p.metadata?.labels?.[HASH] ?? '')]);
      await pruneRevisions(ctx.client, revs, inUse, spec.revisionHistoryLimit ?? 10);
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
