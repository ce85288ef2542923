/**
 * The node lifecycle controller: notices nodes that stopped heart-beating and moves their pods.
 *
 * A node's heartbeat is its Lease in kube-node-lease (spec.renewTime) or its Ready condition's
 * lastHeartbeatTime. When neither has changed for `gracePeriodMs` (40 s) of the manager's
 * clock — measured from when this controller saw the last change, so clock skew between
 * nodes does not matter — its conditions become Unknown (NodeStatusUnknown) and it gets the
 * `node.kubernetes.io/unreachable:NoExecute` taint (`not-ready` for Ready=False). Taints go
 * once it is Ready again.
 *
 * NoExecute eviction: a pod on a tainted node that does not tolerate a taint is deleted at
 * once; one that tolerates it for `tolerationSeconds` is deleted that long after the taint's
 * timeAdded. Pods with no toleration for not-ready/unreachable get `defaultTolerationSeconds`
 * (300), as Kubernetes' DefaultTolerationSeconds admission plugin would have added.
 *
 * Options (`options.nodelifecycle`): gracePeriodMs, defaultTolerationSeconds.
 */
import type { KubeObject } from '../../api/index.ts';
import { eventRecorder, LEASES, NODES, PODS } from '../../client/index.ts';
import { controllerFor } from '../runtime/controller.ts';
import {
  deepEqualJson,
  ignoreNotFound,
  indexPodsByNode,
  type Json,
  NODE_NAME_INDEX,
  rfc3339,
  tolerates,
} from '../runtime/objects.ts';

export const UNREACHABLE = 'node.kubernetes.io/unreachable';
export const NOT_READY = 'node.kubernetes.io/not-ready';

export const nodeLifecycleController = controllerFor('v1', 'nodes')
  .watches('coordination.k8s.io/v1', 'leases', (l) =>
    l.metadata?.namespace === 'kube-node-lease' ? [l.metadata.name!] : [],
  )
  .watches('v1', 'pods', (p) => ((p.spec as Json)?.nodeName ? [(p.spec as Json).nodeName] : []))
  .named('nodelifecycle')
  .workers(4)
  .complete((ctx) => {
    const opts = ctx.options.nodelifecycle ?? {};
    const grace = Number(opts.gracePeriodMs ?? 40_000);
    const defaultToleration = Number(opts.defaultTolerationSeconds ?? 300);
    const nodes = ctx.informers.informerFor(NODES).store;
    const leases = ctx.informers.informerFor(LEASES).store;
    const podInf = ctx.informers.informerFor(PODS);
    indexPodsByNode(podInf);
    const events = eventRecorder(ctx.client, 'node-controller', { apiVersion: 'v1', kind: 'Node' });
    const evictions = eventRecorder(ctx.client, 'taint-eviction-controller', {
      apiVersion: 'v1',
      kind: 'Pod',
    });
    const probes = new Map<string, { beat: string; seenAt: number }>();

    return async ({ name }) => {
      const node = nodes.get(name);
      if (!node) {
        probes.delete(name);
        return;
      }
      const now = ctx.now();
      const status = (node.status ?? {}) as Json;
      const conds = (status.conditions ?? []) as Json[];
      const ready = conds.find((c) => c.type === 'Ready');
      const beat = `${(leases.get(`kube-node-lease/${name}`)?.spec as Json)?.renewTime ?? ''}|${ready?.lastHeartbeatTime ?? ''}`;
      let probe = probes.get(name);
      if (!probe || probe.beat !== beat) {
        probe = { beat, seenAt: now };
        probes.set(name, probe);
      }
      let readyStatus = ready?.status ?? 'Unknown';
      let requeue = Math.max(100, probe.seenAt + grace - now + 50);
      if (now - probe.seenAt > grace && readyStatus !== 'Unknown') {
        const t = rfc3339(now);
        const next = conds.map((c) =>
          ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'].includes(c.type)
            ? {
                ...c,
                status: 'Unknown',
                reason: 'NodeStatusUnknown',
                message: 'Kubelet stopped posting node status.',
                lastTransitionTime: t,
              }
            : c,
        );
        if (!next.some((c) => c.type === 'Ready'))
          next.push({
            type: 'Ready',
            status: 'Unknown',
            reason: 'NodeStatusNeverUpdated',
            message: 'Kubelet never posted node status.',
            lastHeartbeatTime: t,
            lastTransitionTime: t,
          });
        await ignoreNotFound(
          ctx.client.patch(
            NODES,
            name,
            { status: { conditions: next } },
            { type: 'merge', subresource: 'status' },
          ),
        );
        readyStatus = 'Unknown';
        events.record(node, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
      }
      // taints follow the Ready condition
      const taints = (((node.spec as Json)?.taints ?? []) as Json[]).filter(
        (t) => !(t.effect === 'NoExecute' && (t.key === UNREACHABLE || t.key === NOT_READY)),
      );
      const want = readyStatus === 'Unknown' ? UNREACHABLE : readyStatus === 'False' ? NOT_READY : undefined;
      const had = ((node.spec as Json)?.taints ?? []).find(
        (t: Json) => t.key === want && t.effect === 'NoExecute',
      );
      if (want) taints.push(had ?? { key: want, effect: 'NoExecute', timeAdded: rfc3339(now) });
      if (!deepEqualJson(taints, (node.spec as Json)?.taints ?? [])) {
        await ignoreNotFound(
          ctx.client.patch(
            NODES,
            name,
            { spec: { taints: taints.length ? taints : null } },
            { type: 'merge' },
          ),
        );
      }
      // NoExecute eviction
      const noExecute = taints.filter((t) => t.effect === 'NoExecute');
      if (noExecute.length) {
        for (const pod of podInf.store.byIndex(NODE_NAME_INDEX, name)) {
          if (pod.metadata?.deletionTimestamp) continue;
          const at = evictionTime(pod, noExecute, defaultToleration, now);
          if (at === undefined) continue;
          if (at <= now) {
            evictions.record(
              pod,
              'Normal',
              'TaintManagerEviction',
              `Marking for deletion Pod ${pod.metadata?.namespace}/${pod.metadata?.name}`,
            );
            await ignoreNotFound(
              ctx.client.delete(PODS, pod.metadata!.name!, {
                namespace: pod.metadata?.namespace,
                preconditions: { uid: pod.metadata?.uid },
              }),
            );
          } else requeue = Math.min(requeue, at - now + 10);
        }
      }
      return { requeueAfter: requeue };
    };
  });

/** When a pod must leave a node with these NoExecute taints (ms); undefined: never. */
export function evictionTime(
  pod: KubeObject,
  taints: Json[],
  defaultSeconds: number,
  now: number,
): number | undefined {
  const tolerations = (((pod.spec as Json)?.tolerations ?? []) as Json[]).slice();
  for (const key of [NOT_READY, UNREACHABLE])
    if (!tolerations.some((t) => tolerates(t, { key, effect: 'NoExecute' })))
      tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: defaultSeconds });
  let at: number | undefined;
  for (const taint of taints) {
    const matching = tolerations.filter((t) => tolerates(t, taint));
    if (!matching.length) return now;
    const secs = matching.map((t) => t.tolerationSeconds).filter((s) => typeof s === 'number') as number[];
    if (
      !secs.length ||
      matching.some((t) => t.tolerationSeconds === undefined || t.tolerationSeconds === null)
    )
      continue;
    const added = Date.parse(taint.timeAdded ?? '') || now;
    const t = added + Math.max(0, Math.min(...secs)) * 1000;
    at = at === undefined ? t : Math.min(at, t);
  }
  return at;
}
