/** batch/v1 Job and CronJob. */

import { child, defaultPodTemplate, dflt } from '../defaults/pod.ts';
import type { StatusCause } from '../errors.ts';
import {
  ageColumn,
  col,
  humanDuration,
  nameColumn,
  podTemplateCells,
  podTemplateColumns,
  since,
} from '../printers/format.ts';
import type { KubeObject } from '../resource.ts';
import { deepEqual, immutable, invalid, nonNegative, notSupported, required } from '../validation/causes.ts';
import { oneOf } from '../validation/meta.ts';
import { isDNS1123Subdomain, maxLenError } from '../validation/names.ts';
import { validatePodTemplate } from '../validation/pod.ts';
import { defineKind, field } from './define.ts';
import { immutableSelector, validateSelectorAndTemplate } from './workload.ts';

type Json = Record<string, any>;

export function defaultJobSpec(s: Json): void {
  if (s.completions === undefined && s.parallelism === undefined) {
    s.completions = 1;
    s.parallelism = 1;
  }
  dflt(s, 'parallelism', 1);
  dflt(s, 'backoffLimit', 6);
  dflt(s, 'completionMode', 'NonIndexed');
  dflt(s, 'suspend', false);
  if (!s.podFailurePolicy) dflt(s, 'podReplacementPolicy', 'TerminatingOrFailed');
  defaultPodTemplate(s.template);
}

/**
 * The selector and labels Kubernetes generates for a job: they name the job's UID, so they
 * can only be set once the object has one. Idempotent.
 */
