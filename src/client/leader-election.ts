/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it.
 *
 * A candidate holds the lease while `spec.holderIdentity` is its identity and it keeps moving
 * `spec.renewTime` forward every `retryPeriodMs`. Another candidate may take the lease only
 * when it is free (no holder: released) or expired (`renewTime + leaseDurationSeconds` is in
 * the past); taking it sets `acquireTime` and increments `leaseTransitions`. Every write
 * carries the resourceVersion read, so of two candidates racing, one gets a Conflict and
 * loses. A leader that has not renewed for `renewDeadlineMs` gives up (its `onStartedLeading`
 * signal aborts) before its lease can expire and be taken, so two leaders never overlap as
 * long as renewDeadline < leaseDuration. Stopping a leader releases the lease by clearing
 * `holderIdentity`, so a successor need not wait for expiry.
 *
 *   await runWhenLeader({ client: leaseClientFor(rest), namespace: 'kube-system',
 *     name: 'skiff-scheduler', identity: hostname }, signal, {
 *     onStartedLeading: (leading) => scheduler.start(leading),
 *     onStoppedLeading: () => log('lost the lease'),
 *   });
 */
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { isReason } from '../api/errors.ts';

/** The few Lease operations leader election needs; `get` answers undefined for NotFound. */
export interface LeaseClient {
  get(namespace: string, name: string): Promise<Lease | undefined>;
  /** Throws StatusError AlreadyExists if it exists. */
  create(lease: Lease): Promise<Lease>;
  /** Throws StatusError Conflict if `metadata.resourceVersion` is stale. */
  update(lease: Lease): Promise<Lease>;
}

export interface LeaderElectionConfig {
  client: LeaseClient;
  namespace: string;
  name: string;
  identity: string;
  /** How long a lease stays valid after its last renewal (default 15 s; stored in whole seconds). */
  leaseDurationMs?: number;
  /** A leader that could not renew for this long gives up (default 10 s). */
  renewDeadlineMs?: number;
  /** Interval between acquire and renew attempts (default 2 s). */
  retryPeriodMs?: number;
  /** Clock, for tests (default Date.now). */
  now?: () => number;
  onError?(err: unknown): void;
}

export interface LeaderCallbacks {
  /** Called on becoming leader; `signal` aborts when leadership ends. */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  onStoppedLeading?(): void;
  /** Called whenever the observed holder changes (including to ourselves). */
  onNewLeader?(identity: string): void;
}

/** Kubernetes MicroTime: RFC 3339 with microseconds. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/**
 * Campaign for the lease until `signal` aborts; lead while holding it. Resolves when leadership
 * is lost (renewal failed for renewDeadline) or when `signal` aborts (the lease is then released).
 */
export async function runWhenLeader(
  cfg: LeaderElectionConfig,
  signal: AbortSignal,
  cb: LeaderCallbacks,
): Promise<void> {
  const now = cfg.now ?? Date.now;
  const retry = cfg.retryPeriodMs ?? 2000;
  const renewDeadline = cfg.renewDeadlineMs ?? 10_000;
  const durationSeconds = Math.max(1, Math.ceil((cfg.leaseDurationMs ?? 15_000) / 1000));
  let observedHolder = '';

  const observe = (lease: Lease | undefined) => {
    const h = lease?.spec?.holderIdentity ?? '';
    if (h !== observedHolder) {
      observedHolder = h;
      if (h) cb.onNewLeader?.(h);
    }
  };

  /** One attempt; true if we hold the lease afterwards. */
  const tryAcquireOrRenew = async (): Promise<boolean> => {
    const t = now();
    const current = await cfg.client.get(cfg.namespace, cfg.name);
    if (!current) {
      const created = await cfg.client.create({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { namespace: cfg.namespace, name: cfg.name },
        spec: {
          holderIdentity: cfg.identity,
          leaseDurationSeconds: durationSeconds,
          acquireTime: microTime(t),
          renewTime: microTime(t),
          leaseTransitions: 0,
        },
      });
      observe(created);
      return true;
    }
    observe(current);
    const spec = current.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const renewed = spec.renewTime ? Date.parse(spec.renewTime) : 0;
    const expired = renewed + (spec.leaseDurationSeconds ?? durationSeconds) * 1000 <= t;
    if (holder && holder !== cfg.identity && !expired) return false;
    const mine = holder === cfg.identity;
    const next: Lease = {
      ...current,
      spec: {
        ...spec,
        holderIdentity: cfg.identity,
        leaseDurationSeconds: durationSeconds,
        renewTime: microTime(t),
        acquireTime: mine ? spec.acquireTime : microTime(t),
        leaseTransitions: mine
          ? (spec.leaseTransitions ?? 0)
          : (spec.leaseTransitions ?? 0) + (holder ? 1 : 0),
      },
    };
    const updated = await cfg.client.update(next);
    observe(updated);
    return true;
  };

  const attempt = async (): Promise<boolean> => {
    try {
      return await tryAcquireOrRenew();
    } catch (e) {
      if (!isReason(e, 'Conflict') && !isReason(e, 'AlreadyExists')) cfg.onError?.(e);
      return false;
    }
  };

  // Campaign.
  while (!signal.aborted) {
    if (await attempt()) break;
    await sleep(retry, signal);
  }
  if (signal.aborted) return;

  // Lead.
  const leading = new AbortController();
  const stopLeading = () => leading.abort();
  signal.addEventListener('abort', stopLeading, { once: true });
  let lastRenew = now();
  let work: Promise<void> | void;
  try {
    work = cb.onStartedLeading(leading.signal);
    Promise.resolve(work).catch((e) => cfg.onError?.(e));
  } catch (e) {
    cfg.onError?.(e);
  }
  try {
    while (!signal.aborted) {
      await sleep(retry, signal);
      if (signal.aborted) break;
      if (await attempt()) {
        lastRenew = now();
      } else if (now() - lastRenew >= renewDeadline || (observedHolder && observedHolder !== cfg.identity)) {
        break;
      }
    }
  } finally {
    signal.removeEventListener('abort', stopLeading);
    leading.abort();
    if (signal.aborted) await release(cfg, now).catch((e) => cfg.onError?.(e));
    cb.onStoppedLeading?.();
  }
}

async function release(cfg: LeaderElectionConfig, now: () => number): Promise<void> {
  const current = await cfg.client.get(cfg.namespace, cfg.name);
  if (!current || current.spec?.holderIdentity !== cfg.identity) return;
  await cfg.client.update({
    ...current,
    spec: { ...current.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(now()) },
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
