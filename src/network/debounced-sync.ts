/**
 * The loop behind the service proxy and NetworkPolicy: informers feed one `sync` of the whole
 * desired state into the kernel, debounced so a burst of events (a Deployment scaling up) costs
 * one transaction. At most one pass runs at a time; events during a pass ask for one more after
 * it. A pass waits until `ready()` (its informers have listed), and a pass that throws is logged
 * and retried after a second. An empty cluster sends no events, so the first pass comes once
 * every informer has listed.
 *
 *   try {
 *     await debouncedSync({ name: 'service proxy', informers, sync: () => proxier.sync(...) }, signal);
 *   } finally {
 *     await proxier.close();
 *   }
 */
import type { SharedInformer } from '../client/index.ts';

export interface DebouncedSyncOptions {
  /** Names the loop in log lines (`<name>: sync failed, retrying: ...`). */
  name: string;
  /** Started by the loop; any change to them asks for a pass. */
  informers: SharedInformer<any>[];
  /** Whether a pass may run yet (default: every informer has listed); if not, it looks again in 100 ms. */
  ready?: () => boolean;
  /** How long to let a burst of changes settle before a pass (default 50 ms). */
  debounceMs?: number;
  /** One pass. `retryLater` asks for another pass in a second (after a failure it handled itself). */
  sync(retryLater: () => void): Promise<void>;
}

/** Runs until `signal` aborts and the informers stop; then waits for a running pass. */
export async function debouncedSync(o: DebouncedSyncOptions, signal: AbortSignal): Promise<void> {
  const ready = o.ready ?? (() => o.informers.every((i) => i.hasSynced()));
  const debounce = o.debounceMs ?? 50;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;

  const later = (ms: number) => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(kick, ms);
  };
  const retryLater = () => later(1000);
  const pass = async () => {
    if (!ready()) {
      later(100); // not listed yet: look again shortly
      return;
    }
    try {
      await o.sync(retryLater);
    } catch (e) {
      if (signal.aborted) return;
      console.error(`${o.name}: sync failed, retrying:`, e);
      retryLater();
    }
  };
  const kick = () => {
    if (signal.aborted) return;
    if (running) {
      again = true;
      return;
    }
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      running = pass().finally(() => {
        running = undefined;
        if (again) {
          again = false;
          kick();
        }
      });
    }, debounce);
  };

  for (const inf of o.informers) inf.addEventHandler({ add: kick, update: kick, delete: kick });
  void Promise.all(o.informers.map((i) => i.waitForSync(signal))).then(kick, () => {});
  try {
    await Promise.allSettled(o.informers.map((i) => i.start(signal)));
  } finally {
    if (timer) clearTimeout(timer);
    await running;
  }
}
