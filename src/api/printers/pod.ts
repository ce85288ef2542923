/** The Pod row of `kubectl get pods`, following kubectl's printPod. */
import type { KubeObject, TableDef } from '../resource.ts';
import { ageColumn, col, nameColumn, since, str } from './format.ts';

type Json = Record<string, any>;

const isRestartable = (c: Json | undefined) => c?.restartPolicy === 'Always';

function later(a: string | undefined, b: string | undefined): string | undefined {
  if (!b) return a;
  if (!a) return b;
  return Date.parse(b) > Date.parse(a) ? b : a;
}

/** READY, STATUS, RESTARTS as kubectl computes them. */
export function podStatusCells(
  pod: KubeObject,
  now: Date,
): { ready: string; reason: string; restarts: string } {
  const spec: Json = (pod.spec as Json) ?? {};
  const status: Json = (pod.status as Json) ?? {};
  const initSpecs: Json[] = spec.initContainers ?? [];
  const initByName = new Map(initSpecs.map((c) => [c.name, c]));
  let restarts = 0;
  let sidecarRestarts = 0;
  let total = (spec.containers ?? []).length;
  let ready = 0;
  let lastRestart: string | undefined;
  let lastSidecarRestart: string | undefined;
  const phase: string = status.phase ?? '';
  let reason: string = status.reason || phase;
  for (const c of status.conditions ?? []) {
    if (c.type === 'PodScheduled' && c.reason === 'SchedulingGated') reason = 'SchedulingGated';
  }
  for (const c of initSpecs) if (isRestartable(c)) total++;

  let initializing = false;
  const initStatuses: Json[] = status.initContainerStatuses ?? [];
  for (let i = 0; i < initStatuses.length; i++) {
    const cs = initStatuses[i];
    const state: Json = cs.state ?? {};
    restarts += cs.restartCount ?? 0;
    const finished = cs.lastState?.terminated?.finishedAt;
    lastRestart = later(lastRestart, finished);
    const sidecar = isRestartable(initByName.get(cs.name));
    if (sidecar) {
      sidecarRestarts += cs.restartCount ?? 0;
      lastSidecarRestart = later(lastSidecarRestart, finished);
    }
    if (state.terminated && state.terminated.exitCode === 0) continue;
    if (sidecar && cs.started) {
      if (cs.ready) ready++;
      continue;
    }
    if (state.terminated) {
      const t = state.terminated;
      reason = t.reason
        ? `Init:${t.reason}`
        : t.signal
          ? `Init:Signal:${t.signal}`
          : `Init:ExitCode:${t.exitCode}`;
    } else if (state.waiting?.reason && state.waiting.reason !== 'PodInitializing') {
      reason = `Init:${state.waiting.reason}`;
    } else {
      reason = `Init:${i}/${initSpecs.length}`;
    }
    initializing = true;
    break;
  }

  const initialized = (status.conditions ?? []).some(
    (c: Json) => c.type === 'Initialized' && c.status === 'True',
  );
  if (!initializing || initialized) {
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    const statuses: Json[] = status.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i];
      const state: Json = cs.state ?? {};
      restarts += cs.restartCount ?? 0;
      lastRestart = later(lastRestart, cs.lastState?.terminated?.finishedAt);
      if (state.waiting?.reason) reason = state.waiting.reason;
      else if (state.terminated?.reason) reason = state.terminated.reason;
      else if (state.terminated) {
        reason = state.terminated.signal
          ? `Signal:${state.terminated.signal}`
          : `ExitCode:${state.terminated.exitCode}`;
      } else if (cs.ready && state.running) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      const podReady = (status.conditions ?? []).some((c: Json) => c.type === 'Ready' && c.status === 'True');
      reason = podReady ? 'Running' : 'NotReady';
    }
  }

  const deleting = pod.metadata?.deletionTimestamp;
  if (deleting && status.reason === 'NodeLost') reason = 'Unknown';
  else if (deleting && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';

  const restartsText =
    restarts !== 0 && lastRestart ? `${restarts} (${since(lastRestart, now)} ago)` : String(restarts);
  return { ready: `${ready}/${total}`, reason, restarts: restartsText };
}

function readinessGates(pod: KubeObject): string {
  const gates: Json[] = (pod.spec as Json)?.readinessGates ?? [];
  if (gates.length === 0) return '<none>';
  const conds: Json[] = (pod.status as Json)?.conditions ?? [];
  const trueCount = gates.filter((g) =>
    conds.some((c) => c.type === g.conditionType && c.status === 'True'),
  ).length;
  return `${trueCount}/${gates.length}`;
}

export const podTable: TableDef = {
  columns: [
    nameColumn,
    col('Ready', 'string', 'The number of containers that are ready, of the total.'),
    col('Status', 'string', 'The aggregate status of the containers in this pod.'),
    col('Restarts', 'string', 'The number of container restarts, and how long ago the last one was.'),
    ageColumn,
    col('IP', 'string', 'The IP address of the pod.', 1),
    col('Node', 'string', 'The node the pod is bound to.', 1),
    col('Nominated Node', 'string', 'The node the pod may run on once preemption completes.', 1),
    col('Readiness Gates', 'string', 'Readiness gates that are true, of the total.', 1),
  ],
  row(pod, now) {
    const { ready, reason, restarts } = podStatusCells(pod, now);
    const spec = (pod.spec as Json) ?? {};
    const status = (pod.status as Json) ?? {};
    return [
      pod.metadata?.name,
      ready,
      reason,
      restarts,
      since(pod.metadata?.creationTimestamp, now),
      str(status.podIP),
      str(spec.nodeName),
      str(status.nominatedNodeName),
      readinessGates(pod),
    ];
  },
};
