/**
 * The Deployment controller: owns ReplicaSets, one per pod template (named
 * `<deployment>-<pod-template-hash>`), and moves replicas from old ones to the new one.
 *
 * - RollingUpdate: the new RS grows while all pods stay within `replicas + maxSurge`; old RSes
 *   shrink while available pods stay at least `replicas - maxUnavailable` (available counts
 *   use each RS's reported status, capped by its spec, so stale status never over-counts).
 * - Recreate: old RSes go to 0, and once none of their pods is left the new RS scales up.
 * - Revisions: `deployment.kubernetes.io/revision` on each RS (the new one gets max + 1, so an
 *   old RS brought back by `kubectl rollout undo` becomes the newest revision) and on the
 *   Deployment. Old RSes at 0 beyond `revisionHistoryLimit` are deleted.
 * - `spec.paused` stops rollouts (scaling still applies); status conditions Available and
 *   Progressing (NewReplicaSetAvailable, ReplicaSetUpdated, DeploymentPaused) as upstream, so
 *   `kubectl rollout status|history|undo|pause|resume|restart` work. Without progress (more
 *   updated, ready or available pods, fewer old ones) for `progressDeadlineSeconds` (600),
 *   Progressing turns False with ProgressDeadlineExceeded, and `kubectl rollout status` fails.
 */
import { isReason, type KubeObject } from '../../api/index.ts';
import { eventRecorder, PODS } from '../../client/index.ts';
import { controllerFor } from '../runtime/controller.ts';
import {
  claimObjects,
  controllerRefOf,
  deepEqualJson,
  intOrPercent,
  type Json,
  newControllerRef,
  rfc3339,
  setCondition,
  templateHash,
} from '../runtime/objects.ts';

const RS = { group: 'apps', version: 'v1', resource: 'replicasets' };
const DEPLOY = { group: 'apps', version: 'v1', resource: 'deployments' };
export const REVISION = 'deployment.kubernetes.io/revision';
const DESIRED = 'deployment.kubernetes.io/desired-replicas';
const MAX = 'deployment.kubernetes.io/max-replicas';
const HASH = 'pod-template-hash';
/** Annotations of the Deployment not copied onto its ReplicaSets. */
const SKIP = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION,
  'deployment.kubernetes.io/revision-history',
  DESIRED,
  MAX,
  'deprecated.deployment.rollback.to',
]);

const spec = (o: KubeObject) => (o.spec ?? {}) as Json;
const status = (o: KubeObject) => (o.status ?? {}) as Json;
const replicasOf = (rs: KubeObject) => spec(rs).replicas ?? 0;
const revisionOf = (rs: KubeObject) => Number(rs.metadata?.annotations?.[REVISION] ?? 0) || 0;
const created = (o: KubeObject) => Date.parse(o.metadata?.creationTimestamp ?? '') || 0;

/** The template without the pod-template-hash label, for comparing an RS to the Deployment. */
function bareTemplate(t: Json | undefined): Json {
  const c = structuredClone(t ?? {});
  if (c.metadata?.labels) {
    delete c.metadata.labels[HASH];
    if (!Object.keys(c.metadata.labels).length) delete c.metadata.labels;
  }
  return c;
}

/** maxSurge and maxUnavailable resolved against replicas; never both zero. */
export function fenceposts(d: KubeObject): { maxSurge: number; maxUnavailable: number } {
  const s = spec(d);
  const replicas = s.replicas ?? 1;
  if (s.strategy?.type === 'Recreate') return { maxSurge: 0, maxUnavailable: replicas };
  const ru = s.strategy?.rollingUpdate ?? {};
  const maxSurge = intOrPercent(ru.maxSurge ?? '25%', replicas, true);
  let maxUnavailable = intOrPercent(ru.maxUnavailable ?? '25%', replicas, false);
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable: Math.min(maxUnavailable, replicas) };
}

/** Available pods an RS can be credited with: its status, never more than its spec. */
const available = (rs: KubeObject) => Math.min(status(rs).availableReplicas ?? 0, replicasOf(rs));

