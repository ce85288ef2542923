/**
 * The CronJob controller: creates a Job (`<cronjob>-<minutes since epoch>`, annotated with
 * `batch.kubernetes.io/cronjob-scheduled-timestamp`) at each scheduled time, using the
 * manager's clock (injectable for tests).
 *
 * Only the most recent missed time is run; one older than `startingDeadlineSeconds` is
 * skipped. concurrencyPolicy Allow runs alongside, Forbid skips while a Job is active, Replace
 * deletes the active Jobs first. `suspend` stops new runs. Finished Jobs beyond
 * successfulJobsHistoryLimit (3) / failedJobsHistoryLimit (1) are deleted, oldest first.
 * Status: `active` (references), `lastScheduleTime`, `lastSuccessfulTime`.
 */
import { isReason, type KubeObject } from '../../api/index.ts';
import { eventRecorder } from '../../client/index.ts';
import { isJobFinished } from '../job/index.ts';
import { controllerFor } from '../runtime/controller.ts';
import {
  controllerRefOf,
  deepEqualJson,
  ignoreNotFound,
  type Json,
  newControllerRef,
  rfc3339,
} from '../runtime/objects.ts';
import { mostRecent, nextTime, parseSchedule } from './schedule.ts';

const CRONJOBS = { group: 'batch', version: 'v1', resource: 'cronjobs' };
const JOBS = { group: 'batch', version: 'v1', resource: 'jobs' };
export const SCHEDULED_TIMESTAMP = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

export { mostRecent, nextTime, parseSchedule, type Schedule } from './schedule.ts';

