import { execFile } from 'node:child_process';

export interface ExecResult {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number;
  timedOut: boolean;
}

/** Runs a command to completion, never throwing for a non-zero exit. */
export function execCommand(
  file: string,
  args: string[],
  options: { timeoutMs?: number } = {},
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { encoding: 'buffer', maxBuffer: 64 << 20, timeout: options.timeoutMs ?? 0, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { killed?: boolean; code?: unknown }) | null;
        if (e && typeof e.code === 'string') {
          reject(e);
          return;
        }
        resolve({
          stdout,
          stderr,
          exitCode: child.exitCode ?? (e ? 137 : 0),
          timedOut: Boolean(e?.killed && options.timeoutMs),
        });
      },
    );
  });
}

/** How a command is run to completion: `execCommand`, or a `Launcher`'s `run`. */
export type RunCommand = (file: string, args: string[]) => Promise<ExecResult>;

/** Runs a command and throws with its stderr when it fails. */
export async function mustRun(file: string, args: string[], run: RunCommand = execCommand): Promise<string> {
  const r = await run(file, args);
  if (r.exitCode !== 0) {
    throw new Error(`${file} ${args.join(' ')}: exit ${r.exitCode}: ${r.stderr.toString().trim()}`);
  }
  return r.stdout.toString();
}