export function generateJobSelector(job: KubeObject): void {
  const s = child(job, 'spec');
  const uid = job.metadata?.uid;
  const name = job.metadata?.name;
  if (s.manualSelector === true || !uid || !name) return;
  const tpl = child(s, 'template');
  const meta = child(tpl, 'metadata');
  meta.labels = {
    ...meta.labels,
    'batch.kubernetes.io/controller-uid': uid,
    'batch.kubernetes.io/job-name': name,
    'controller-uid': uid,
    'job-name': name,
  };
  s.selector ??= { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
}

function validateJobSpec(s: Json, path: string, needSelector: boolean): StatusCause[] {
  const causes: StatusCause[] = [];
  for (const f of [
    'parallelism',
    'completions',
    'backoffLimit',
    'activeDeadlineSeconds',
    'ttlSecondsAfterFinished',
  ]) {
    causes.push(...nonNegative(`${path}.${f}`, s[f]));
  }
  if (typeof s.activeDeadlineSeconds === 'number' && s.activeDeadlineSeconds === 0) {
    causes.push(invalid(`${path}.activeDeadlineSeconds`, 0, 'must be greater than 0'));
  }
  causes.push(...oneOf(`${path}.completionMode`, s.completionMode, ['NonIndexed', 'Indexed']));
  if (s.completionMode === 'Indexed' && s.completions === undefined) {
    causes.push(required(`${path}.completions`, 'when completion mode is Indexed'));
  }
  if (needSelector && s.selector) {
    causes.push(...validateSelectorAndTemplate(s, { kind: 'job' }).map((c) => prefix(c, path)));
  } else {
    causes.push(...validatePodTemplate(s.template, `${path}.template`));
  }
  const rp = s.template?.spec?.restartPolicy;
  if (rp !== undefined && rp !== 'OnFailure' && rp !== 'Never') {
    causes.push(notSupported(`${path}.template.spec.restartPolicy`, rp, ['OnFailure', 'Never']));
  }
  return causes;
}

function prefix(c: StatusCause, path: string): StatusCause {
  return path === 'spec' ? c : { ...c, field: c.field?.replace(/^spec/, path) };
}

export const job = defineKind({
  group: 'batch',
  version: 'v1',
  kind: 'Job',
  plural: 'jobs',
  namespaced: true,
  categories: ['all'],
  status: true,
  tracksGeneration: true,
  selectableFields: { 'status.successful': field('status.succeeded', '0') },
  defaults(obj) {
    const s = child(obj, 'spec');
    defaultJobSpec(s);
    generateJobSelector(obj);
  },
  validate: (obj) => validateJobSpec((obj.spec ?? {}) as Json, 'spec', true),
  validateUpdate(obj, old) {
    const s = (obj.spec ?? {}) as Json;
    const o = (old.spec ?? {}) as Json;
    const causes = [
      ...immutableSelector(s, o),
      ...immutable('spec.completionMode', s.completionMode, o.completionMode),
    ];
    if (s.completionMode !== 'Indexed' || o.completions === undefined) {
      causes.push(...immutable('spec.completions', s.completions, o.completions));
    }
    // A suspended job that never started may change its scheduling directives; keep it simple: template is immutable.
    if (!deepEqual(s.template, o.template) && !(o.suspend && s.suspend)) {
      causes.push(invalid('spec.template', s.template, 'field is immutable'));
    }
    return causes;
  },
  table: {
    columns: [
      nameColumn,
      col('Status', 'string', 'The status of the job.'),
      col('Completions', 'string', 'Successful pods of the desired completions.'),
      col('Duration', 'string', 'How long the job ran.'),
      ageColumn,
      ...podTemplateColumns,
    ],
    row(obj, now) {
      const s = (obj.spec ?? {}) as Json;
      const st = (obj.status ?? {}) as Json;
      const succeeded = st.succeeded ?? 0;
      let completions: string;
      if (s.completions !== undefined && s.completions !== null)
        completions = `${succeeded}/${s.completions}`;
      else completions = (s.parallelism ?? 0) > 1 ? `${succeeded}/1 of ${s.parallelism}` : `${succeeded}/1`;
      let duration = '';
      if (st.startTime) {
        const end = st.completionTime ? Date.parse(st.completionTime) : now.getTime();
        duration = humanDuration(end - Date.parse(st.startTime));
      }
      return [
        obj.metadata?.name,
        jobStatus(obj),
        completions,
        duration,
        since(obj.metadata?.creationTimestamp, now),
        ...podTemplateCells(s.template, s.selector),
      ];
    },
  },
});

function jobStatus(obj: KubeObject): string {
  const conds: Json[] = (obj.status as Json)?.conditions ?? [];
  const has = (t: string) => conds.some((c) => c.type === t && c.status === 'True');
  if (has('Complete')) return 'Complete';
  if (has('Failed')) return 'Failed';
  if (obj.metadata?.deletionTimestamp) return 'Terminating';
  if (has('Suspended')) return 'Suspended';
  if (has('FailureTarget')) return 'FailureTarget';
  if (has('SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  return 'Running';
}

const CRON_FIELD =
  /^(\*|\?|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(\/\d+)?(,(\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(\/\d+)?)*$/;

/** A five-field cron expression or a `@hourly`-style macro. */
export function isCronSchedule(s: string): boolean {
  const t = s.trim().replace(/^(TZ|CRON_TZ)=\S+\s+/, '');
  if (/^@(yearly|annually|monthly|weekly|daily|midnight|hourly)$/.test(t)) return true;
  if (/^@every\s+\S+$/.test(t)) return true;
  const fields = t.split(/\s+/);
  return fields.length === 5 && fields.every((f) => CRON_FIELD.test(f));
}

export const cronJob = defineKind({
  group: 'batch',
  version: 'v1',
  kind: 'CronJob',
  plural: 'cronjobs',
  namespaced: true,
  shortNames: ['cj'],
  categories: ['all'],
  status: true,
  tracksGeneration: true,
  // The name plus an 11-character suffix must fit a job name label.
  name: (n) => (n.length > 52 ? [maxLenError(52)] : isDNS1123Subdomain(n)),
  defaults(obj) {
    const s = child(obj, 'spec');
    dflt(s, 'concurrencyPolicy', 'Allow');
    dflt(s, 'suspend', false);
    dflt(s, 'successfulJobsHistoryLimit', 3);
    dflt(s, 'failedJobsHistoryLimit', 1);
    const jt = child(s, 'jobTemplate');
    defaultJobSpec(child(jt, 'spec'));
  },
  validate(obj) {
    const s = (obj.spec ?? {}) as Json;
    const causes: StatusCause[] = [];
    if (!s.schedule) causes.push(required('spec.schedule'));
    else if (!isCronSchedule(s.schedule)) {
      causes.push(
        invalid('spec.schedule', s.schedule, `unparseable schedule: ${JSON.stringify(s.schedule)}`),
      );
    }
    if (typeof s.schedule === 'string' && /^(TZ|CRON_TZ)=/.test(s.schedule.trim())) {
      causes.push(
        invalid(
          'spec.schedule',
          s.schedule,
          'cannot use TZ or CRON_TZ in schedule, use timeZone field instead',
        ),
      );
    }
    causes.push(...oneOf('spec.concurrencyPolicy', s.concurrencyPolicy, ['Allow', 'Forbid', 'Replace']));
    for (const f of ['successfulJobsHistoryLimit', 'failedJobsHistoryLimit', 'startingDeadlineSeconds']) {
      causes.push(...nonNegative(`spec.${f}`, s[f]));
    }
    if (!s.jobTemplate) causes.push(required('spec.jobTemplate'));
    else causes.push(...validateJobSpec(s.jobTemplate.spec ?? {}, 'spec.jobTemplate.spec', false));
    return causes;
  },
  table: {
    columns: [
      nameColumn,
      col('Schedule', 'string', 'The schedule in cron format.'),
      col('Timezone', 'string', 'The time zone of the schedule.'),
      col('Suspend', 'boolean', 'Whether later runs are suspended.'),
      col('Active', 'integer', 'The number of running jobs.'),
      col('Last Schedule', 'string', 'When a job was last scheduled.'),
      ageColumn,
      ...podTemplateColumns,
    ],
    row(obj, now) {
      const s = (obj.spec ?? {}) as Json;
      const st = (obj.status ?? {}) as Json;
      const suspend = s.suspend === undefined ? '<unset>' : s.suspend ? 'True' : 'False';
      const jobSpec = s.jobTemplate?.spec ?? {};
      return [
        obj.metadata?.name,
        s.schedule ?? '',
        s.timeZone || '<none>',
        suspend,
        (st.active ?? []).length,
        st.lastScheduleTime ? since(st.lastScheduleTime, now) : '<none>',
        since(obj.metadata?.creationTimestamp, now),
        ...podTemplateCells(jobSpec.template, jobSpec.selector),
      ];
    },
  },
});
