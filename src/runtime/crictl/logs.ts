/**
 * `crictl logs`: reads the container's CRI log file (ContainerStatus.logPath) on this machine,
 * as crictl does, joining partial records into lines. `--previous` reads the file of the
 * attempt before (`<dir>/<attempt-1>.log`); `-f` keeps reading until the container exits.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { CriLogLine } from '../../cri/index.ts';
import { type CrictlCommand, needArgs } from './context.ts';
import { parseFlags } from './flags.ts';
import { usageError } from './output.ts';

const RECORD = /^(\S+) (stdout|stderr) ([FP]) (.*)$/;

/** "10s", "1m30s", "2h" (Go durations) → milliseconds; undefined when not a duration. */
function duration(v: string): number | undefined {
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(v)) return undefined;
  const unit: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    µs: 1e-3,
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
  };
  let ms = 0;
  for (const m of v.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ms += Number(m[1]) * unit[m[2]];
  return ms;
}

/** `--since`: an RFC 3339 time or a duration before now → epoch ms. */
function sinceMs(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const d = duration(v);
  if (d !== undefined) return Date.now() - d;
  const t = Date.parse(v);
  if (Number.isNaN(t))
    throw usageError(`invalid --since ${JSON.stringify(v)}: want an RFC 3339 time or a duration`);
  return t;
}

/** Complete records (lines joined over P tags) from text; `rest` is an unfinished last line. */
function records(text: string): { lines: CriLogLine[]; rest: string } {
  const raw = text.split('\n');
  const rest = raw.pop() ?? '';
  const lines: CriLogLine[] = [];
  let partial: CriLogLine | undefined;
  for (const l of raw) {
    const m = RECORD.exec(l);
    if (!m) continue;
    const rec: CriLogLine = {
      time: m[1],
      stream: m[2] as 'stdout' | 'stderr',
      tag: m[3] as 'F' | 'P',
      content: m[4],
    };
    if (partial && partial.stream === rec.stream) {
      partial = { ...rec, time: partial.time, content: partial.content + rec.content };
    } else partial = rec;
    if (rec.tag === 'F') {
      lines.push(partial);
      partial = undefined;
    }
  }
  return { lines, rest };
}

export const logs: CrictlCommand = async (ctx, argv) => {
  const f = parseFlags(argv, {
    bool: { follow: ['f'], previous: ['p'], timestamps: ['t'], reopen: ['r'] },
    value: { tail: [], since: [], 'limit-bytes': [], stream: [] },
  });
  needArgs(f.args, 1, 'CONTAINER-ID');
  const tail = f.int('tail', -1);
  const since = sinceMs(f.value('since'));
  const limit = f.int('limit-bytes', -1);
  const stream = f.value('stream');
  if (stream && stream !== 'stdout' && stream !== 'stderr') throw usageError('--stream is stdout or stderr');
  const id = f.args[0];
  if (f.bool('reopen')) await ctx.runtime.reopenContainerLog({ containerId: id });
  const { status } = await ctx.runtime.containerStatus({ containerId: id });
  let file = status.logPath;
  if (!file) throw usageError(`container ${id} has no log path`);
  if (f.bool('previous')) {
    const attempt = status.metadata.attempt ?? 0;
    if (attempt === 0) throw usageError(`previous terminated container ${status.metadata.name} not found`);
    file = path.join(path.dirname(file), `${attempt - 1}.log`);
  }
  let written = 0;
  const emit = (lines: CriLogLine[]) => {
    for (const l of lines) {
      if (stream && l.stream !== stream) continue;
      if (since !== undefined && Date.parse(l.time) < since) continue;
      let text = `${f.bool('timestamps') ? `${l.time} ` : ''}${l.content}\n`;
      if (limit >= 0) {
        if (written >= limit) return;
        text = Buffer.from(text)
          .subarray(0, limit - written)
          .toString();
      }
      written += Buffer.byteLength(text);
      (l.stream === 'stderr' ? ctx.err : ctx.out)(text);
    }
  };
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw usageError(`open log file ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  let offset = Buffer.byteLength(text);
  let { lines, rest } = records(text);
  if (tail >= 0) lines = tail === 0 ? [] : lines.slice(-tail);
  emit(lines);
  if (!f.bool('follow')) return 0;
  // follow: read what is appended until the container is no longer running
  for (;;) {
    await new Promise((r) => setTimeout(r, 200));
    let size = 0;
    try {
      size = fs.statSync(file).size;
    } catch {
      break;
    }
    if (size < offset) offset = 0; // rotated or truncated: start over
    if (size > offset) {
      const fd = fs.openSync(file, 'r');
      const buf = Buffer.alloc(size - offset);
      fs.readSync(fd, buf, 0, buf.length, offset);
      fs.closeSync(fd);
      offset = size;
      const r = records(rest + buf.toString());
      rest = r.rest;
      emit(r.lines);
      continue;
    }
    const s = await ctx.runtime.containerStatus({ containerId: id }).catch(() => undefined);
    if (s?.status.state !== 'CONTAINER_RUNNING') break;
  }
  return 0;
};
