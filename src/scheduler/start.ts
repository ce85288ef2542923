/**
 * The scheduler as a daemon against the API server: shared informers for Nodes and Pods feed
 * a `Scheduler`; bindings go through `pods/binding`, failures through `pods/status`
 * (PodScheduled=False, Unschedulable) and core/v1 Events, preemption victims are deleted.
 *
 *   await startScheduler({ kubeconfig: '/var/lib/skiff/admin.kubeconfig' }, signal);
 *
 * With `leaderElection`, only the holder of the Lease `kube-system/kube-scheduler` schedules;
 * each term starts from fresh informers, as a restarted kube-scheduler would.
 */
import { hostname } from 'node:os';
import type { Node, Pod, PodCondition } from 'kubernetes-types/core/v1.js';
import type { PriorityClass } from 'kubernetes-types/scheduling/v1.js';
import type { KubeObject } from '../api/index.ts';
import {
  type EventHandler,
  eventRecorder,
  type GroupVersionResource,
  leaseClientFor,
  listWatcherFor,
  NODES,
  PODS,
  RestClient,
  resourcePath,
  runWhenLeader,
  SharedInformer,
  stripManagedFields,
} from '../client/index.ts';
import type { PluginConfig } from './plugins/registry.ts';
import { Scheduler } from './scheduler.ts';

export const PRIORITY_CLASSES: GroupVersionResource = {
  group: 'scheduling.k8s.io',
  version: 'v1',
  resource: 'priorityclasses',
};

