/**
 * The CRI container log format, one record per line:
 *   2024-01-02T03:04:05.123456789Z stdout F hello
 * RFC 3339 time with nanoseconds, the stream, a tag (F = full line, P = partial: the line
 * continues in the next record), then the content without its newline.
 */
export interface CriLogLine {
  time: string;
  stream: 'stdout' | 'stderr';
  tag: 'F' | 'P';
  content: string;
}

/** Formats a record; `nowNs` (nanoseconds since the epoch) defaults to the current time. */
export function formatCriLogLine(
  stream: 'stdout' | 'stderr',
  tag: 'F' | 'P',
  content: string,
  nowNs?: bigint,
): string {
  const ns = nowNs ?? BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
  const ms = Number(ns / 1_000_000n);
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  const time = new Date(ms).toISOString().replace(/\.\d{3}Z$/, `.${frac}Z`);
  return `${time} ${stream} ${tag} ${content}\n`;
}

const LINE =
  /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)) (stdout|stderr) ([FP]) (.*)$/;

/** Parses a whole log file's text; throws on a malformed record. */
export function parseCriLog(text: string): CriLogLine[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const m = LINE.exec(l);
      if (!m) throw new Error(`not a CRI log line: ${JSON.stringify(l)}`);
      return { time: m[1], stream: m[2] as 'stdout' | 'stderr', tag: m[3] as 'F' | 'P', content: m[4] };
    });
}
