/** Formatting helpers of kubectl's printers: ages, label maps, selectors. */

/** apimachinery's HumanDuration: `45s`, `3m20s`, `25m`, `5h10m`, `30h`, `2d3h`, `90d`, `2y100d`. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const days = Math.floor(hours / 24);
    const dy = days % 365;
    const years = Math.floor(days / 365);
    return dy === 0 ? `${years}y` : `${years}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

/** translateTimestampSince: `<unknown>` for a missing time. */
export function since(ts: unknown, now: Date): string {
  if (typeof ts !== 'string' || !ts) return '<unknown>';
  const t = Date.parse(ts);
  if (Number.isNaN(t)) return '<unknown>';
  return humanDuration(now.getTime() - t);
}

/** labels.FormatLabels: `a=1,b=2` sorted by key, `<none>` when empty. */
export function formatLabels(labels: Record<string, string> | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  if (keys.length === 0) return '<none>';
  return keys.map((k) => `${k}=${labels?.[k]}`).join(',');
}

interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** A LabelSelector as a selector string (`app=web,tier in (a,b)`); `<none>` for an empty one. */
export function formatSelector(sel: Selector | undefined): string {
  if (!sel) return '<none>';
  const parts: { key: string; text: string }[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) parts.push({ key: k, text: `${k}=${v}` });
  for (const e of sel.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort().join(',');
    const text =
      e.operator === 'In'
        ? `${e.key} in (${values})`
        : e.operator === 'NotIn'
          ? `${e.key} notin (${values})`
          : e.operator === 'Exists'
            ? e.key
            : `!${e.key}`;
    parts.push({ key: e.key, text });
  }
  if (parts.length === 0) return '<none>';
  parts.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return parts.map((p) => p.text).join(',');
}

type Json = Record<string, any>;

/** Container names and images of a pod template, comma separated. */
export function containersAndImages(tpl: Json | undefined): [string, string] {
  const cs: Json[] = tpl?.spec?.containers ?? [];
  return [cs.map((c) => c.name).join(','), cs.map((c) => c.image).join(',')];
}

/** Go's time.Time in a table's `date` column: RFC 3339 in UTC, second precision. */
export function dateCell(ts: unknown): string {
  if (typeof ts !== 'string') return '';
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? ts : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function str(v: unknown, empty = '<none>'): string {
  return typeof v === 'string' && v !== '' ? v : empty;
}

export const nameColumn = {
  name: 'Name',
  type: 'string' as const,
  format: 'name',
  description: 'Name must be unique within a namespace. Cannot be updated.',
  priority: 0,
};

export const ageColumn = {
  name: 'Age',
  type: 'string' as const,
  description: 'Time since the object was created (creationTimestamp).',
  priority: 0,
};

export const createdAtColumn = {
  name: 'Created At',
  type: 'date' as const,
  description: 'When the object was created (creationTimestamp).',
  priority: 0,
};

/** A column definition in one line: `col('Ready', 'string', 'How many replicas are ready.')`. */
export function col(
  name: string,
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date',
  description: string,
  priority = 0,
) {
  return { name, type, description, priority };
}

/** kubectl's wide columns for a kind that runs pods from a template (Deployment, Job, ...). */
export const podTemplateColumns = [
  col('Containers', 'string', 'Names of each container in the template.', 1),
  col('Images', 'string', 'Images referenced by each container in the template.', 1),
  col('Selector', 'string', 'Label selector for the pods.', 1),
];

/** The cells of `podTemplateColumns`. */
export function podTemplateCells(template: Json | undefined, selector: Selector | undefined): string[] {
  return [...containersAndImages(template), formatSelector(selector)];
}
