/**
 * Periodic compaction, as kube-apiserver does it: at every tick, compact at the revision
 * that was current one tick earlier, so watchers and paginated lists keep about one
 * interval of history and the store does not grow without bound.
 *
 *   const compactor = new Compactor(backend, { intervalMs: 5 * 60_000 });
 *   void compactor.start(signal);
 */
import type { Backend } from './backend.ts';

export interface CompactorOptions {
  /** Time between compactions; history younger than this survives. Default 5 minutes. */
  intervalMs?: number;
  /** Called when a compaction fails (the next tick tries again). Default: console.error. */
  onError?: (e: unknown) => void;
}

export class Compactor {
  readonly #backend: Backend;
  readonly #intervalMs: number;
  readonly #onError: (e: unknown) => void;

  constructor(backend: Backend, opts: CompactorOptions = {}) {
    this.#backend = backend;
    this.#intervalMs = opts.intervalMs ?? 5 * 60_000;
    this.#onError = opts.onError ?? ((e) => console.error('store: compaction failed:', e));
  }

  /** Compact every interval until `signal` aborts. */
  async start(signal: AbortSignal): Promise<void> {
    let previous = 0;
    while (!signal.aborted) {
      try {
        if (previous > 0) await this.#backend.compact(previous);
        previous = await this.#backend.currentRevision();
      } catch (e) {
        if (signal.aborted) return;
        this.#onError(e);
      }
      await sleep(this.#intervalMs, signal);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
