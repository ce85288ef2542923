/**
 * The Job controller: runs pods until `completions` succeed (or, without completions, until
 * one succeeds and the rest finish), `parallelism` at a time.
 *
 * Failed pods count toward `backoffLimit` (default 6); passing it, or running longer than
 * `activeDeadlineSeconds`, fails the Job (conditions FailureTarget then Failed, reasons
 * BackoffLimitExceeded / DeadlineExceeded) and deletes its active pods. Success adds
 * SuccessCriteriaMet then Complete and sets completionTime. A finished Job with
 * `ttlSecondsAfterFinished` is deleted (background propagation) that long after it finished.
 *
 * Counts come from the pods the Job owns (no tracking finalizers): a terminated pod removed
 * by someone else no longer counts. A failed pod is replaced after a back-off (10 s doubling per
 * failure, capped at 6 min; `options.job.backoffBaseMs` / `backoffMaxMs` change it).
 */
import { isReason, type KubeObject } from '../../api/index.ts';
import { eventRecorder, PODS } from '../../client/index.ts';
import { controllerFor } from '../runtime/controller.ts';
import { Expectations, observeOwnedPods } from '../runtime/expectations.ts';
import {
  claimObjects,
  createPodFor,
  deepEqualJson,
  ignoreNotFound,
  isPodActive,
  isPodReady,
  type Json,
  newControllerRef,
  podFromTemplate,
  podPhase,
  rfc3339,
} from '../runtime/objects.ts';

const JOBS = { group: 'batch', version: 'v1', resource: 'jobs' };

export function isJobFinished(job: KubeObject): 'Complete' | 'Failed' | undefined {
  for (const c of ((job.status as Json)?.conditions ?? []) as Json[])
    if ((c.type === 'Complete' || c.type === 'Failed') && c.status === 'True') return c.type;
  return undefined;
}