export interface LeaderElectionOptions {
  /** Default: hostname + random suffix. */
  identity?: string;
  /** Default kube-system / kube-scheduler. */
  namespace?: string;
  name?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export interface StartSchedulerOptions {
  /** A client, or a kubeconfig path to build one from. */
  client?: RestClient;
  kubeconfig?: string;
  schedulerName?: string;
  leaderElection?: LeaderElectionOptions | boolean;
  plugins?: PluginConfig[];
  percentageOfNodesToScore?: number;
  /** Bindings in flight at most (default 64). */
  maxBindsInFlight?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Called with each term's Scheduler once its informers have synced (tests, metrics). */
  onReady?(scheduler: Scheduler): void;
  onError?(err: unknown): void;
}

/** A SharedInformer seen through a kind's type (SharedInformer wants KubeObject's index signature). */
interface Informer<T> {
  store: { get(key: string): T | undefined };
  addEventHandler(h: EventHandler<T>): () => void;
  start(signal: AbortSignal): Promise<void>;
  waitForSync(signal?: AbortSignal): Promise<boolean>;
}

const keyOf = (pod: Pod) => `${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name}`;
const isTerminal = (pod: Pod) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

/** What of a pending pod can change where it fits; status-only writes (our own) do not count. */
function schedulingView(pod: Pod): string {
  const m = pod.metadata ?? {};
  return JSON.stringify([m.labels, m.annotations, m.deletionTimestamp, pod.spec]);
}

/** Run the scheduler until `signal` aborts. */
export async function startScheduler(o: StartSchedulerOptions, signal: AbortSignal): Promise<void> {
  let client = o.client;
  const own = !client;
  if (!client) {
    if (!o.kubeconfig) throw new Error('startScheduler needs a client or a kubeconfig');
    client = await RestClient.fromKubeconfig(o.kubeconfig);
  }
  try {
    const le = o.leaderElection;
    if (!le) {
      await runTerm(client, o, signal);
      return;
    }
    const cfg = le === true ? {} : le;
    const identity = cfg.identity ?? `${hostname()}_${crypto.randomUUID().slice(0, 8)}`;
    while (!signal.aborted) {
      await runWhenLeader(
        {
          client: leaseClientFor(client),
          namespace: cfg.namespace ?? 'kube-system',
          name: cfg.name ?? 'kube-scheduler',
          identity,
          leaseDurationMs: cfg.leaseDurationMs,
          renewDeadlineMs: cfg.renewDeadlineMs,
          retryPeriodMs: cfg.retryPeriodMs,
          onError: o.onError,
        },
        signal,
        { onStartedLeading: (leading) => runTerm(client, o, leading) },
      );
    }
  } finally {
    if (own) client.close();
  }
}

/** One term: informers, the scheduling loop, until `signal` aborts. */
async function runTerm(client: RestClient, o: StartSchedulerOptions, signal: AbortSignal): Promise<void> {
  const schedulerName = o.schedulerName ?? 'default-scheduler';
  const onError = o.onError ?? (() => {});
  // Scheduled, FailedScheduling and Preempted, written in the background (repeats counted)
  const events = eventRecorder(client, schedulerName, {
    apiVersion: 'v1',
    kind: 'Pod',
    instance: schedulerName,
    maxQueued: 5000,
    onError,
  });
  const classes = new Map<string, number>();

  const scheduler = new Scheduler({
    schedulerName,
    plugins: o.plugins,
    percentageOfNodesToScore: o.percentageOfNodesToScore,
    maxBindsInFlight: o.maxBindsInFlight,
    initialBackoffMs: o.initialBackoffMs,
    maxBackoffMs: o.maxBackoffMs,
    onError,
    binder: {
      async bind(pod, nodeName) {
        const m = pod.metadata ?? {};
        await client.request('POST', resourcePath(PODS, m.namespace, m.name, 'binding'), {
          body: {
            apiVersion: 'v1',
            kind: 'Binding',
            metadata: { name: m.name, namespace: m.namespace, uid: m.uid },
            target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
          },
        });
      },
    },
    recorder: {
      event: (pod, type, reason, message) =>
        events.record(pod as KubeObject, type, reason, message, {
          action: reason === 'Scheduled' ? 'Binding' : 'Scheduling',
        }),
    },
    statusWriter: {
      async unschedulable(pod, message, nominatedNodeName) {
        const cur = pods.store.get(keyOf(pod)) ?? pod;
        const conditions: PodCondition[] = (cur.status?.conditions ?? []).filter(
          (c) => c.type !== 'PodScheduled',
        );
        const old = cur.status?.conditions?.find((c) => c.type === 'PodScheduled');
        const changed = old?.status !== 'False' || old.reason !== 'Unschedulable';
        conditions.push({
          type: 'PodScheduled',
          status: 'False',
          reason: 'Unschedulable',
          message,
          lastProbeTime: null as unknown as string,
          lastTransitionTime: changed || !old?.lastTransitionTime ? now() : old.lastTransitionTime,
        });
        const status: Record<string, unknown> = { conditions };
        if (nominatedNodeName) status.nominatedNodeName = nominatedNodeName;
        await client.patch(
          PODS,
          pod.metadata?.name ?? '',
          { status },
          {
            type: 'merge',
            namespace: pod.metadata?.namespace,
            subresource: 'status',
          },
        );
      },
    },
    async evict(victim, preemptor) {
      events.record(
        victim as KubeObject,
        'Normal',
        'Preempted',
        `Preempted by pod ${preemptor.metadata?.uid ?? keyOf(preemptor)} on node ${victim.spec?.nodeName}`,
        { action: 'Preempting' },
      );
      await client.delete(PODS, victim.metadata?.name ?? '', {
        namespace: victim.metadata?.namespace,
        preconditions: victim.metadata?.uid ? { uid: victim.metadata.uid } : undefined,
      });
    },
  });

  // Pod priority from its PriorityClass: Skiff's API server has no Priority admission yet and
  // its defaulting may leave 0 there, so a known class wins over what the pod says.
  const withPriority = (pod: Pod): Pod => {
    const name = pod.spec?.priorityClassName;
    if (pod.spec && name && classes.has(name) && pod.spec.priority !== classes.get(name)) {
      return { ...pod, spec: { ...pod.spec, priority: classes.get(name) } };
    }
    return pod;
  };

  // managedFields are never read here: not kept (as kube-scheduler's informers do)
  const informerOpts = { onError, pageSize: 5000, transform: stripManagedFields };
  // The informers hold plain JSON; the handlers read it as the typed kinds.
  const nodes = new SharedInformer(listWatcherFor(client, NODES), informerOpts) as unknown as Informer<Node>;
  const pods = new SharedInformer(listWatcherFor(client, PODS), informerOpts) as unknown as Informer<Pod>;
  const priorityClasses = new SharedInformer(
    listWatcherFor(client, PRIORITY_CLASSES),
    informerOpts,
  ) as unknown as Informer<PriorityClass>;

  priorityClasses.addEventHandler({
    add: (pc) => void classes.set(pc.metadata?.name ?? '', pc.value),
    update: (_, pc) => void classes.set(pc.metadata?.name ?? '', pc.value),
    delete: (pc) => void classes.delete(pc.metadata?.name ?? ''),
  });
  nodes.addEventHandler({
    add: (n) => scheduler.onNodeAdd(n),
    update: (_, n) => scheduler.onNodeUpdate(n),
    delete: (n) => scheduler.onNodeDelete(n),
  });
  pods.addEventHandler({
    add(p) {
      if (p.spec?.nodeName && isTerminal(p)) return;
      scheduler.onPodAdd(withPriority(p));
    },
    update(old, p) {
      if (p.spec?.nodeName) {
        if (isTerminal(p)) scheduler.onPodDelete(p);
        else scheduler.onPodUpdate(withPriority(p), !old.spec?.nodeName);
      } else if (p.metadata?.deletionTimestamp) scheduler.onPodDelete(p);
      else if (schedulingView(old) !== schedulingView(p)) scheduler.onPodUpdate(withPriority(p));
    },
    delete: (p) => scheduler.onPodDelete(p),
  });

  const ac = new AbortController();
  const stop = () => ac.abort();
  signal.addEventListener('abort', stop, { once: true });
  const running: Promise<void>[] = [];
  try {
    // PriorityClasses first, so pods are queued with their priority.
    const hasClasses = await served(client, PRIORITY_CLASSES);
    if (hasClasses) {
      running.push(priorityClasses.start(ac.signal));
      if (!(await priorityClasses.waitForSync(ac.signal))) return;
    }
    running.push(nodes.start(ac.signal));
    if (!(await nodes.waitForSync(ac.signal))) return;
    running.push(pods.start(ac.signal));
    if (!(await pods.waitForSync(ac.signal))) return;
    o.onReady?.(scheduler);
    await scheduler.start(ac.signal);
  } finally {
    signal.removeEventListener('abort', stop);
    ac.abort();
    await Promise.allSettled(running);
    await events.flush();
  }
}

/** Whether the API server serves this resource (a list answers). */
async function served(client: RestClient, gvr: GroupVersionResource): Promise<boolean> {
  try {
    await client.list(gvr, { limit: 1 });
    return true;
  } catch {
    return false;
  }
}

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}
