import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { CniError } from './errors.ts';

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION';

export interface PluginCall {
  command: CniCommand;
  /** The plugin `type`: the executable's name in one of `binDirs`. */
  type: string;
  binDirs: string[];
  /** The executable, when the caller has found it already (`findPlugin`). */
  path?: string;
  /** The configuration written to the plugin's stdin. */
  stdin: object;
  containerId?: string;
  netns?: string;
  ifName?: string;
  /** `K=V;K=V` */
  args?: string;
  timeoutMs: number;
  /** How the executable is started (default `spawnPlugin`). */
  exec?: PluginExec;
}

/** What one run of a plugin executable gave. */
export interface PluginOutput {
  /** exit status; null when it was killed */
  status: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/**
 * Starts a plugin executable with no arguments, the CNI variables `env` added to this process's
 * environment, `stdin` on its standard input, and kills it (with whatever it started) after
 * `timeoutMs`. Never rejects for a non-zero exit; rejects when the file cannot be started.
 *
 * The default forks this process; a large process may pass one that starts plugins from a small
 * long-lived helper instead (Skiff's runtime passes its `/bin/sh` launcher), since fork copies
 * the page tables of the whole process and blocks its event loop meanwhile.
 */
export type PluginExec = (
  file: string,
  env: Record<string, string>,
  stdin: string,
  timeoutMs: number,
) => Promise<PluginOutput>;

/** The first executable named `type` in `binDirs`. */
export async function findPlugin(type: string, binDirs: string[]): Promise<string> {
  if (!/^[A-Za-z0-9._-]+$/.test(type)) {
    throw new CniError({ plugin: type, command: 'find', code: 7, msg: 'invalid plugin type name' });
  }
  for (const dir of binDirs) {
    const path = join(dir, type);
    try {
      await access(path, constants.X_OK);
      return path;
    } catch {}
  }
  throw new CniError({ plugin: type, command: 'find', code: 0, msg: `not found in ${binDirs.join(':')}` });
}

/**
 * Runs one plugin once. Resolves with its parsed stdout (empty output, normal for DEL and CHECK,
 * gives `undefined`); rejects with a CniError carrying the plugin's error object, or describing the
 * crash or timeout. A plugin that overruns `timeoutMs` is killed.
 */
export async function execPlugin(call: PluginCall): Promise<unknown> {
  const path = call.path ?? (await findPlugin(call.type, call.binDirs));
  const env: Record<string, string> = {
    CNI_COMMAND: call.command,
    CNI_PATH: call.binDirs.join(':'),
  };
  if (call.command !== 'VERSION') {
    env.CNI_CONTAINERID = call.containerId ?? '';
    env.CNI_NETNS = call.netns ?? '';
    env.CNI_IFNAME = call.ifName ?? '';
    env.CNI_ARGS = call.args ?? '';
  }
  const fail = (code: number, msg: string, details?: string, cause?: unknown) =>
    new CniError({ plugin: call.type, command: call.command, code, msg, details }, { cause });
  const { status, stdout, stderr, timedOut } = await (call.exec ?? spawnPlugin)(
    path,
    env,
    JSON.stringify(call.stdin),
    call.timeoutMs,
  ).catch((e: Error) => {
    throw fail(0, `cannot run ${path}: ${e.message}`, undefined, e);
  });

  if (timedOut) throw fail(0, `timed out after ${call.timeoutMs}ms`, stderr.trim() || undefined);
  const text = stdout.trim();
  let parsed: unknown;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      if (status === 0) throw fail(6, `unparsable output: ${text.slice(0, 200)}`, undefined, e);
    }
  }
  if (status !== 0) {
    const o = parsed as { code?: unknown; msg?: unknown; details?: unknown } | undefined;
    if (o && typeof o === 'object' && typeof o.msg === 'string') {
      throw fail(
        typeof o.code === 'number' ? o.code : 0,
        o.msg,
        typeof o.details === 'string' && o.details ? o.details : undefined,
      );
    }
    throw fail(0, `exited with status ${status}`, (stderr.trim() || text).slice(0, 500) || undefined);
  }
  return parsed;
}

/** The default `PluginExec`: a child process of this one, in its own process group. */
export const spawnPlugin: PluginExec = (file, env, stdin, timeoutMs) =>
  new Promise((resolve, reject) => {
    // Its own process group, so a timeout kills whatever the plugin started too (they would hold
    // the output pipes open).
    const child = spawn(file, [], {
      env: { ...(process.env as Record<string, string>), ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {}
      resolve({ status: null, stdout: '', stderr: Buffer.concat(err).toString('utf8'), timedOut });
    }, timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({
        status: code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
      });
    });
    // A plugin may exit without reading stdin; ignore the resulting EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(stdin);
  });
