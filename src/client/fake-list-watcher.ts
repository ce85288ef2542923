/**
 * An in-memory ListWatcher for tests of informers and controllers: objects changed through
 * `create`/`update`/`remove` get increasing resourceVersions and are replayed to watchers
 * from any resourceVersion still in the log. `compact()` makes older resourceVersions answer
 * 410, `dropWatches()` ends every open watch (as a server restart would), and `bookmark()`
 * sends a BOOKMARK to open watches.
 */
import type { KubeObject } from '../api/resource.ts';
import type { ListOptions, ListResult, ListWatcher, WatchEvent, WatchOptions } from './informer.ts';
import { keyOf } from './store.ts';

interface Logged {
  rv: number;
  event: WatchEvent;
}

export class FakeListWatcher implements ListWatcher {
  #objects = new Map<string, KubeObject>();
  #log: Logged[] = [];
  #rv = 0;
  #compactedRv = 0;
  #wakers = new Set<() => void>();
  #dropGeneration = 0;
  #snapshots = new Map<string, { items: KubeObject[]; rv: string }>();
  /** When true, a too-old watch throws an error with code 410 instead of sending an ERROR event. */
  goneAsThrow = false;
  listCalls = 0;
  watchCalls: string[] = [];

  get resourceVersion(): string {
    return String(this.#rv);
  }

  create(obj: KubeObject): KubeObject {
    return this.#write('ADDED', obj);
  }

  update(obj: KubeObject): KubeObject {
    return this.#write('MODIFIED', obj);
  }

  remove(obj: KubeObject): KubeObject {
    return this.#write('DELETED', obj);
  }

  #write(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject): KubeObject {
    this.#rv++;
    const stored = structuredClone(obj);
    stored.metadata = { ...stored.metadata, resourceVersion: String(this.#rv) };
    if (type === 'DELETED') this.#objects.delete(keyOf(stored));
    else this.#objects.set(keyOf(stored), stored);
    this.#log.push({ rv: this.#rv, event: { type, object: stored } });
    this.#wake();
    return stored;
  }

  /** Forget the log: watches from any resourceVersion before now answer 410. */
  compact(): void {
    this.#compactedRv = this.#rv;
    this.#log = [];
  }

  dropWatches(): void {
    this.#dropGeneration++;
    this.#wake();
  }

  bookmark(): void {
    this.#log.push({
      rv: this.#rv,
      event: { type: 'BOOKMARK', object: { kind: 'Pod', metadata: { resourceVersion: String(this.#rv) } } },
    });
    this.#wake();
  }

  #wake(): void {
    for (const w of this.#wakers) w();
    this.#wakers.clear();
  }

  async list(opts: ListOptions): Promise<ListResult> {
    this.listCalls++;
    let snap: { items: KubeObject[]; rv: string };
    let offset = 0;
    if (opts.continue) {
      const [id, off] = opts.continue.split(':');
      snap = this.#snapshots.get(id)!;
      offset = Number(off);
    } else {
      const items = [...this.#objects.values()].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
      snap = { items: structuredClone(items), rv: String(this.#rv) };
      this.#snapshots.set(String(this.listCalls), snap);
    }
    const limit = opts.limit || snap.items.length;
    const items = snap.items.slice(offset, offset + limit);
    const next = offset + limit;
    const metadata: ListResult['metadata'] = { resourceVersion: snap.rv };
    if (next < snap.items.length) {
      metadata.continue = `${opts.continue ? opts.continue.split(':')[0] : this.listCalls}:${next}`;
    }
    return { items, metadata };
  }

  async *watch(opts: WatchOptions): AsyncIterable<WatchEvent> {
    this.watchCalls.push(opts.resourceVersion);
    const from = Number(opts.resourceVersion);
    if (from < this.#compactedRv) {
      const status = { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410 };
      if (this.goneAsThrow) throw Object.assign(new Error('too old resource version'), { code: 410 });
      yield { type: 'ERROR', object: { ...status, message: 'too old resource version' } };
      return;
    }
    const gen = this.#dropGeneration;
    let next = from;
    while (!opts.signal.aborted && gen === this.#dropGeneration) {
      const pending = this.#log.filter((l) => l.rv > next || (l.event.type === 'BOOKMARK' && l.rv >= next));
      for (const l of pending) {
        if (l.event.type === 'BOOKMARK') {
          this.#log.splice(this.#log.indexOf(l), 1);
        } else next = l.rv;
        yield structuredClone(l.event);
        if (opts.signal.aborted || gen !== this.#dropGeneration) return;
      }
      if (pending.length > 0) continue;
      await new Promise<void>((resolve) => {
        const onAbort = () => resolve();
        opts.signal.addEventListener('abort', onAbort, { once: true });
        this.#wakers.add(() => {
          opts.signal.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
  }
}
