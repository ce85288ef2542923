/**
 * Gives the heap back after a burst, once the process has gone quiet.
 *
 * V8 grows its heap for a burst of work (a young generation up to --max-semi-space-size per
 * semi-space, an old generation full of garbage that no collection has needed to reclaim yet)
 * and keeps it: in `skiff server`, V8's own memory reducer is never armed after such a burst, so
 * a server that created 50,000 objects and then went idle held ~60 MiB of heap it no longer
 * used, indefinitely. Go's runtime, which kube-apiserver runs on, returns memory with a
 * background scavenger and a forced collection every two minutes; this is the same idea for V8:
 * when the event loop has been nearly idle for a few checks in a row and the heap has grown by
 * more than a threshold since the last reduction, run one memory-reducing full collection
 * (V8's "last resort" collection: it compacts, shrinks the young generation and releases
 * pages). It runs only while the process is idle, so the pause (tens of milliseconds to ~150
 * ms for a ~40 MiB heap) delays no burst.
 */
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';

export interface MemoryReducerOptions {
  /** A full collection that gives memory back to the system. */
  collect: () => void;
  /** The heap's resident size now, in bytes. */
  heapBytes: () => number;
  /** The fraction of time the event loop was busy since the previous call (0..1). */
  busySinceLastCall: () => number;
  /** How often to look (default 1 s). */
  periodMs?: number;
  /** How many quiet looks in a row make the process idle (default 2). */
  quietChecks?: number;
  /** A look is quiet when the loop was busy less than this fraction of it (default 0.05). */
  quietBelow?: number;
  /** Collect only when the heap has grown by more than this since the last collection (default 8 MiB). */
  growthBytes?: number;
}

export interface MemoryReducer {
  /** One look (the timer calls this; exposed for tests); true when it collected. */
  check(): boolean;
  /** How many collections it has run. */
  readonly collections: number;
  stop(): void;
}

export function memoryReducer(opts: MemoryReducerOptions): MemoryReducer {
  const quietChecks = opts.quietChecks ?? 2;
  const quietBelow = opts.quietBelow ?? 0.05;
  const growth = opts.growthBytes ?? 8 * 1024 * 1024;
  let floor = opts.heapBytes();
  let quiet = 0;
  let collections = 0;
  const check = (): boolean => {
    const busy = opts.busySinceLastCall();
    quiet = busy < quietBelow ? quiet + 1 : 0;
    const heap = opts.heapBytes();
    if (heap < floor) floor = heap;
    if (quiet < quietChecks || heap - floor <= growth) return false;
    opts.collect();
    collections++;
    floor = opts.heapBytes();
    quiet = 0;
    return true;
  };
  const timer = setInterval(check, opts.periodMs ?? 1000);
  timer.unref();
  return {
    check,
    get collections() {
      return collections;
    },
    stop: () => clearInterval(timer),
  };
}

/** V8's collection function, when the process was started with --expose-gc. */
type ExposedGc = (options?: {
  type?: 'major' | 'minor';
  execution?: 'sync' | 'async';
  flavor?: string;
}) => void;

/**
 * One memory-reducing full collection now (V8's "last resort" collection: it compacts, shrinks
 * the young generation and releases pages); false when the process was started without
 * --expose-gc.
 */
export function reduceHeapNow(): boolean {
  const gc = (globalThis as { gc?: ExposedGc }).gc;
  if (typeof gc !== 'function') return false;
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  return true;
}

/**
 * The memory reducer for this process, on V8's heap and event loop; undefined when the process
 * was started without --expose-gc (bin/skiff passes it to `skiff server`).
 */
export function startProcessMemoryReducer(
  tuning: Pick<MemoryReducerOptions, 'periodMs' | 'quietChecks' | 'quietBelow' | 'growthBytes'> = {},
): MemoryReducer | undefined {
  if (typeof (globalThis as { gc?: ExposedGc }).gc !== 'function') return undefined;
  let last = performance.eventLoopUtilization();
  return memoryReducer({
    ...tuning,
    collect: reduceHeapNow,
    heapBytes: () => v8.getHeapStatistics().total_physical_size,
    busySinceLastCall: () => {
      const now = performance.eventLoopUtilization();
      const delta = performance.eventLoopUtilization(now, last);
      last = now;
      return delta.utilization;
    },
  });
}
