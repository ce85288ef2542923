/**
 * The controller manager: one client, one set of shared informers, and every controller asked
 * for, optionally only while holding the `kube-controller-manager` Lease in kube-system.
 */
import { hostname } from 'node:os';
import { leaseClientFor, RestClient, runWhenLeader } from '../../client/index.ts';
import type { Controller, ControllerContext } from './controller.ts';
import { InformerFactory } from './informers.ts';

export interface ControllerManagerOptions {
  kubeconfig?: string;
  client?: RestClient;
  /**
   * Controllers to run, by name, as kube-controller-manager's `--controllers`: `*` is every
   * controller, `-name` leaves one out. Default: all.
   */
  controllers?: string[];
  /** Run only while holding the Lease (default false). */
  leaderElection?:
    | boolean
    | {
        namespace?: string;
        name?: string;
        identity?: string;
        leaseDurationMs?: number;
        renewDeadlineMs?: number;
        retryPeriodMs?: number;
      };
  /** Clock for time-driven controllers (CronJob, Job deadlines, node lifecycle); default Date.now. */
  now?: () => number;
  /** Per-controller options, e.g. `{ nodelifecycle: { gracePeriodMs: 2000 } }`. */
  options?: Record<string, Record<string, unknown>>;
  /** Informer resync period (default 0: none). */
  resyncPeriodMs?: number;
  log?: (msg: string) => void;
}

/** Which of `all` the `--controllers` style list selects. */
export function selectControllers(all: string[], wanted: string[] = ['*']): string[] {
  const star = wanted.includes('*');
  const out: string[] = [];
  for (const name of all) {
    if (wanted.includes(`-${name}`)) continue;
    if (star || wanted.includes(name)) out.push(name);
  }
  for (const w of wanted) {
    const n = w.replace(/^-/, '');
    if (w !== '*' && !all.includes(n))
      throw new Error(`unknown controller ${JSON.stringify(n)}; known: ${all.join(', ')}`);
  }
  return out;
}

export async function runControllers(
  registry: Record<string, Controller>,
  o: ControllerManagerOptions,
  signal: AbortSignal,
): Promise<void> {
  const names = selectControllers(Object.keys(registry), o.controllers);
  const client = o.client ?? (await RestClient.fromKubeconfig(o.kubeconfig ?? ''));
  const owned = !o.client;
  const run = async (leading: AbortSignal) => {
    const informers = new InformerFactory(client, { resyncPeriodMs: o.resyncPeriodMs });
    const ctx: ControllerContext = {
      client,
      informers,
      now: o.now ?? Date.now,
      options: o.options ?? {},
      signal: leading,
      log: o.log ?? ((m) => console.error(`controller-manager: ${m}`)),
    };
    const running = names.map((n) =>
      registry[n].start(ctx).catch((e) => {
        if (!leading.aborted) ctx.log(`${n} stopped: ${(e as Error)?.stack ?? e}`);
      }),
    );
    informers.start(leading);
    await Promise.all(running);
    await informers.stopped();
  };
  try {
    if (!o.leaderElection) {
      await run(signal);
      return;
    }
    const le = o.leaderElection === true ? {} : o.leaderElection;
    while (!signal.aborted) {
      await runWhenLeader(
        {
          client: leaseClientFor(client),
          namespace: le.namespace ?? 'kube-system',
          name: le.name ?? 'kube-controller-manager',
          identity: le.identity ?? `${hostname()}_${crypto.randomUUID()}`,
          leaseDurationMs: le.leaseDurationMs,
          renewDeadlineMs: le.renewDeadlineMs,
          retryPeriodMs: le.retryPeriodMs,
        },
        signal,
        { onStartedLeading: (leading) => run(leading) },
      );
    }
  } finally {
    if (owned) client.close();
  }
}
