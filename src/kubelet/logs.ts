/**
 * Reading a container's CRI log file the way `kubectl logs` shows it: the CRI framing
 * (`<time> <stream> <F|P> <content>`) stripped, partial records joined, with tailLines,
 * sinceSeconds, sinceTime, timestamps, limitBytes, and follow (new records are streamed until
 * the container stops or the reader goes away).
 */
import fs from 'node:fs';

export interface LogOptions {
  follow?: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  sinceTime?: string;
  timestamps?: boolean;
  limitBytes?: number;
}

interface Record_ {
  time: string;
  stream: string;
  partial: boolean;
  content: string;
}

function parseLine(l: string): Record_ | undefined {
  const a = l.indexOf(' ');
  const b = l.indexOf(' ', a + 1);
  const c = l.indexOf(' ', b + 1);
  if (a < 0 || b < 0) return undefined;
  const tag = c < 0 ? l.slice(b + 1) : l.slice(b + 1, c);
  return {
    time: l.slice(0, a),
    stream: l.slice(a + 1, b),
    partial: tag === 'P',
    content: c < 0 ? '' : l.slice(c + 1),
  };
}

/** Turns CRI records into output lines (partials joined); returns complete lines and the unfinished rest. */
export function decodeCriLog(text: string, o: LogOptions = {}): string[] {
  const out: string[] = [];
  let pending = '';
  let pendingTime = '';
  const since = o.sinceTime
    ? Date.parse(o.sinceTime)
    : o.sinceSeconds !== undefined
      ? Date.now() - o.sinceSeconds * 1000
      : undefined;
  for (const l of text.split('\n')) {
    if (!l) continue;
    const r = parseLine(l);
    if (!r) continue;
    if (!pending) pendingTime = r.time;
    pending += r.content;
    if (r.partial) continue;
    const line = pending;
    pending = '';
    if (since !== undefined && Date.parse(pendingTime) < since) continue;
    out.push(o.timestamps ? `${pendingTime} ${line}\n` : `${line}\n`);
  }
  return out;
}

/**
 * Writes the log to `write`; with `follow`, keeps reading until `stillRunning()` says no or
 * `signal` aborts.
 */
export async function streamLog(
  file: string,
  o: LogOptions,
  write: (chunk: string) => void,
  stillRunning: () => Promise<boolean>,
  signal: AbortSignal,
): Promise<void> {
  let budget = o.limitBytes ?? Number.POSITIVE_INFINITY;
  const emit = (lines: string[]) => {
    for (const l of lines) {
      if (budget <= 0) return;
      const chunk = Buffer.byteLength(l) > budget ? Buffer.from(l).subarray(0, budget).toString() : l;
      budget -= Buffer.byteLength(chunk);
      write(chunk);
    }
  };
  let data = '';
  try {
    data = fs.readFileSync(file, 'utf8');
  } catch {}
  // only whole records now; an unterminated last line waits for the next read
  let cut = data.lastIndexOf('\n') + 1;
  let lines = decodeCriLog(data.slice(0, cut), o);
  if (o.tailLines !== undefined && o.tailLines >= 0)
    lines = lines.slice(Math.max(0, lines.length - o.tailLines));
  emit(lines);
  if (!o.follow) return;
  let offset = Buffer.byteLength(data.slice(0, cut));
  const follow = { ...o, sinceSeconds: undefined, sinceTime: undefined };
  let idle = 0;
  while (!signal.aborted && budget > 0) {
    await new Promise((r) => setTimeout(r, 200));
    let size = 0;
    try {
      size = fs.statSync(file).size;
    } catch {}
    if (size < offset) offset = 0; // rotated or truncated
    if (size > offset) {
      idle = 0;
      const fd = fs.openSync(file, 'r');
      const buf = Buffer.alloc(size - offset);
      fs.readSync(fd, buf, 0, buf.length, offset);
      fs.closeSync(fd);
      const text = buf.toString('utf8');
      cut = text.lastIndexOf('\n') + 1;
      offset += Buffer.byteLength(text.slice(0, cut));
      emit(decodeCriLog(text.slice(0, cut), follow));
      continue;
    }
    // the container is done and nothing more came: the stream ends
    if (++idle >= 2 && !(await stillRunning())) return;
  }
}
