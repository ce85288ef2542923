/**
 * The container monitor: one detached process per running container (started by
 * StartContainer with `setsid`, so it outlives the runtime). It runs `runc run` in the
 * foreground, holds the container's stdout and stderr, writes them to the CRI log path in the
 * CRI log format, and when the container exits records `{exitCode, finishedAt}` in exit.json.
 * SIGHUP reopens the log file (ReopenContainerLog, after rotation).
 *
 *   node monitor.ts <container dir>      (reads <dir>/monitor.json: MonitorConfig)
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { formatCriLogLine } from '../cri/log-format.ts';

export interface MonitorConfig {
  runcRoot: string;
  id: string;
  bundle: string;
  logPath: string;
}

export interface ExitRecord {
  exitCode: number;
  /** nanoseconds since the epoch */
  finishedAt: number;
  reason: string;
}

/** A line longer than this is cut into partial (P) records. */
const MAX_RECORD = 16 * 1024;

export const MONITOR_SCRIPT = new URL(import.meta.url).pathname;

function writeAtomic(file: string, body: string): void {
  fs.writeFileSync(`${file}.tmp`, body);
  fs.renameSync(`${file}.tmp`, file);
}

async function main(dir: string): Promise<void> {
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'monitor.json'), 'utf8')) as MonitorConfig;
  let logFd: number | undefined;
  const openLog = () => {
    if (!cfg.logPath) return;
    fs.mkdirSync(path.dirname(cfg.logPath), { recursive: true });
    const old = logFd;
    logFd = fs.openSync(cfg.logPath, 'a', 0o640);
    if (old !== undefined) fs.closeSync(old);
  };
  openLog();
  process.on('SIGHUP', openLog);
  // The runtime may stop or restart; this process must not die with it.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => {});
  const write = (stream: 'stdout' | 'stderr', tag: 'F' | 'P', content: string) => {
    if (logFd !== undefined) fs.writeSync(logFd, formatCriLogLine(stream, tag, content));
  };
  const child = spawn('runc', ['--root', cfg.runcRoot, 'run', '--bundle', cfg.bundle, cfg.id], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  fs.writeFileSync(path.join(dir, 'monitor.pid'), String(process.pid));
  const drained: Promise<void>[] = [];
  for (const name of ['stdout', 'stderr'] as const) {
    const stream = child[name];
    let pending = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      pending += chunk;
      let nl = pending.indexOf('\n');
      while (nl >= 0) {
        write(name, 'F', pending.slice(0, nl));
        pending = pending.slice(nl + 1);
        nl = pending.indexOf('\n');
      }
      while (pending.length >= MAX_RECORD) {
        write(name, 'P', pending.slice(0, MAX_RECORD));
        pending = pending.slice(MAX_RECORD);
      }
    });
    drained.push(
      new Promise((resolve) =>
        stream.on('close', () => {
          if (pending) write(name, 'F', pending);
          resolve();
        }),
      ),
    );
  }
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('exit', (c, s) => resolve([c, s])),
  );
  await Promise.race([Promise.all(drained), new Promise((r) => setTimeout(r, 2000))]);
  const exitCode = code ?? (signal ? 128 + (SIGNAL_NUMBERS[signal] ?? 0) : 255);
  const record: ExitRecord = {
    exitCode,
    finishedAt: Date.now() * 1e6,
    reason: exitCode === 0 ? 'Completed' : 'Error',
  };
  writeAtomic(path.join(dir, 'exit.json'), JSON.stringify(record));
  process.exit(0);
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGKILL: 9, SIGTERM: 15, SIGINT: 2, SIGHUP: 1 };

if (process.argv[1] && path.resolve(process.argv[1]) === MONITOR_SCRIPT) {
  await main(process.argv[2]);
}
