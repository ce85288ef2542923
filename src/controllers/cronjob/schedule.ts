/**
 * Standard 5-field cron schedules (minute hour day-of-month month day-of-week) with ranges
 * `1-5`, lists `1,3`, steps `*\/15` and `10-50/10`, month and weekday names (`jan`, `mon`),
 * `?` for `*`, 7 as Sunday, and the macros @yearly @annually @monthly @weekly @daily
 * @midnight @hourly. As in cron (and Kubernetes), when both day fields are restricted a day
 * matches if either does. Times are UTC unless a `TZ=` / `CRON_TZ=` prefix names UTC (other
 * zones are rejected).
 */
export interface Schedule {
  minutes: Set<number>;
  hours: Set<number>;
  days: Set<number>;
  months: Set<number>;
  weekdays: Set<number>;
  dayStar: boolean;
  weekdayStar: boolean;
}

const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

function field(text: string, min: number, max: number, names?: string[], offset = 0): Set<number> {
  const out = new Set<number>();
  const value = (s: string) => {
    const i = names?.indexOf(s.toLowerCase()) ?? -1;
    if (i >= 0) return i + offset;
    if (!/^\d+$/.test(s)) throw new Error(`invalid value ${JSON.stringify(s)}`);
    return Number(s);
  };
  for (const part of text.split(',')) {
    const [range, stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step <= 0) throw new Error(`invalid step in ${JSON.stringify(part)}`);
    let lo: number;
    let hi: number;
    if (range === '*' || range === '?') {
      lo = min;
      hi = max;
    } else if (range.includes('-')) {
      const [a, b] = range.split('-');
      lo = value(a);
      hi = value(b);
    } else {
      lo = value(range);
      hi = stepText === undefined ? lo : max;
    }
    if (lo < min || hi > max || lo > hi)
      throw new Error(`value out of range [${min}, ${max}] in ${JSON.stringify(part)}`);
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

/** Parse a schedule; throws Error with the reason on a bad one. */
export function parseSchedule(text: string): Schedule {
  let s = text.trim();
  const tz = /^(CRON_)?TZ=(\S+)\s+/.exec(s);
  if (tz) {
    if (!['UTC', 'Etc/UTC', 'GMT'].includes(tz[2])) throw new Error(`unsupported time zone ${tz[2]}`);
    s = s.slice(tz[0].length);
  }
  s = MACROS[s.toLowerCase()] ?? s;
  const f = s.split(/\s+/);
  if (f.length !== 5)
    throw new Error(`expected exactly 5 fields, found ${f.length}: ${JSON.stringify(text)}`);
  const weekdays = field(f[4], 0, 7, DAYS);
  if (weekdays.delete(7)) weekdays.add(0);
  return {
    minutes: field(f[0], 0, 59),
    hours: field(f[1], 0, 23),
    days: field(f[2], 1, 31),
    months: field(f[3], 1, 12, MONTHS, 1),
    weekdays,
    dayStar: f[2] === '*' || f[2] === '?',
    weekdayStar: f[4] === '*' || f[4] === '?',
  };
}

function dayMatches(s: Schedule, d: Date): boolean {
  const dom = s.days.has(d.getUTCDate());
  const dow = s.weekdays.has(d.getUTCDay());
  if (s.dayStar || s.weekdayStar) return dom && dow;
  return dom || dow;
}

/** The first time strictly after `after` (ms) that the schedule fires, in ms; undefined if none within 5 years. */
export function nextTime(s: Schedule, after: number): number | undefined {
  const d = new Date(Math.floor(after / 60_000) * 60_000 + 60_000);
  const limit = after + 5 * 366 * 86_400_000;
  while (d.getTime() <= limit) {
    if (!s.months.has(d.getUTCMonth() + 1)) {
      d.setUTCMonth(d.getUTCMonth() + 1, 1);
      d.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!dayMatches(s, d)) {
      d.setUTCDate(d.getUTCDate() + 1);
      d.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!s.hours.has(d.getUTCHours())) {
      d.setUTCHours(d.getUTCHours() + 1, 0, 0, 0);
      continue;
    }
    if (!s.minutes.has(d.getUTCMinutes())) {
      d.setUTCMinutes(d.getUTCMinutes() + 1, 0, 0);
      continue;
    }
    return d.getTime();
  }
  return undefined;
}

/** The latest fire time in (from, to], and how many there were (capped at `cap`). */
export function mostRecent(
  s: Schedule,
  from: number,
  to: number,
  cap = 101,
): { time?: number; missed: number } {
  let t = nextTime(s, from);
  let last: number | undefined;
  let missed = 0;
  while (t !== undefined && t <= to) {
    last = t;
    if (++missed >= cap) {
      // too many missed: jump close to `to` and finish from there
      const near = nextTime(s, to - 60_000 * 60 * 24 * 2);
      if (near !== undefined && near > t) t = near;
      else t = nextTime(s, t);
      while (t !== undefined && t <= to) {
        last = t;
        t = nextTime(s, t);
      }
      break;
    }
    t = nextTime(s, t);
  }
  return { time: last, missed };
}