export const deploymentController = controllerFor('apps/v1', 'deployments')
  .owns('apps/v1', 'replicasets')
  .watches('v1', 'pods', (pod, ctx) => {
    // Recreate waits for old pods to go: their deletion must wake the Deployment
    if (!pod.metadata?.deletionTimestamp && (pod.status as Json)?.phase !== 'Succeeded') return [];
    const ref = controllerRefOf(pod);
    if (ref?.kind !== 'ReplicaSet') return [];
    const rs = ctx.informers.informerFor(RS).store.get(`${pod.metadata?.namespace}/${ref.name}`);
    const dref = rs && controllerRefOf(rs);
    return dref?.kind === 'Deployment' ? [`${pod.metadata?.namespace}/${dref.name}`] : [];
  })
  .named('deployment')
  .workers(4)
  .complete((ctx) => {
    const deployments = ctx.informers.informerFor(DEPLOY).store;
    const replicaSets = ctx.informers.informerFor(RS).store;
    const pods = ctx.informers.informerFor(PODS).store;
    const client = ctx.client;
    const events = eventRecorder(client, 'deployment-controller', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
    });

    const scaleRS = async (rs: KubeObject, n: number, d: KubeObject, maxSurge: number) => {
      const ann = rs.metadata?.annotations ?? {};
      const desired = String(spec(d).replicas ?? 1);
      const max = String((spec(d).replicas ?? 1) + maxSurge);
      if (replicasOf(rs) === n && ann[DESIRED] === desired && ann[MAX] === max) return rs;
      const next = structuredClone(rs);
      spec(next).replicas = n;
      next.metadata!.annotations = { ...ann, [DESIRED]: desired, [MAX]: max };
      const out = await client.update(RS, next);
      const from = replicasOf(rs);
      if (from !== n)
        events.record(
          d,
          'Normal',
          'ScalingReplicaSet',
          `Scaled ${n > from ? 'up' : 'down'} replica set ${rs.metadata?.name} to ${n} from ${from}`,
        );
      return out;
    };

    return async ({ namespace, name }) => {
      const d = deployments.get(`${namespace}/${name}`);
      if (!d || d.metadata?.deletionTimestamp) return;
      const s = spec(d);
      const replicas = s.replicas ?? 1;
      const all = await claimObjects(
        client,
        RS,
        d,
        { apiVersion: 'apps/v1', kind: 'Deployment' },
        s.selector,
        replicaSets.byIndex('namespace', namespace ?? ''),
      );
      all.sort((a, b) => created(a) - created(b));
      const want = bareTemplate(s.template);
      let newRS = all.find((rs) => deepEqualJson(bareTemplate(spec(rs).template), want));
      const olds = () => all.filter((rs) => rs !== newRS);
      const maxOldRevision = Math.max(0, ...olds().map(revisionOf));
      const newRevision = String(maxOldRevision + 1);
      const { maxSurge, maxUnavailable } = fenceposts(d);

      // the new ReplicaSet: create it, or bring its revision up to date
      if (newRS && revisionOf(newRS) < maxOldRevision + 1 && !s.paused) {
        const next = structuredClone(newRS);
        next.metadata!.annotations = { ...next.metadata?.annotations, [REVISION]: newRevision };
        newRS = await client.update(RS, next);
        all[all.findIndex((x) => x.metadata?.uid === newRS!.metadata?.uid)] = newRS;
      } else if (!newRS && !s.paused) {
        const hash = templateHash(want, status(d).collisionCount ?? 0);
        const template = structuredClone(want);
        template.metadata = {
          ...template.metadata,
          labels: { ...(template.metadata?.labels ?? {}), [HASH]: hash },
        };
        const annotations: Json = {};
        for (const [k, v] of Object.entries(d.metadata?.annotations ?? {}))
          if (!SKIP.has(k)) annotations[k] = v;
        // with Recreate, or with old pods still present, start at what the surge allows
        const current = all.reduce((n, rs) => n + replicasOf(rs), 0);
        let initial =
          s.strategy?.type === 'Recreate'
            ? 0
            : Math.max(0, Math.min(replicas, replicas + maxSurge - current));
        if (!all.length) initial = replicas;
        const rs = {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          metadata: {
            name: `${name}-${hash}`,
            namespace,
            labels: { ...(want.metadata?.labels ?? {}), [HASH]: hash },
            annotations: {
              ...annotations,
              [REVISION]: newRevision,
              [DESIRED]: String(replicas),
              [MAX]: String(replicas + maxSurge),
            },
            ownerReferences: [newControllerRef(d, 'apps/v1', 'Deployment')],
          },
          spec: {
            replicas: initial,
            minReadySeconds: s.minReadySeconds ?? 0,
            selector: {
              ...s.selector,
              matchLabels: { ...(s.selector?.matchLabels ?? {}), [HASH]: hash },
            },
            template,
          },
        };
        try {
          newRS = await client.create(RS, rs);
          all.push(newRS);
          if (initial > 0)
            events.record(
              d,
              'Normal',
              'ScalingReplicaSet',
              `Scaled up replica set ${rs.metadata.name} to ${initial} from 0`,
            );
        } catch (e) {
          if (!isReason(e, 'AlreadyExists')) throw e;
          // a different template under the same hash: bump collisionCount and retry
          const existing = replicaSets.get(`${namespace}/${rs.metadata.name}`);
          if (existing && controllerRefOf(existing)?.uid === d.metadata?.uid) throw e;
          await client.updateStatus(DEPLOY, {
            ...d,
            status: { ...status(d), collisionCount: (status(d).collisionCount ?? 0) + 1 },
          });
          return;
        }
      }

      const active = all.filter((rs) => replicasOf(rs) > 0);
      const scalingEvent = active.some(
        (rs) =>
          rs.metadata?.annotations?.[DESIRED] !== undefined &&
          rs.metadata.annotations[DESIRED] !== String(replicas),
      );
      if (s.paused || scalingEvent) {
        await scale(d, newRS, olds(), maxSurge);
      } else if (s.strategy?.type === 'Recreate') {
        await recreate(d, newRS!, olds());
      } else {
        await rolling(d, newRS!, olds(), maxSurge, maxUnavailable);
      }
      await cleanup(d, olds());
      const rev = newRS?.metadata?.annotations?.[REVISION];
      if (rev && d.metadata?.annotations?.[REVISION] !== rev) {
        const out = await client.patch(
          DEPLOY,
          name,
          { metadata: { annotations: { [REVISION]: rev } } },
          { type: 'merge', namespace },
        );
        const requeue = await syncStatus(out, newRS, all, maxUnavailable);
        return requeue !== undefined ? { requeueAfter: requeue } : undefined;
      }
      const requeue = await syncStatus(d, newRS, all, maxUnavailable);
      return requeue !== undefined ? { requeueAfter: requeue } : undefined;
    };

    async function scale(d: KubeObject, newRS: KubeObject | undefined, olds: KubeObject[], maxSurge: number) {
      const replicas = spec(d).replicas ?? 1;
      const active = [...olds, ...(newRS ? [newRS] : [])].filter((rs) => replicasOf(rs) > 0);
      if (!active.length && newRS) {
        await scaleRS(newRS, replicas, d, maxSurge);
        return;
      }
      if (active.length === 1 || (newRS && active.every((rs) => rs === newRS))) {
        await scaleRS(active[0] ?? newRS, replicas, d, maxSurge);
        return;
      }
      // several active: spread the difference proportionally, the rest to the newest
      const allowed = replicas + maxSurge;
      const current = active.reduce((n, rs) => n + replicasOf(rs), 0);
      let diff = allowed - current;
      const order = [...active].sort((a, b) =>
        diff > 0 ? created(b) - created(a) : created(a) - created(b),
      );
      const targets = new Map(order.map((rs) => [rs, replicasOf(rs)]));
      for (const rs of order) {
        const share = Math.trunc((replicasOf(rs) * (allowed - current)) / Math.max(1, current));
        const n = Math.max(0, replicasOf(rs) + share);
        diff -= n - replicasOf(rs);
        targets.set(rs, n);
      }
      const first = order[0];
      targets.set(first, Math.max(0, targets.get(first)! + diff));
      for (const [rs, n] of targets) await scaleRS(rs, n, d, maxSurge);
    }

    async function recreate(d: KubeObject, newRS: KubeObject, olds: KubeObject[]) {
      const { maxSurge } = fenceposts(d);
      for (const rs of olds) if (replicasOf(rs) > 0) await scaleRS(rs, 0, d, maxSurge);
      const oldUIDs = new Set(olds.map((rs) => rs.metadata?.uid));
      const oldPods = pods.byIndex('namespace', d.metadata?.namespace ?? '').filter((p) => {
        const ref = controllerRefOf(p);
        const phase = (p.status as Json)?.phase;
        return ref && oldUIDs.has(ref.uid) && phase !== 'Succeeded' && phase !== 'Failed';
      });
      if (olds.some((rs) => (status(rs).replicas ?? 0) > 0) || oldPods.length) return;
      await scaleRS(newRS, spec(d).replicas ?? 1, d, maxSurge);
    }

    async function rolling(
      d: KubeObject,
      newRS: KubeObject,
      olds: KubeObject[],
      maxSurge: number,
      maxUnavailable: number,
    ) {
      const replicas = spec(d).replicas ?? 1;
      const all = [newRS, ...olds];
      // grow the new ReplicaSet within the surge
      if (replicasOf(newRS) > replicas) {
        await scaleRS(newRS, replicas, d, maxSurge);
        return;
      }
      if (replicasOf(newRS) < replicas) {
        const current = all.reduce((n, rs) => n + replicasOf(rs), 0);
        const room = replicas + maxSurge - current;
        if (room > 0) {
          await scaleRS(newRS, replicasOf(newRS) + Math.min(room, replicas - replicasOf(newRS)), d, maxSurge);
          return;
        }
      }
      // shrink old ones while enough stay available
      const oldCount = olds.reduce((n, rs) => n + replicasOf(rs), 0);
      if (!oldCount) return;
      const minAvailable = replicas - maxUnavailable;
      const total = all.reduce((n, rs) => n + replicasOf(rs), 0);
      const newUnavailable = replicasOf(newRS) - available(newRS);
      let budget = total - minAvailable - newUnavailable;
      if (budget <= 0) return;
      const byAge = [...olds].sort((a, b) => created(a) - created(b));
      const scaled = new Map<KubeObject, number>();
      // first the old pods that are not available anyway
      for (const rs of byAge) {
        if (budget <= 0) break;
        const unhealthy = replicasOf(rs) - available(rs);
        if (unhealthy <= 0) continue;
        const n = Math.min(unhealthy, budget);
        scaled.set(rs, replicasOf(rs) - n);
        budget -= n;
      }
      // then available ones, keeping minAvailable
      const availableNow = all.reduce((n, rs) => n + available(rs), 0);
      let down = Math.min(budget, availableNow - minAvailable);
      for (const rs of byAge) {
        if (down <= 0) break;
        const cur = scaled.get(rs) ?? replicasOf(rs);
        const n = Math.min(cur, down);
        if (n <= 0) continue;
        scaled.set(rs, cur - n);
        down -= n;
      }
      for (const [rs, n] of scaled) await scaleRS(rs, n, d, maxSurge);
    }

    async function cleanup(d: KubeObject, olds: KubeObject[]) {
      const limit = spec(d).revisionHistoryLimit ?? 10;
      const idle = olds
        .filter(
          (rs) =>
            replicasOf(rs) === 0 &&
            (status(rs).replicas ?? 0) === 0 &&
            (status(rs).observedGeneration ?? 0) >= (rs.metadata?.generation ?? 0) &&
            !rs.metadata?.deletionTimestamp,
        )
        .sort((a, b) => revisionOf(a) - revisionOf(b));
      for (const rs of idle.slice(0, Math.max(0, idle.length - limit))) {
        await client
          .delete(RS, rs.metadata!.name!, {
            namespace: rs.metadata?.namespace,
            preconditions: { uid: rs.metadata?.uid },
          })
          .catch((e) => {
            if (!isReason(e, 'NotFound') && !isReason(e, 'Conflict')) throw e;
          });
      }
    }

    async function syncStatus(
      d: KubeObject,
      newRS: KubeObject | undefined,
      all: KubeObject[],
      maxUnavailable: number,
    ): Promise<number | undefined> {
      const s = spec(d);
      const replicas = s.replicas ?? 1;
      const sum = (f: (rs: KubeObject) => number) => all.reduce((n, rs) => n + f(rs), 0);
      const total = sum((rs) => status(rs).replicas ?? 0);
      const avail = sum((rs) => status(rs).availableReplicas ?? 0);
      const updated = newRS ? (status(newRS).replicas ?? 0) : 0;
      const old = status(d);
      const next: Json = {
        ...old,
        observedGeneration: d.metadata?.generation ?? 0,
        replicas: total,
        updatedReplicas: updated,
        readyReplicas: sum((rs) => status(rs).readyReplicas ?? 0),
        availableReplicas: avail,
        unavailableReplicas: Math.max(0, replicas - avail),
      };
      for (const k of [
        'replicas',
        'updatedReplicas',
        'readyReplicas',
        'availableReplicas',
        'unavailableReplicas',
      ])
        if (!next[k]) delete next[k];
      const now = ctx.now();
      let requeue: number | undefined;
      let conds: Json[] = old.conditions ?? [];
      conds = setCondition(
        conds,
        avail >= replicas - maxUnavailable
          ? {
              type: 'Available',
              status: 'True',
              reason: 'MinimumReplicasAvailable',
              message: 'Deployment has minimum availability.',
              lastUpdateTime: '',
            }
          : {
              type: 'Available',
              status: 'False',
              reason: 'MinimumReplicasUnavailable',
              message: 'Deployment does not have minimum availability.',
              lastUpdateTime: '',
            },
        now,
      );
      const rsName = newRS?.metadata?.name ?? '';
      const complete =
        newRS &&
        updated === replicas &&
        avail === replicas &&
        total === replicas &&
        (status(newRS).availableReplicas ?? 0) >= replicas;
      if (s.paused) {
        conds = setCondition(
          conds,
          {
            type: 'Progressing',
            status: 'Unknown',
            reason: 'DeploymentPaused',
            message: 'Deployment is paused',
            lastUpdateTime: '',
          },
          now,
        );
      } else if (complete) {
        conds = setCondition(
          conds,
          {
            type: 'Progressing',
            status: 'True',
            reason: 'NewReplicaSetAvailable',
            message: `ReplicaSet "${rsName}" has successfully progressed.`,
            lastUpdateTime: '',
          },
          now,
        );
      } else if (newRS && isProgressDeadlineExceeded(old, next, s, now)) {
        conds = setCondition(
          conds,
          {
            type: 'Progressing',
            status: 'False',
            reason: 'ProgressDeadlineExceeded',
            message: `ReplicaSet "${rsName}" has timed out progressing.`,
            lastUpdateTime: '',
          },
          now,
        );
      } else if (newRS) {
        const reason = old.conditions?.find((c: Json) => c.type === 'Progressing')?.reason;
        const msg =
          reason === 'NewReplicaSetCreated' || !reason
            ? `Created new replica set "${rsName}"`
            : `ReplicaSet "${rsName}" is progressing.`;
        conds = setCondition(
          conds,
          {
            type: 'Progressing',
            status: 'True',
            reason: reason === undefined ? 'NewReplicaSetCreated' : 'ReplicaSetUpdated',
            message: msg,
            lastUpdateTime: '',
          },
          now,
        );
        // progress restarts the deadline
        if (progressed(old, next))
          conds = conds.map((c) => (c.type === 'Progressing' ? { ...c, lastUpdateTime: rfc3339(now) } : c));
        const p = conds.find((c) => c.type === 'Progressing');
        const deadline = s.progressDeadlineSeconds ?? 600;
        if (p?.status === 'True' && deadline < 2_147_483_647)
          requeue = Math.max(100, (Date.parse(p.lastUpdateTime ?? '') || now) + deadline * 1000 - now + 50);
      }
      next.conditions = conds;
      if (deepEqualJson(old, next)) return requeue;
      try {
        await client.updateStatus(DEPLOY, { ...d, status: next });
      } catch (e) {
        if (!isReason(e, 'NotFound')) throw e;
      }
      return requeue;
    }
  });

