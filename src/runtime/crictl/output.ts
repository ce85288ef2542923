/**
 * crictl's output shapes: tables aligned like Go's tabwriter (cells at least 20 wide, 3 spaces
 * of padding), protobuf JSON for `-o json|yaml` (camelCase, defaults omitted, 64-bit integers
 * as strings), Docker's human durations ("2 minutes ago") and sizes ("1.24MB").
 */
import { stringify } from 'yaml';

/** An expected failure: printed as one line, exit status 1. */
export class CrictlError extends Error {}

export const usageError = (message: string) => new CrictlError(message);

export function table(rows: string[][]): string {
  if (rows.length === 0) return '';
  const cols = Math.max(...rows.map((r) => r.length));
  const widths = Array.from({ length: cols }, (_, i) =>
    Math.max(20, ...rows.map((r) => (r[i] ?? '').length + 3)),
  );
  return rows
    .map((r) => `${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('')}\n`)
    .join('');
}

/** Docker's `units.HumanDuration`. */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.floor(s / 60);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.round(s / 3600);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return plural(Math.floor(h / 24), 'day');
  if (h < 24 * 30 * 2) return plural(Math.floor(h / 24 / 7), 'week');
  if (h < 24 * 365 * 2) return plural(Math.floor(h / 24 / 30), 'month');
  return plural(Math.floor(h / 24 / 365), 'year');
}

/** "N units ago" for a CRI timestamp in nanoseconds. */
export const ago = (ns: number) => `${humanDuration(Date.now() - ns / 1e6)} ago`;

/** Docker's `units.HumanSizeWithPrecision` (decimal units). */
export function humanSize(bytes: number, precision = 4): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(precision))}${units[i]}`;
}

/** crictl shows 13 characters of an ID, without a `sha256:` prefix where it has one. */
export const truncate = (id: string, prefix = '') =>
  (id.startsWith(prefix) ? id.slice(prefix.length) : id).slice(0, 13);

/** Fields that are 64-bit integers in api.proto: protobuf JSON writes them as strings. */
const INT64 = new Set([
  'createdAt',
  'startedAt',
  'finishedAt',
  'size',
  'timestamp',
  'value',
  'cpuPeriod',
  'cpuQuota',
  'cpuShares',
  'memoryLimitInBytes',
  'memorySwapLimitInBytes',
  'oomScoreAdj',
]);

/** A CRI message as protobuf JSON prints it: defaults dropped, 64-bit integers as strings. */
export function protoJson(value: unknown, key = ''): unknown {
  if (Buffer.isBuffer(value)) return value.length ? value.toString('base64') : undefined;
  if (Array.isArray(value)) {
    const list = value.map((v) => protoJson(v)).filter((v) => v !== undefined);
    return list.length ? list : undefined;
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const j = protoJson(v, k);
      if (j !== undefined) out[k] = j;
    }
    return Object.keys(out).length ? out : undefined;
  }
  if (value === '' || value === 0 || value === false || value === null || value === undefined)
    return undefined;
  if (typeof value === 'number' && INT64.has(key)) return String(value);
  return value;
}

/** Prints an object as `-o json` (indented) or `-o yaml`. */
export function formatObject(obj: unknown, output: string): string {
  if (output === 'yaml') return stringify(obj ?? {}, { sortMapEntries: true, indentSeq: false });
  return `${JSON.stringify(obj ?? {}, null, 2)}\n`;
}

/** Checks an `-o` value against the formats a command supports. */
export function outputFormat(value: string | undefined, allowed: string[], fallback: string): string {
  const o = value ?? fallback;
  if (!allowed.includes(o)) throw usageError(`unsupported output format ${JSON.stringify(o)}`);
  return o;
}

/**
 * The `inspect`-style document: `{status, ...info}` where each info value that is a JSON object
 * is parsed and every other is a string; several results make a list.
 */
export function statusDocument(status: unknown, info: Record<string, string> | undefined): object {
  const doc: Record<string, unknown> = { status: protoJson(status) ?? {} };
  for (const k of Object.keys(info ?? {}).sort()) {
    const v = info![k];
    if (v.startsWith('{')) {
      try {
        doc[k] = JSON.parse(v);
        continue;
      } catch {}
    }
    doc[k] = v.replace(/^"|"$/g, '');
  }
  return doc;
}

export function printDocuments(docs: object[], output: string): string {
  return formatObject(docs.length === 1 ? docs[0] : docs, output);
}
