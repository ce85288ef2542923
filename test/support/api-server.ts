/**
 * An in-process API server for the end-to-end tests, on port 0 and a temp dir of its own, with
 * the real kubectl pointed at it. Closing it closes the backend and removes the directory.
 *
 *   const s = await startTestServer(new MemoryBackend(), builtinRegistry());
 *   t.after(() => s.close());
 *   const { code, stdout } = await s.kubectl(['get', 'pods']);
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResourceRegistry } from '../../src/api/resource.ts';
import { type RunningServer, startApiServer } from '../../src/apiserver/index.ts';
import type { Backend } from '../../src/store/backend.ts';
import { type KubectlResult, kubectl } from './kubectl.ts';

export interface TestServer extends RunningServer {
  dir: string;
  kubectl(args: string[], input?: string): Promise<KubectlResult>;
}

/** Starts the server on `backend`, which it owns once started (a failed start leaves it to the caller). */
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
