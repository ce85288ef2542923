/**
 * Shared helpers for the API server's end-to-end tests: the stores they run on, a server on each
 * (the server and kubectl themselves are in ../support/).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResourceRegistry } from '../../src/api/resource.ts';
import type { startApiServer } from '../../src/apiserver/index.ts';
import type { Backend } from '../../src/store/backend.ts';
import { startTestServer, type TestServer } from '../support/api-server.ts';

export { startTestServer, type TestServer } from '../support/api-server.ts';
export { kubectl } from '../support/kubectl.ts';

/** A store the end-to-end suites run against; `skip` says why it cannot run here. */
export interface BackendCase {
  name: string;
  skip?: string;
  /** A fresh, empty backend; `cleanup` removes what it made (files, etcd), after the backend is closed. */
  open(): Promise<{ backend: Backend; cleanup(): Promise<void> }>;
}

/** Imported by path: the etcd backend's test helper may not be in the tree yet. */
const TEST_ETCD = '../../src/store/etcd/test-etcd.ts';

/** Memory, SQLite and etcd (a real etcd from startTestEtcd, one per call of open). */
export async function backendCases(): Promise<BackendCase[]> {
  const { MemoryBackend, openBackend } = await import('../../src/store/index.ts');
  const cases: BackendCase[] = [
    { name: 'memory', open: async () => ({ backend: new MemoryBackend(), cleanup: async () => {} }) },
  ];
  const sqlite: BackendCase = {
    name: 'sqlite',
    async open() {
      const dir = await mkdtemp(join(tmpdir(), 'skiff-apiserver-sqlite-'));
      try {
        return {
          backend: await openBackend(`sqlite://${join(dir, 'state.db')}`),
          cleanup: () => rm(dir, { recursive: true, force: true }),
        };
      } catch (e) {
        await rm(dir, { recursive: true, force: true });
        throw e;
      }
    },
  };
  try {
    const probe = await sqlite.open();
    await probe.backend.close();
    await probe.cleanup();
  } catch (e) {
    sqlite.skip = `the SQLite backend is not available: ${(e as Error).message}`;
  }
  cases.push(sqlite);
  const etcd: BackendCase = {
    name: 'etcd',
    async open() {
      const { startTestEtcd } = (await import(
        TEST_ETCD
      )) as typeof import('../../src/store/etcd/test-etcd.ts');
      const e = await startTestEtcd();
      try {
        return { backend: await openBackend(`${e.url}?prefix=/skiff-test`), cleanup: () => e.stop() };
      } catch (err) {
        await e.stop();
        throw err;
      }
    },
  };
  try {
    await import(TEST_ETCD);
  } catch (e) {
    etcd.skip = `the etcd backend is not available: ${(e as Error).message}`;
  }
  cases.push(etcd);
  return cases;
}

/** A test server on a backend case; closing it closes the backend and runs the case's cleanup. */
export async function startCaseServer(
  c: BackendCase,
  registry: ResourceRegistry,
  extra: Partial<Parameters<typeof startApiServer>[0]> = {},
): Promise<TestServer> {
  const { backend, cleanup } = await c.open();
  let s: TestServer;
  try {
    s = await startTestServer(backend, registry, extra);
  } catch (e) {
    await backend.close();
    await cleanup();
    throw e;
  }
  return {
    ...s,
    async close() {
      try {
        await s.close();
      } finally {
        await cleanup();
      }
    },
  };
}
