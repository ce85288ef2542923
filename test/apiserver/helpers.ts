/** Shared helpers for the API server's end-to-end tests: a server in a temp dir, and kubectl. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResourceRegistry } from '../../src/api/resource.ts';
import { type RunningServer, startApiServer } from '../../src/apiserver/index.ts';
import type { Backend } from '../../src/store/backend.ts';

export interface TestServer extends RunningServer {
  dir: string;
  kubectl(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }>;
}

export async function startTestServer(
  backend: Backend,
  registry: ResourceRegistry,
  extra: Partial<Parameters<typeof startApiServer>[0]> = {},
): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-apiserver-'));
  let s: RunningServer;
  try {
    s = await startApiServer({ dataDir: dir, port: 0, backend, registry, ...extra });
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const kubeconfigPath = s.kubeconfigPath;
  return {
    ...s,
    dir,
    async close() {
      await s.close();
      await backend.close();
      await rm(dir, { recursive: true, force: true });
    },
    kubectl: (args, input) => kubectl(kubeconfigPath, args, input),
  };
}

/** Run the real kubectl against a kubeconfig, with a timeout; never throws for a non-zero exit. */
export function kubectl(
  kubeconfig: string,
  args: string[],
  input?: string,
  timeoutMs = 30_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      'kubectl',
      args,
      { env: { ...process.env, KUBECONFIG: kubeconfig, HOME: join(kubeconfig, '..') }, timeout: timeoutMs },
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