/** Did the rollout move since the last status: more updated, ready or available pods, fewer old ones? */
function progressed(old: Json, next: Json): boolean {
  const n = (o: Json, k: string) => (o[k] as number | undefined) ?? 0;
  return (
    n(next, 'updatedReplicas') > n(old, 'updatedReplicas') ||
    n(next, 'readyReplicas') > n(old, 'readyReplicas') ||
    n(next, 'availableReplicas') > n(old, 'availableReplicas') ||
    n(next, 'replicas') - n(next, 'updatedReplicas') < n(old, 'replicas') - n(old, 'updatedReplicas')
  );
}

/** Progressing for longer than progressDeadlineSeconds without progress (or already timed out). */
function isProgressDeadlineExceeded(old: Json, next: Json, s: Json, now: number): boolean {
  const p = ((old.conditions ?? []) as Json[]).find((c) => c.type === 'Progressing');
  if (!p) return false;
  if (p.reason === 'ProgressDeadlineExceeded') return !progressed(old, next);
  if (p.status !== 'True' || p.reason === 'NewReplicaSetAvailable' || progressed(old, next)) return false;
  const deadline = s.progressDeadlineSeconds ?? 600;
  const since = Date.parse(p.lastUpdateTime ?? '');
  return !Number.isNaN(since) && since + deadline * 1000 <= now;
}
