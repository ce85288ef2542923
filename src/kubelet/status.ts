/**
 * Pod status as Kubernetes reports it, computed from what the runtime says (CRI container
 * statuses, latest attempt first) and what the pod worker knows (waiting reasons such as
 * CrashLoopBackOff, probe results). Pure functions: the worker decides when to write.
 */
import type { ContainerStatus } from '../cri/index.ts';

type Json = Record<string, any>;

export const time = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
export const nsToMs = (ns: number): number => Math.floor(ns / 1e6);

export interface Waiting {
  reason: string;
  message?: string;
}

export interface ContainerView {
  spec: Json;
  /** this container's CRI statuses, newest attempt first */
  history: ContainerStatus[];
  waiting?: Waiting;
  ready: boolean;
  started: boolean;
}

function terminated(s: ContainerStatus, scheme: string): Json {
  return {
    terminated: {
      exitCode: s.exitCode,
      reason: s.reason || (s.exitCode === 0 ? 'Completed' : 'Error'),
      ...(s.message ? { message: s.message } : {}),
      startedAt: s.startedAt ? time(nsToMs(s.startedAt)) : null,
      finishedAt: s.finishedAt ? time(nsToMs(s.finishedAt)) : null,
      containerID: `${scheme}://${s.id}`,
    },
  };
}

export function containerStatus(v: ContainerView, scheme: string, defaultWaiting: string): Json {
  const [latest, previous] = v.history;
  const out: Json = {
    name: v.spec.name,
    state: {},
    lastState: {},
    ready: false,
    restartCount: latest?.metadata.attempt ?? 0,
    image: v.spec.image,
    imageID: latest?.imageRef ?? '',
  };
  if (latest) out.containerID = `${scheme}://${latest.id}`;
  const running = latest?.state === 'CONTAINER_RUNNING';
  if (v.waiting && !running) {
    out.state = {
      waiting: { reason: v.waiting.reason, ...(v.waiting.message ? { message: v.waiting.message } : {}) },
    };
    if (latest?.state === 'CONTAINER_EXITED') out.lastState = terminated(latest, scheme);
    else if (previous) out.lastState = terminated(previous, scheme);
  } else if (!latest || latest.state === 'CONTAINER_CREATED') {
    out.state = { waiting: { reason: defaultWaiting } };
  } else if (running) {
    out.state = { running: { startedAt: time(nsToMs(latest.startedAt)) } };
    if (previous) out.lastState = terminated(previous, scheme);
  } else {
    out.state = terminated(latest, scheme);
    if (previous) out.lastState = terminated(previous, scheme);
  }
  out.ready = running && v.ready;
  out.started = running && v.started;
  return out;
}

export interface PodView {
  pod: Json;
  scheme: string;
  hostIP: string;
  podIPs: string[];
  sandboxReady: boolean;
  init: ContainerView[];
  containers: ContainerView[];
  initDone: boolean;
  /** set when an init container failed for good, or the pod is otherwise over */
  phase?: 'Succeeded' | 'Failed';
  startTime: string;
}

function condition(
  old: Json[] | undefined,
  type: string,
  ok: boolean,
  reason?: string,
  message?: string,
): Json {
  const status = ok ? 'True' : 'False';
  const prev = old?.find((c) => c.type === type);
  const c: Json = {
    type,
    status,
    lastProbeTime: null,
    lastTransitionTime: prev?.status === status ? prev.lastTransitionTime : time(Date.now()),
  };
  if (!ok && reason) c.reason = reason;
  if (!ok && message) c.message = message;
  return c;
}

export function phaseOf(v: PodView): string {
  if (v.phase) return v.phase;
  if (!v.initDone) return 'Pending';
  const policy = v.pod.spec.restartPolicy ?? 'Always';
  let running = 0;
  let failed = 0;
  for (const c of v.containers) {
    const s = c.history[0];
    if (!s || s.state === 'CONTAINER_CREATED') return 'Pending';
    if (s.state === 'CONTAINER_RUNNING') running++;
    else if (s.exitCode !== 0) failed++;
  }
  if (running > 0) return 'Running';
  if (policy === 'Always') return 'Running';
  if (policy === 'OnFailure') return failed > 0 ? 'Running' : 'Succeeded';
  return failed > 0 ? 'Failed' : 'Succeeded';
}

export function podStatus(v: PodView): Json {
  const old = v.pod.status ?? {};
  const phase = phaseOf(v);
  const init = v.init.map((c) => {
    const s = containerStatus(c, v.scheme, 'PodInitializing');
    // a finished init container counts as ready
    if (s.state.terminated?.exitCode === 0) s.ready = true;
    return s;
  });
  const containers = v.containers.map((c) =>
    containerStatus(c, v.scheme, v.initDone ? 'ContainerCreating' : 'PodInitializing'),
  );
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  const unready = containers.filter((c) => !c.ready).map((c) => c.name);
  const uninit = init.filter((c) => !c.ready).map((c) => c.name);
  const gates = (v.pod.spec.readinessGates ?? []).every(
    (g: Json) => old.conditions?.find((c: Json) => c.type === g.conditionType)?.status === 'True',
  );
  const readyReason = terminal ? 'PodCompleted' : 'ContainersNotReady';
  const readyMsg = terminal ? undefined : `containers with unready status: [${unready.join(' ')}]`;
  const conditions = [
    condition(old.conditions, 'PodReadyToStartContainers', v.sandboxReady),
    condition(
      old.conditions,
      'Initialized',
      v.initDone || (terminal && uninit.length === 0),
      terminal ? 'PodCompleted' : 'ContainersNotInitialized',
      terminal ? undefined : `containers with incomplete status: [${uninit.join(' ')}]`,
    ),
    condition(old.conditions, 'Ready', !terminal && unready.length === 0 && gates, readyReason, readyMsg),
    condition(old.conditions, 'ContainersReady', !terminal && unready.length === 0, readyReason, readyMsg),
    old.conditions?.find((c: Json) => c.type === 'PodScheduled') ??
      condition(undefined, 'PodScheduled', true),
  ];
  // conditions others own (readiness gates, DisruptionTarget, ...) stay
  const ours = new Set(conditions.map((c) => c.type));
  for (const c of old.conditions ?? []) if (!ours.has(c.type)) conditions.push(c);
  const status: Json = {
    phase,
    conditions,
    hostIP: v.hostIP,
    hostIPs: [{ ip: v.hostIP }],
    startTime: v.startTime,
    containerStatuses: containers,
  };
  if (v.podIPs.length) {
    status.podIP = v.podIPs[0];
    status.podIPs = v.podIPs.map((ip) => ({ ip }));
  } else if (old.podIP) {
    status.podIP = old.podIP;
    status.podIPs = old.podIPs;
  }
  if (init.length) status.initContainerStatuses = init;
  if (old.qosClass) status.qosClass = old.qosClass;
  return status;
}

/** JSON with sorted keys, to compare statuses regardless of key order. */
export function stableJson(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(stableJson).join(',')}]`;
  if (x && typeof x === 'object')
    return `{${Object.keys(x)
      .sort()
      .filter((k) => (x as Json)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson((x as Json)[k])}`)
      .join(',')}}`;
  return JSON.stringify(x);
}