export const jobController = controllerFor('batch/v1', 'jobs')
  .owns('v1', 'pods')
  .named('job')
  .workers(4)
  .complete((ctx) => {
    const jobs = ctx.informers.informerFor(JOBS).store;
    const pods = ctx.informers.informerFor(PODS);
    const exp = new Expectations({ now: ctx.now });
    const events = eventRecorder(ctx.client, 'job-controller', { apiVersion: 'batch/v1', kind: 'Job' });
    pods.addEventHandler(observeOwnedPods(exp, 'Job'));

    return async ({ namespace, name }) => {
      const key = `${namespace}/${name}`;
      const job = jobs.get(key);
      if (!job) {
        exp.forget(key);
        return;
      }
      const spec = (job.spec ?? {}) as Json;
      const old = (job.status ?? {}) as Json;
      const now = ctx.now();
      const finished = isJobFinished(job);
      if (finished) {
        const ttl = spec.ttlSecondsAfterFinished;
        if (typeof ttl !== 'number') return;
        const at = (Date.parse(old.completionTime ?? '') || now) + ttl * 1000;
        if (at > now) return { requeueAfter: at - now };
        await ignoreNotFound(ctx.client.delete(JOBS, name, { namespace, propagationPolicy: 'Background' }));
        return;
      }
      const selector = spec.selector ?? {
        matchLabels: { 'batch.kubernetes.io/controller-uid': job.metadata?.uid },
      };
      const owned = await claimObjects(
        ctx.client,
        PODS,
        job,
        { apiVersion: 'batch/v1', kind: 'Job' },
        selector,
        pods.store.byIndex('namespace', namespace ?? ''),
      );
      const active = owned.filter(isPodActive);
      const succeeded = owned.filter((p) => podPhase(p) === 'Succeeded').length;
      const failed = owned.filter((p) => podPhase(p) === 'Failed').length;
      const status: Json = { ...old };
      const startTime = old.startTime ?? (spec.suspend ? undefined : rfc3339(now));
      if (startTime) status.startTime = startTime;
      let conds: Json[] = [...(old.conditions ?? [])];
      const cond = (type: string, reason: string, message: string) => {
        conds = conds.filter((c) => c.type !== type);
        conds.push({
          type,
          status: 'True',
          reason,
          message,
          lastProbeTime: rfc3339(now),
          lastTransitionTime: rfc3339(now),
        });
      };
      const completions = spec.completions as number | undefined;
      const parallelism = spec.parallelism ?? 1;
      const backoffLimit = spec.backoffLimit ?? 6;
      let requeue: number | undefined;
      let failure: [string, string] | undefined;
      // written once the finished status is stored (a stale cache may see it finish twice)
      let finishEvent: ['Normal' | 'Warning', string, string] | undefined;
      if (failed > backoffLimit)
        failure = ['BackoffLimitExceeded', 'Job has reached the specified backoff limit'];
      const deadline = spec.activeDeadlineSeconds;
      if (!failure && typeof deadline === 'number' && startTime) {
        const end = Date.parse(startTime) + deadline * 1000;
        if (end <= now) failure = ['DeadlineExceeded', 'Job was active longer than specified deadline'];
        else requeue = end - now;
      }
      const complete =
        completions !== undefined ? succeeded >= completions : succeeded > 0 && active.length === 0;
      if (failure) {
        await Promise.all(
          active.map((p) => ignoreNotFound(ctx.client.delete(PODS, p.metadata!.name!, { namespace }))),
        );
        for (const p of active)
          events.record(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata?.name}`);
        cond('FailureTarget', ...failure);
        cond('Failed', ...failure);
        finishEvent = ['Warning', failure[0], failure[1]];
        requeue = undefined;
      } else if (complete) {
        cond('SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods');
        cond('Complete', 'CompletionsReached', 'Reached expected number of succeeded pods');
        status.completionTime = rfc3339(now);
        finishEvent = ['Normal', 'Completed', 'Job completed'];
        if (typeof spec.ttlSecondsAfterFinished === 'number') requeue = spec.ttlSecondsAfterFinished * 1000;
      } else if (!spec.suspend && exp.satisfied(key)) {
        let want =
          completions !== undefined
            ? Math.min(completions - succeeded, parallelism)
            : succeeded > 0
              ? 0
              : parallelism;
        want = Math.max(0, want);
        let diff = want - active.length;
        // back-off before replacing failed pods: base doubling per failure, capped
        const wait = failed > 0 ? backoffWait(owned, failed, now, ctx.options.job ?? {}) : 0;
        if (diff > 0 && wait > 0) {
          requeue = Math.min(requeue ?? Number.POSITIVE_INFINITY, wait);
          diff = 0;
        }
        if (diff > 0) {
          exp.expectCreations(key, diff);
          const ref = newControllerRef(job, 'batch/v1', 'Job');
          const labels = {
            'batch.kubernetes.io/controller-uid': job.metadata!.uid!,
            'controller-uid': job.metadata!.uid!,
            'batch.kubernetes.io/job-name': name,
            'job-name': name,
          };
          const results = await Promise.allSettled(
            Array.from({ length: diff }, () =>
              createPodFor(
                ctx.client,
                events,
                job,
                podFromTemplate(spec.template ?? {}, job, ref, { labels }),
              ),
            ),
          );
          const bad = results.filter((r) => r.status === 'rejected' || r.value === undefined).length;
          if (bad) exp.lowerCreations(key, bad);
          const err = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
          if (err) throw err.reason;
        } else if (diff < 0) {
          const victims = active.slice(0, -diff);
          exp.expectDeletions(
            key,
            victims.map((p) => p.metadata!.uid!),
          );
          await Promise.all(
            victims.map(async (p) => {
              await ignoreNotFound(ctx.client.delete(PODS, p.metadata!.name!, { namespace }));
              events.record(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata?.name}`);
            }),
          );
        }
      }
      if (spec.suspend)
        conds = conds
          .filter((c) => c.type !== 'Suspended')
          .concat([
            {
              type: 'Suspended',
              status: 'True',
              reason: 'JobSuspended',
              message: 'Job suspended',
              lastProbeTime: rfc3339(now),
              lastTransitionTime: rfc3339(now),
            },
          ]);
      status.conditions = conds.length ? conds : undefined;
      status.active = failure || complete ? 0 : active.length;
      status.ready = failure || complete ? 0 : active.filter(isPodReady).length;
      status.succeeded = succeeded;
      status.failed = failed;
      status.uncountedTerminatedPods = {};
      for (const k of Object.keys(status)) if (status[k] === undefined || status[k] === 0) delete status[k];
      if (status.ready === undefined) status.ready = 0;
      if (!deepEqualJson(old, status)) {
        try {
          await ctx.client.updateStatus(JOBS, { ...job, status });
          if (finishEvent) events.record(job, ...finishEvent);
        } catch (e) {
          if (!isReason(e, 'NotFound')) throw e;
        }
      }
      return requeue !== undefined ? { requeueAfter: requeue } : undefined;
    };
  });

/** When the pod finished: its latest container finish time, else its last condition change. */
function finishedAt(p: KubeObject): number {
  const st = (p.status ?? {}) as Json;
  const times = [
    ...((st.containerStatuses ?? []) as Json[]).map((c) => c.state?.terminated?.finishedAt),
    ...((st.conditions ?? []) as Json[]).map((c) => c.lastTransitionTime),
  ]
    .map((t) => Date.parse(t ?? ''))
    .filter((t) => !Number.isNaN(t));
  return times.length ? Math.max(...times) : Date.parse(p.metadata?.creationTimestamp ?? '') || 0;
}

/**
 * Milliseconds still to wait before a replacement pod, as upstream: `backoffBaseMs` (10 s)
 * doubled for each failure after the first, capped at `backoffMaxMs` (6 min), counted from the
 * latest failure. Options: `options.job.backoffBaseMs`, `options.job.backoffMaxMs`.
 */
export function backoffWait(
  pods: KubeObject[],
  failed: number,
  now: number,
  opts: Record<string, unknown>,
): number {
  const base = Number(opts.backoffBaseMs ?? 10_000);
  const max = Number(opts.backoffMaxMs ?? 360_000);
  const last = Math.max(0, ...pods.filter((p) => podPhase(p) === 'Failed').map(finishedAt));
  const delay = Math.min(max, base * 2 ** Math.min(30, failed - 1));
  return Math.max(0, last + delay - now);
}
