import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mostRecent, nextTime, parseSchedule } from './schedule.ts';

const at = (s: string) => Date.parse(s);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

describe('cron schedules', () => {
  const cases: [string, string, string][] = [
    ['*/1 * * * *', '2024-01-01T00:00:30Z', '2024-01-01T00:01:00.000Z'],
    ['*/15 * * * *', '2024-01-01T00:14:00Z', '2024-01-01T00:15:00.000Z'],
    ['10-50/20 * * * *', '2024-01-01T00:31:00Z', '2024-01-01T00:50:00.000Z'],
    ['@hourly', '2024-01-01T05:00:00Z', '2024-01-01T06:00:00.000Z'],
    ['@daily', '2024-01-01T05:00:00Z', '2024-01-02T00:00:00.000Z'],
    ['@weekly', '2024-01-01T05:00:00Z', '2024-01-07T00:00:00.000Z'],
    ['@monthly', '2024-01-31T05:00:00Z', '2024-02-01T00:00:00.000Z'],
    ['@yearly', '2024-03-01T00:00:00Z', '2025-01-01T00:00:00.000Z'],
    ['0 9 * * mon-fri', '2024-01-05T10:00:00Z', '2024-01-08T09:00:00.000Z'],
    ['0 0 29 feb *', '2023-03-01T00:00:00Z', '2024-02-29T00:00:00.000Z'],
    ['30 2 1 * 7', '2024-01-01T03:00:00Z', '2024-01-07T02:30:00.000Z'],
    ['0 12 * JAN,jul sun', '2024-02-01T00:00:00Z', '2024-07-07T12:00:00.000Z'],
    ['TZ=UTC 5 4 * * *', '2024-01-01T04:05:00Z', '2024-01-02T04:05:00.000Z'],
  ];
  for (const [spec, after, want] of cases) {
    it(`${spec} after ${after}`, () => {
      assert.equal(iso(nextTime(parseSchedule(spec), at(after))), want);
    });
  }

  it('rejects bad schedules', () => {
    for (const bad of [
      '* * * *',
      '60 * * * *',
      '*/0 * * * *',
      'x * * * *',
      '5-1 * * * *',
      'TZ=Europe/Paris * * * * *',
    ])
      assert.throws(() => parseSchedule(bad), Error, bad);
  });

  it('finds the most recent missed time', () => {
    const s = parseSchedule('*/5 * * * *');
    const r = mostRecent(s, at('2024-01-01T00:00:00Z'), at('2024-01-01T00:17:00Z'));
    assert.equal(iso(r.time), '2024-01-01T00:15:00.000Z');
    assert.equal(r.missed, 3);
    const far = mostRecent(
      parseSchedule('* * * * *'),
      at('2024-01-01T00:00:00Z'),
      at('2024-02-01T00:00:30Z'),
    );
    assert.equal(iso(far.time), '2024-02-01T00:00:00.000Z');
  });
});
