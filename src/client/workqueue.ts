/**
 * A rate-limited work queue of string keys (usually `namespace/name`), the heart of every
 * controller loop.
 *
 * Guarantees:
 * - De-duplication: a key added while it waits in the queue is queued once.
 * - Exclusion: a key handed out by `get()` is never handed out again until `done(key)`.
 *   If it is added meanwhile it is marked dirty and queued again when `done` is called,
 *   so the last change is always processed, and never by two workers at once.
 * - FIFO among distinct keys.
 * - `addRateLimited(key)` delays by a per-key exponential back-off
 *   (`baseDelayMs * 2^failures`, capped at `maxDelayMs`); `forget(key)` resets it and
 *   `numRequeues(key)` tells how many back-offs the key has had.
 * - `addAfter(key, ms)` adds the key once the delay has passed (unless shut down); a key already
 *   waiting for an earlier time keeps it, so many delayed adds of one key cost one timer.
 * - `shutDown()` stops accepting keys; `get()` returns `undefined` once the queue is empty,
 *   so workers drain what is queued and exit. `shutDownWithDrain()` also waits for keys
 *   being processed to be `done`.
 *
 *   const q = new WorkQueue();
 *   q.add('default/web');
 *   for (let key = await q.get(); key !== undefined; key = await q.get()) {
 *     try { await reconcile(key); q.forget(key); } catch { q.addRateLimited(key); }
 *     finally { q.done(key); }
 *   }
 */
export interface WorkQueueOptions {
  /** First back-off delay (default 5 ms, like client-go). */
  baseDelayMs?: number;
  /** Back-off ceiling (default 1000 s, like client-go). */
  maxDelayMs?: number;
}

export class WorkQueue<K = string> {
  #queue: K[] = [];
  #head = 0;
  #dirty = new Set<K>();
  #processing = new Set<K>();
  #failures = new Map<K, number>();
  /** Keys waiting for a delay: when they are due, and their timer. */
  #delayed = new Map<K, { at: number; timer: ReturnType<typeof setTimeout> }>();
  #waiters: ((k: K | undefined) => void)[] = [];
  #drainWaiters: (() => void)[] = [];
  #shuttingDown = false;
  #baseDelayMs: number;
  #maxDelayMs: number;

  constructor(opts: WorkQueueOptions = {}) {
    this.#baseDelayMs = opts.baseDelayMs ?? 5;
    this.#maxDelayMs = opts.maxDelayMs ?? 1_000_000;
  }

  /** Queue `key` now (no-op if it already waits, or if the queue is shutting down). */
  add(key: K): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    if (this.#processing.has(key)) return; // re-queued by done()
    const w = this.#waiters.shift();
    if (w) {
      this.#dirty.delete(key);
      this.#processing.add(key);
      w(key);
      return;
    }
    this.#queue.push(key);
  }

  /** Queue `key` after `delayMs`. */
  addAfter(key: K, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + delayMs;
    const waiting = this.#delayed.get(key);
    if (waiting) {
      if (waiting.at <= at) return;
      clearTimeout(waiting.timer);
    }
    const timer = setTimeout(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, delayMs);
    this.#delayed.set(key, { at, timer });
  }

  /** Queue `key` after its next back-off delay. */
  addRateLimited(key: K): void {
    const n = this.#failures.get(key) ?? 0;
    this.#failures.set(key, n + 1);
    this.addAfter(key, this.backoffFor(n));
  }

  /** The delay the n-th (0-based) back-off of a key gets. */
  backoffFor(n: number): number {
    return Math.min(this.#baseDelayMs * 2 ** Math.min(n, 60), this.#maxDelayMs);
  }

  /** Reset the back-off of `key` (call after it was processed successfully). */
  forget(key: K): void {
    this.#failures.delete(key);
  }

  numRequeues(key: K): number {
    return this.#failures.get(key) ?? 0;
  }

  /** Number of keys waiting (not counting those being processed). */
  get length(): number {
    return this.#queue.length - this.#head;
  }

  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** The next key to process, waiting for one if needed; `undefined` once shut down and empty. */
  get(): Promise<K | undefined> {
    const k = this.#tryGet();
    if (k !== undefined || this.#shuttingDown) return Promise.resolve(k);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #tryGet(): K | undefined {
    if (this.#head >= this.#queue.length) return undefined;
    const k = this.#queue[this.#head++];
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    this.#dirty.delete(k);
    this.#processing.add(k);
    return k;
  }

  /** Mark `key` processed; if it was added meanwhile it is queued again. */
  done(key: K): void {
    this.#processing.delete(key);
    if (this.#dirty.has(key)) {
      this.#dirty.delete(key);
      this.add(key);
    }
    if (this.#processing.size === 0) for (const w of this.#drainWaiters.splice(0)) w();
  }

  /** Stop accepting keys; waiting workers get `undefined` once the queue is empty. */
  shutDown(): void {
    this.#shuttingDown = true;
    for (const d of this.#delayed.values()) clearTimeout(d.timer);
    this.#delayed.clear();
    for (const w of this.#waiters.splice(0)) w(undefined);
  }

  /** Shut down and resolve once every key handed out has been `done`. */
  async shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.#processing.size === 0) return;
    await new Promise<void>((resolve) => this.#drainWaiters.push(resolve));
  }
}