export const cronJobController = controllerFor('batch/v1', 'cronjobs')
  .owns('batch/v1', 'jobs')
  .named('cronjob')
  .complete((ctx) => {
    const cronJobs = ctx.informers.informerFor(CRONJOBS).store;
    const jobs = ctx.informers.informerFor(JOBS).store;
    const events = eventRecorder(ctx.client, 'cronjob-controller', {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
    });
    // finished Jobs already reported, by uid
    const sawCompleted = new Set<string>();
    return async ({ namespace, name }) => {
      const cj = cronJobs.get(`${namespace}/${name}`);
      if (!cj || cj.metadata?.deletionTimestamp) return;
      const spec = (cj.spec ?? {}) as Json;
      const old = (cj.status ?? {}) as Json;
      const now = ctx.now();
      const owned = jobs
        .byIndex('namespace', namespace ?? '')
        .filter((j) => controllerRefOf(j)?.uid === cj.metadata?.uid);
      const status: Json = { ...old };
      const finishedAt = (j: KubeObject) =>
        Date.parse(((j.status as Json)?.completionTime as string) ?? '') || 0;
      const active = owned.filter((j) => !isJobFinished(j) && !j.metadata?.deletionTimestamp);
      for (const j of owned) {
        const fin = isJobFinished(j);
        if (fin && j.metadata?.uid && !sawCompleted.has(j.metadata.uid)) {
          sawCompleted.add(j.metadata.uid);
          // only a Job still listed as active is news (the controller restarting is not)
          if ((old.active ?? []).some((r: Json) => r.uid === j.metadata?.uid))
            events.record(
              cj,
              'Normal',
              'SawCompletedJob',
              `Saw completed job: ${j.metadata.name}, status: ${fin}`,
            );
        }
        if (fin === 'Complete') {
          const t = finishedAt(j);
          if (t && t > (Date.parse(status.lastSuccessfulTime ?? '') || 0))
            status.lastSuccessfulTime = rfc3339(t);
        }
      }
      // history limits
      const prune = async (kind: 'Complete' | 'Failed', limit: number) => {
        const done = owned
          .filter((j) => isJobFinished(j) === kind && !j.metadata?.deletionTimestamp)
          .sort(
            (a, b) =>
              (Date.parse(a.metadata?.creationTimestamp ?? '') || 0) -
              (Date.parse(b.metadata?.creationTimestamp ?? '') || 0),
          );
        for (const j of done.slice(0, Math.max(0, done.length - limit))) {
          await ignoreNotFound(
            ctx.client.delete(JOBS, j.metadata!.name!, { namespace, propagationPolicy: 'Background' }),
          );
          sawCompleted.delete(j.metadata?.uid ?? '');
          events.record(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${j.metadata?.name}`);
        }
      };
      await prune('Complete', spec.successfulJobsHistoryLimit ?? 3);
      await prune('Failed', spec.failedJobsHistoryLimit ?? 1);

      let schedule: ReturnType<typeof parseSchedule>;
      try {
        schedule = parseSchedule(spec.schedule ?? '');
      } catch (e) {
        ctx.log(`cronjob ${namespace}/${name}: unparseable schedule: ${(e as Error).message}`);
        return;
      }
      let requeue: number | undefined;
      const since = Date.parse(old.lastScheduleTime ?? cj.metadata?.creationTimestamp ?? '') || now;
      const { time } = mostRecent(schedule, since, now);
      const deadline = spec.startingDeadlineSeconds;
      const tooLate = time !== undefined && typeof deadline === 'number' && time + deadline * 1000 < now;
      if (time !== undefined && !spec.suspend && !tooLate) {
        let run = true;
        if (active.length && spec.concurrencyPolicy === 'Forbid') run = false;
        if (active.length && spec.concurrencyPolicy === 'Replace') {
          for (const j of active) {
            await ignoreNotFound(
              ctx.client.delete(JOBS, j.metadata!.name!, { namespace, propagationPolicy: 'Background' }),
            );
            events.record(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${j.metadata?.name}`);
          }
          active.length = 0;
        }
        if (run) {
          const tmpl = (spec.jobTemplate ?? {}) as Json;
          const job = {
            apiVersion: 'batch/v1',
            kind: 'Job',
            metadata: {
              name: `${name}-${Math.floor(time / 60_000)}`,
              namespace,
              labels: { ...(tmpl.metadata?.labels ?? {}) },
              annotations: {
                ...(tmpl.metadata?.annotations ?? {}),
                [SCHEDULED_TIMESTAMP]: new Date(time).toISOString().replace(/\.\d+Z$/, 'Z'),
              },
              ownerReferences: [newControllerRef(cj, 'batch/v1', 'CronJob')],
            },
            spec: structuredClone(tmpl.spec ?? {}),
          };
          try {
            const created = await ctx.client.create(JOBS, job);
            active.push(created);
            events.record(cj, 'Normal', 'SuccessfulCreate', `Created job ${job.metadata.name}`);
          } catch (e) {
            if (!isReason(e, 'AlreadyExists')) throw e;
          }
          status.lastScheduleTime = rfc3339(time);
        } else {
          // Forbid: look again soon, the missed time stays pending until the active Job ends
          requeue = 1000;
        }
      } else if (time !== undefined && (tooLate || spec.suspend)) {
        status.lastScheduleTime = old.lastScheduleTime;
      }
      status.active = active.length
        ? active.map((j) => ({
            apiVersion: 'batch/v1',
            kind: 'Job',
            name: j.metadata?.name,
            namespace,
            uid: j.metadata?.uid,
            resourceVersion: j.metadata?.resourceVersion,
          }))
        : undefined;
      for (const k of Object.keys(status)) if (status[k] === undefined) delete status[k];
      if (!deepEqualJson(old, status)) {
        try {
          await ctx.client.updateStatus(CRONJOBS, { ...cj, status });
        } catch (e) {
          if (!isReason(e, 'NotFound')) throw e;
        }
      }
      const next = nextTime(schedule, now);
      if (next !== undefined) requeue = Math.min(requeue ?? Number.POSITIVE_INFINITY, next - now + 10);
      return requeue !== undefined ? { requeueAfter: requeue } : undefined;
    };
  });
