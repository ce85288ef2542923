/**
 * One shared informer per resource for every controller of a manager: the first controller
 * that asks for pods starts the pod informer, the others share its cache.
 */
import type { KubeObject } from '../../api/index.ts';
import {
  type GroupVersionResource,
  listWatcherFor,
  type RestClient,
  SharedInformer,
  stripManagedFields,
} from '../../client/index.ts';

export function gvrKey(gvr: GroupVersionResource): string {
  return `${gvr.group}/${gvr.version}/${gvr.resource}`;
}

export class InformerFactory {
  #client: RestClient;
  #informers = new Map<string, SharedInformer>();
  #signal: AbortSignal | undefined;
  #resyncPeriodMs: number;
  #running: Promise<void>[] = [];

  constructor(client: RestClient, opts: { resyncPeriodMs?: number } = {}) {
    this.#client = client;
    this.#resyncPeriodMs = opts.resyncPeriodMs ?? 0;
  }

  /** The shared informer of a resource; started at once if the factory already runs. */
  informerFor<T extends KubeObject = KubeObject>(gvr: GroupVersionResource): SharedInformer<T> {
    const key = gvrKey(gvr);
    let inf = this.#informers.get(key);
    if (!inf) {
      inf = new SharedInformer(listWatcherFor(this.#client, gvr), {
        resyncPeriodMs: this.#resyncPeriodMs,
        // no controller reads managedFields (kube-controller-manager drops them too)
        transform: stripManagedFields,
        onError: (e) => {
          if (!this.#signal?.aborted) console.error(`informer ${key}:`, (e as Error)?.message ?? e);
        },
      });
      this.#informers.set(key, inf);
      if (this.#signal) this.#running.push(inf.start(this.#signal));
    }
    return inf as unknown as SharedInformer<T>;
  }

  /** Start every informer asked for so far, and any asked for later, until `signal` aborts. */
  start(signal: AbortSignal): void {
    this.#signal = signal;
    for (const inf of this.#informers.values()) this.#running.push(inf.start(signal));
  }

  async waitForSync(signal: AbortSignal): Promise<boolean> {
    for (const inf of this.#informers.values()) if (!(await inf.waitForSync(signal))) return false;
    return true;
  }

  /** Resolves once every started informer has stopped. */
  async stopped(): Promise<void> {
    await Promise.allSettled(this.#running);
  }
}
