/**
 * Expectations: what a controller has asked the API server to create or delete and has not yet
 * seen in its informer's cache. While a key has unmet expectations its cache is known to be
 * stale, so the controller must not compute a new diff (it would create the same pods twice).
 * Expectations lapse after `ttlMs` (5 minutes, as upstream) in case an event was missed.
 */
import type { KubeObject } from '../../api/index.ts';
import type { EventHandler } from '../../client/index.ts';
import { keyOfRef } from './objects.ts';

interface Expectation {
  add: number;
  del: Set<string>;
  at: number;
}

export class Expectations {
  #items = new Map<string, Expectation>();
  #ttlMs: number;
  #now: () => number;

  constructor(opts: { ttlMs?: number; now?: () => number } = {}) {
    this.#ttlMs = opts.ttlMs ?? 5 * 60_000;
    this.#now = opts.now ?? Date.now;
  }

  /** True when nothing is pending (or what was pending has lapsed). */
  satisfied(key: string): boolean {
    const e = this.#items.get(key);
    if (!e) return true;
    if ((e.add <= 0 && e.del.size === 0) || this.#now() - e.at > this.#ttlMs) {
      this.#items.delete(key);
      return true;
    }
    return false;
  }

  expectCreations(key: string, n: number): void {
    const e = this.#get(key);
    e.add += n;
    e.at = this.#now();
  }

  /** `uids` of the objects whose deletion was asked for. */
  expectDeletions(key: string, uids: string[]): void {
    const e = this.#get(key);
    for (const u of uids) e.del.add(u);
    e.at = this.#now();
  }

  creationObserved(key: string): void {
    const e = this.#items.get(key);
    if (e) e.add--;
  }

  /** A creation that failed will never be observed. */
  lowerCreations(key: string, n: number): void {
    const e = this.#items.get(key);
    if (e) e.add -= n;
  }

  deletionObserved(key: string, uid: string): void {
    this.#items.get(key)?.del.delete(uid);
  }

  forget(key: string): void {
    this.#items.delete(key);
  }

  #get(key: string): Expectation {
    let e = this.#items.get(key);
    if (!e) {
      e = { add: 0, del: new Set(), at: this.#now() };
      this.#items.set(key, e);
    }
    return e;
  }
}

/**
 * The pod informer handler of a controller that creates pods: a pod a `kind` controls marks its
 * owner's creation observed when it appears, and its deletion when it is deleted or gets a
 * deletionTimestamp. A pod no `kind` controls goes to `orphan` (added or updated), for adoption.
 *
 *   pods.addEventHandler(observeOwnedPods(exp, 'ReplicaSet', enqueueMatching));
 */
export function observeOwnedPods(
  exp: Expectations,
  kind: string,
  orphan?: (pod: KubeObject) => void,
): EventHandler<KubeObject> {
  return {
    add: (p) => {
      const k = keyOfRef(p, kind);
      if (k) exp.creationObserved(k);
      else orphan?.(p);
    },
    update: (_, p) => {
      const k = keyOfRef(p, kind);
      if (k && p.metadata?.deletionTimestamp) exp.deletionObserved(k, p.metadata.uid!);
      if (!k) orphan?.(p);
    },
    delete: (p) => {
      const k = keyOfRef(p, kind);
      if (k) exp.deletionObserved(k, p.metadata!.uid!);
    },
  };
}
