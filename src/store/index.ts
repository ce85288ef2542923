/**
 * The store: Skiff's versioned key-value storage, chosen by URL.
 *
 *   memory://                                   in-process, nothing survives (tests)
 *   sqlite:///var/lib/skiff/state.db            the embedded default: one file, WAL, durable
 *   sqlite:///var/lib/skiff/state.db?synchronous=normal
 *                                               survives kill -9 but not power loss; faster
 *   etcd://127.0.0.1:2379,127.0.0.1:22379?prefix=/skiff
 *                                               a real etcd cluster; keys live under `prefix`
 *                                               (default ''); http is implied, `etcd+https://` is not
 *                                               supported yet
 *
 * `openBackend(url)` returns a `Backend` (see `backend.ts` for the contract).
 */
import type { Backend } from './backend.ts';
import { MemoryBackend } from './memory/memory.ts';
import { SqliteBackend } from './sqlite/sqlite.ts';

export type {
  Backend,
  GetOptions,
  KeyValue,
  ListOptions,
  ListResult,
  Watch,
  WatchEvent,
  WatchEventType,
  WatchOptions,
} from './backend.ts';
export { Compactor, type CompactorOptions } from './compactor.ts';
export type { EtcdBackend, EtcdOptions } from './etcd/etcd.ts';
export { startTestEtcd, type TestEtcd } from './etcd/test-etcd.ts';
export { MemoryBackend } from './memory/memory.ts';
export { SqliteBackend, type SqliteOptions } from './sqlite/sqlite.ts';

/** Open the backend a URL names; throws on an unknown scheme or a malformed URL. */
export async function openBackend(url: string): Promise<Backend> {
  const scheme = url.slice(0, url.indexOf('://'));
  switch (scheme) {
    case 'memory':
      return new MemoryBackend();
    case 'sqlite': {
      const u = new URL(url);
      const path = decodeURIComponent(u.pathname);
      if (u.host !== '' || !path.startsWith('/') || path === '/') {
        throw new Error(
          `sqlite store URL needs an absolute file path (sqlite:///var/lib/skiff/state.db): ${url}`,
        );
      }
      const sync = u.searchParams.get('synchronous') ?? 'full';
      if (sync !== 'full' && sync !== 'normal')
        throw new Error(`sqlite synchronous must be full or normal: ${url}`);
      return new SqliteBackend(path, { synchronous: sync });
    }
    case 'etcd': {
      const rest = url.slice('etcd://'.length);
      const q = rest.indexOf('?');
      const hosts = (q < 0 ? rest : rest.slice(0, q)).split(',').filter((h) => h !== '');
      const params = new URLSearchParams(q < 0 ? '' : rest.slice(q + 1));
      if (hosts.length === 0 || hosts.some((h) => !/^[^/:]+:\d+$/.test(h))) {
        throw new Error(
          `etcd store URL needs host:port endpoints (etcd://127.0.0.1:2379,127.0.0.1:22379): ${url}`,
        );
      }
      // Loaded on demand: the gRPC client is heavy and most processes never need it.
      const { EtcdBackend } = await import('./etcd/etcd.ts');
      return new EtcdBackend({
        endpoints: hosts.map((h) => `http://${h}`),
        prefix: params.get('prefix') ?? '',
      });
    }
    default:
      throw new Error(
        `unknown store URL ${JSON.stringify(url)}: expected memory://, sqlite:///path or etcd://host:port`,
      );
  }
}
