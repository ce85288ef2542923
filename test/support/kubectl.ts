/**
 * The real kubectl against a kubeconfig, as the end-to-end tests run it: with a timeout, and
 * HOME beside the kubeconfig so kubectl's discovery cache stays in the test's directory.
 */
import { execFile } from 'node:child_process';
import { dirname } from 'node:path';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs kubectl; never throws for a non-zero exit (a kill by the timeout is code 1). */
export function kubectl(
  kubeconfig: string,
  args: string[],
  input?: string,
  timeoutMs = 60_000,
): Promise<KubectlResult> {
  return new Promise((resolve) => {
    const child = execFile(
      'kubectl',
      args,
      { env: { ...process.env, KUBECONFIG: kubeconfig, HOME: dirname(kubeconfig) }, timeout: timeoutMs },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : 1
          : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** Runs kubectl and answers its stdout; a non-zero exit throws with the command and its stderr. */
export async function kubectlOutput(kubeconfig: string, args: string[], timeoutMs = 60_000): Promise<string> {
  const r = await kubectl(kubeconfig, args, undefined, timeoutMs);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}
