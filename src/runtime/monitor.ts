/**
 * The container monitor is conmon (CRI-O's, a ~1 MB C process per container) rather than a
 * process of our own: it runs `runc create`, holds the container's stdio, writes the CRI log
 * (`k8s-file` driver), records the exit status, reopens the log on request and outlives the
 * runtime (it double-forks into its own session).
 *
 * Files it keeps in the container directory `dir`:
 *   conmon.pid     the monitor's PID
 *   container.pid  the container's init PID (written by runc)
 *   exit           the exit status, written when the container has exited (mtime = finish time)
 *   oom            present when the kernel's OOM killer ended the container
 * and in the bundle: `ctl` (a FIFO: "2 0 0\n" reopens the log, "1 H W\n" resizes a terminal) and
 * `attach` (conmon's SEQPACKET attach socket, reached through `<socketDir>/<id>`).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CriError, GrpcStatus } from '../cri/index.ts';
import { mustRun } from './exec.ts';
import type { Launcher } from './launcher.ts';
import { phase } from './phases.ts';

export interface MonitorConfig {
  runcRoot: string;
  id: string;
  /** the OCI bundle (config.json, rootfs) */
  bundle: string;
  /** the container directory: PID files and the exit record go here */
  dir: string;
  /** the CRI log path, or '' for none */
  logPath: string;
  /** where conmon makes the `<id>` link to its attach socket (keep it short: sun_path is 108 bytes) */
  socketDir: string;
  /** for phase timing only */
  tag?: string;
  /** run conmon and runc through this helper instead of forking this process */
  launcher?: Launcher;
}

export interface ExitRecord {
  exitCode: number;
  /** nanoseconds since the epoch */
  finishedAt: number;
  reason: string;
  message?: string;
}

function findExecutable(name: string): string {
  for (const d of (process.env.PATH || '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(
    ':',
  )) {
    const p = path.join(d, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {}
  }
  for (const d of ['/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    if (fs.existsSync(path.join(d, name))) return path.join(d, name);
  }
  throw new Error(`${name} not found in PATH (install the Debian package "${name}")`);
}

/**
 * Starts conmon for a created bundle and then the container: returns once runc reports the
 * container started (its init may already have exited). Throws a CriError with runc's message
 * when the container cannot be created.
 */
export async function startMonitor(cfg: MonitorConfig): Promise<void> {
  let t = performance.now();
  fs.mkdirSync(cfg.socketDir, { recursive: true });
  if (cfg.logPath) fs.mkdirSync(path.dirname(cfg.logPath), { recursive: true });
  const args = [
    '--api-version',
    '1',
    '--cid',
    cfg.id,
    '--cuuid',
    cfg.id,
    '--name',
    cfg.id.slice(0, 12),
    '--runtime',
    findExecutable('runc'),
    '--runtime-arg',
    '--root',
    '--runtime-arg',
    cfg.runcRoot,
    '--bundle',
    cfg.bundle,
    '--container-pidfile',
    path.join(cfg.dir, 'container.pid'),
    '--conmon-pidfile',
    path.join(cfg.dir, 'conmon.pid'),
    '--persist-dir',
    cfg.dir,
    '--socket-dir-path',
    cfg.socketDir,
    '--log-path',
    cfg.logPath ? `k8s-file:${cfg.logPath}` : 'none:',
    '--log-level',
    'error',
  ];
  // fd 3 is the sync pipe: conmon answers `{"data": <pid>}` once `runc create` is done, or
  // `{"data": -1, "message": "..."}` when it failed.
  const answer = cfg.launcher
    ? await viaLauncher(cfg.launcher, args, cfg.dir)
    : await viaSpawn(args, cfg.dir);
  if (answer.data <= 0) {
    throw new CriError(GrpcStatus.UNKNOWN, `creating container ${cfg.id}: ${answer.message ?? ''}`.trim());
  }
  t = phase(cfg.tag ?? cfg.id, 'start:conmon+runc-create', t);
  await mustRun('runc', ['--root', cfg.runcRoot, 'start', cfg.id], cfg.launcher?.run.bind(cfg.launcher));
  phase(cfg.tag ?? cfg.id, 'start:runc-start', t);
}

type SyncAnswer = { data: number; message?: string };

async function viaLauncher(launcher: Launcher, args: string[], cwd: string): Promise<SyncAnswer> {
  const { line, stderr } = await launcher.runWithSyncPipe(findExecutable('conmon'), args, cwd);
  if (!line) return { data: -1, message: stderr.trim() || 'conmon exited without an answer' };
  try {
    return JSON.parse(line);
  } catch {
    return { data: -1, message: `bad answer from conmon: ${line}` };
  }
}

async function viaSpawn(args: string[], cwd: string): Promise<SyncAnswer> {
  const child = spawn(findExecutable('conmon'), args, {
    cwd,
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    env: { ...process.env, _OCI_SYNCPIPE: '3' },
    detached: true,
  });
  const sync = child.stdio[3] as NodeJS.ReadableStream & { destroy(): void };
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const answer = await new Promise<{ data: number; message?: string }>((resolve) => {
    let text = '';
    const done = (v: { data: number; message?: string }) => {
      sync.removeAllListeners();
      sync.destroy();
      resolve(v);
    };
    sync.on('data', (d: Buffer) => {
      text += d.toString();
      const nl = text.indexOf('\n');
      if (nl < 0) return;
      try {
        done(JSON.parse(text.slice(0, nl)));
      } catch {
        done({ data: -1, message: `bad answer from conmon: ${text.slice(0, nl)}` });
      }
    });
    sync.on('end', () => done({ data: -1, message: stderr.trim() || 'conmon exited without an answer' }));
    sync.on('error', (err: Error) => done({ data: -1, message: err.message }));
  });
  child.stderr!.destroy();
  child.unref();
  return answer;
}

/** The exit record conmon left, or undefined while the container runs. */
export function readExit(dir: string): ExitRecord | undefined {
  const file = path.join(dir, 'exit');
  // asked of every running container on every status and list: no exception while it runs
  if (!fs.existsSync(file)) return undefined;
  let text: string;
  let st: fs.Stats;
  try {
    text = fs.readFileSync(file, 'utf8');
    st = fs.statSync(file);
  } catch {
    return undefined;
  }
  const exitCode = Number(text.trim());
  const oom = fs.existsSync(path.join(dir, 'oom'));
  return {
    exitCode: Number.isFinite(exitCode) && exitCode >= 0 ? exitCode : 255,
    finishedAt: Math.round(st.mtimeMs * 1e6),
    reason: oom ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error',
  };
}

/** The monitor's PID, 0 when unknown. */
export function monitorPid(dir: string): number {
  try {
    return Number(fs.readFileSync(path.join(dir, 'conmon.pid'), 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}

/** Sends a control message to conmon's `ctl` FIFO; false when no monitor listens. */
export function controlMonitor(bundle: string, message: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(path.join(bundle, 'ctl'), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  } catch {
    return false;
  }
  try {
    fs.writeSync(fd, message);
    return true;
  } finally {
    fs.closeSync(fd);
  }
}

/** Asks the monitor to reopen the container's log file (after rotation). */
export function reopenLog(bundle: string): boolean {
  return controlMonitor(bundle, '2 0 0\n');
}
