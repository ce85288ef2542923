/**
 * The runtime's side of CRI streaming (the protocol server is `startStreamingServer` in
 * src/cri): exec runs `runc exec` (under `script` for a terminal, which gives runc a pty),
 * attach follows the container's CRI log, port-forward runs busybox `nc` inside the sandbox's
 * network namespace (`nsenter --net`), or connects directly for host-network sandboxes.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import {
  type AttachRequest,
  CriError,
  type ExecRequest,
  GrpcStatus,
  parseCriLog,
  type StreamingIO,
  type StreamingRuntime,
} from '../cri/index.ts';
import { execCommand } from './exec.ts';
import type { Runc } from './runc.ts';

/** What streaming needs from the runtime service. */
export interface StreamTargets {
  runc: Runc;
  /** the container's log path; throws unless it is running */
  runningContainer(id: string): Promise<{ id: string; logPath: string }>;
  isRunning(id: string): Promise<boolean>;
  /** the sandbox's network namespace file, undefined for host network; throws when unknown */
  sandboxNetns(id: string): string | undefined;
}

const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function shellQuote(args: string[]): string {
  return args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
}

/** The processes below `pid`, depth first. */
function descendants(pid: number): number[] {
  let children: number[] = [];
  try {
    children = fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {}
  return children.flatMap((c) => [c, ...descendants(c)]);
}

/**
 * Resizes an exec terminal: `script` gave runc a pty, so setting that pty's size makes the
 * kernel send runc SIGWINCH, and runc copies the size to the container's terminal.
 */
async function resizeTerminal(scriptPid: number, size: { width: number; height: number }): Promise<void> {
  if (!(size.width > 0 && size.height > 0)) return;
  for (let attempt = 0; attempt < 20; attempt++) {
    for (const pid of descendants(scriptPid)) {
      let tty = '';
      try {
        tty = fs.readlinkSync(`/proc/${pid}/fd/0`);
      } catch {}
      if (tty.startsWith('/dev/pts/')) {
        await execCommand('stty', ['-F', tty, 'rows', String(size.height), 'cols', String(size.width)]);
        return;
      }
    }
    await sleep(50);
  }
}

export function streamingRuntime(targets: StreamTargets): StreamingRuntime {
  return {
    async exec(req: ExecRequest, io: StreamingIO): Promise<number> {
      const c = await targets.runningContainer(req.containerId ?? '');
      const cmd = req.cmd ?? [];
      const runcArgs = targets.runc.args('exec', ...(req.tty ? ['-t'] : []), c.id, ...cmd);
      const child = req.tty
        ? spawn('script', ['-q', '-e', '-c', shellQuote(['runc', ...runcArgs]), '/dev/null'], {
            stdio: ['pipe', 'pipe', 'pipe'],
          })
        : spawn('runc', runcArgs, { stdio: [io.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
      if (req.tty && child.pid) io.onResize((size) => void resizeTerminal(child.pid!, size));
      if (io.stdin && child.stdin) io.stdin.pipe(child.stdin);
      else child.stdin?.end();
      child.stdin?.on('error', () => {});
      child.stdout!.on('data', (d: Buffer) => io.stdout?.write(d));
      child.stderr!.on('data', (d: Buffer) => (io.stderr ?? io.stdout)?.write(d));
      const onAbort = () => child.kill('SIGKILL');
      io.signal.addEventListener('abort', onAbort);
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
        child.on('error', reject);
        child.on('close', (c, s) => resolve([c, s]));
      });
      io.signal.removeEventListener('abort', onAbort);
      return code ?? (signal === 'SIGKILL' ? 137 : 1);
    },

    async attach(req: AttachRequest, io: StreamingIO): Promise<void> {
      const c = await targets.runningContainer(req.containerId ?? '');
      if (!c.logPath)
        throw new CriError(GrpcStatus.FAILED_PRECONDITION, 'the container has no log to attach to');
      let offset = fs.existsSync(c.logPath) ? fs.statSync(c.logPath).size : 0;
      let partial = '';
      const pump = () => {
        let size = 0;
        try {
          size = fs.statSync(c.logPath).size;
        } catch {
          return;
        }
        if (size < offset) offset = 0; // rotated
        if (size === offset) return;
        const buf = Buffer.alloc(size - offset);
        const fd = fs.openSync(c.logPath, 'r');
        try {
          fs.readSync(fd, buf, 0, buf.length, offset);
        } finally {
          fs.closeSync(fd);
        }
        offset = size;
        const text = partial + buf.toString();
        const cut = text.lastIndexOf('\n') + 1;
        partial = text.slice(cut);
        for (const line of parseCriLog(text.slice(0, cut))) {
          const out = line.stream === 'stderr' && !req.tty ? (io.stderr ?? io.stdout) : io.stdout;
          out?.write(line.tag === 'F' ? `${line.content}\n` : line.content);
        }
      };
      while (!io.signal.aborted && (await targets.isRunning(c.id))) {
        pump();
        await sleep(100);
      }
      pump();
    },

    async portForward(
      podSandboxId: string,
      port: number,
      stream: Duplex,
      signal: AbortSignal,
    ): Promise<void> {
      const netns = targets.sandboxNetns(podSandboxId);
      if (!netns) {
        const conn = net.connect(port, '127.0.0.1');
        stream.pipe(conn);
        conn.pipe(stream);
        signal.addEventListener('abort', () => conn.destroy());
        await new Promise<void>((resolve, reject) => {
          conn.on('error', reject);
          conn.on('close', () => resolve());
        });
        return;
      }
      const busybox = BUSYBOX.find((p) => fs.existsSync(p));
      if (!busybox) throw new Error('port forwarding needs busybox (Debian package busybox-static)');
      const child = spawn('nsenter', [`--net=${netns}`, busybox, 'nc', '127.0.0.1', String(port)], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      stream.pipe(child.stdin);
      child.stdin.on('error', () => {});
      child.stdout.on('data', (d: Buffer) => stream.write(d));
      const onAbort = () => child.kill('SIGKILL');
      signal.addEventListener('abort', onAbort);
      const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
      signal.removeEventListener('abort', onAbort);
      if (code !== 0 && !signal.aborted) throw new Error(stderr.trim() || `nc exited with ${code}`);
    },
  };
}
