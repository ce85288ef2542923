/**
 * In-process watch fan-out shared by the memory and sqlite backends.
 *
 * A backend publishes each committed event, in revision order, in the same synchronous
 * step as its commit. `subscribe` registers the watcher at once (so nothing committed
 * later can slip past it), then, when the watcher starts in the past, replays history
 * from the backend before draining what arrived live meanwhile. Every event passes a
 * single cursor (the last revision delivered), which is what makes the hand-over free of
 * gaps and duplicates.
 */

import { gone } from '../api/errors.ts';
import type { Watch, WatchEvent } from './backend.ts';

/** Events under `prefix` with modRevision > afterRevision, oldest first, at most `limit`. Throws Gone if compacted. */
export type HistoryReader = (
  prefix: string,
  afterRevision: number,
  limit: number,
) => WatchEvent[] | Promise<WatchEvent[]>;

/** A watcher that lets this many events pile up unread is cut off with Gone; its client re-lists. */
const MAX_BACKLOG = 200_000;
const HISTORY_BATCH = 1000;

/** A queue of events between one producer and one watch consumer; ending it drops what is unread. */
export class Channel {
  readonly prefix: string;
  #items: WatchEvent[] = [];
  #head = 0;
  #wake?: () => void;
  #ended = false;
  #error?: unknown;

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  push(ev: WatchEvent): void {
    if (this.#ended) return;
    if (this.#items.length - this.#head >= MAX_BACKLOG) {
      this.end(gone('watcher fell too far behind; list again'));
      return;
    }
    this.#items.push(ev);
    this.#notify();
  }

  end(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    // An ended watch stops at once: what it had not read yet is dropped.
    this.#items = [];
    this.#head = 0;
    this.#notify();
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** The next event, or undefined once ended and drained (an error ends it at once). */
  async next(): Promise<WatchEvent | undefined> {
    for (;;) {
      if (this.#error !== undefined) throw this.#error;
      if (this.#head < this.#items.length) {
        const ev = this.#items[this.#head++];
        if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
          this.#items = this.#items.slice(this.#head);
          this.#head = 0;
        }
        return ev;
      }
      if (this.#ended) return undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

export class WatchHub {
  #channels = new Set<Channel>();
  #closed = false;

  /** How many watches are open (for tests and metrics). */
  get size(): number {
    return this.#channels.size;
  }

  /** Hand committed events, in revision order, to every matching watcher. */
  publish(ev: WatchEvent): void {
    for (const ch of this.#channels) if (ev.kv.key.startsWith(ch.prefix)) ch.push(ev);
  }

  /**
   * A watch on `prefix` delivering events with modRevision > afterRevision. `current` is
   * the revision already published when this is called: history up to it comes from
   * `history`, everything later from `publish`.
   */
  subscribe(
    prefix: string,
    afterRevision: number,
    current: number,
    history: HistoryReader,
    signal?: AbortSignal,
  ): Watch {
    const ch = new Channel(prefix);
    if (this.#closed || signal?.aborted) ch.end();
    else this.#channels.add(ch);
    const onAbort = (): void => ch.end();
    signal?.addEventListener('abort', onAbort, { once: true });
    const channels = this.#channels;
    const release = (): void => {
      ch.end();
      channels.delete(ch);
      signal?.removeEventListener('abort', onAbort);
    };
    if (ch.ended) release();

    async function* stream(): AsyncGenerator<WatchEvent> {
      try {
        let last = afterRevision;
        if (afterRevision < current) {
          for (;;) {
            const batch = await history(prefix, last, HISTORY_BATCH);
            for (const ev of batch) {
              if (ch.ended) break;
              if (ev.kv.modRevision <= last) continue;
              last = ev.kv.modRevision;
              yield ev;
            }
            if (batch.length < HISTORY_BATCH || ch.ended) break;
          }
        }
        for (;;) {
          const ev = await ch.next();
          if (ev === undefined) return;
          if (ev.kv.modRevision <= last) continue;
          last = ev.kv.modRevision;
          yield ev;
        }
      } finally {
        release();
      }
    }
    return stream();
  }

  /** End every watch (their iterators return). */
  close(): void {
    this.#closed = true;
    for (const ch of this.#channels) ch.end();
    this.#channels.clear();
  }
}
