/**
 * Hollow nodes: many simulated nodes in one process, as kwok does, for scale tests and
 * benchmarks. They never run containers; a test that claims containers run uses the real agent.
 *
 * Each node registers a Node (Ready, with the given capacity) and renews its Lease in
 * kube-node-lease. One shared pod informer serves all of them: a pod bound to a hollow node
 * moves to Running with Ready conditions, a pod IP from the node's podCIDR and running
 * container statuses; a pod with a deletionTimestamp is removed at once (grace 0). Status
 * writes go through a bounded pool that coalesces repeated changes of one pod.
 *
 * Annotations a pod may carry:
 * - `skiff.dev/hollow-exit: "<code>"` — the pod's containers exit with this code: the pod
 *   ends Succeeded (0) or Failed (anything else), e.g. to complete Jobs.
 * - `skiff.dev/hollow-exit-after-seconds: "<n>"` — with hollow-exit: run this long first.
 * - `skiff.dev/hollow-not-ready: "true"` — Running but never Ready (a failing readiness probe).
 *
 *   const nodes = await startHollowNodes({ client, count: 3, namePrefix: 'hollow-' }, signal);
 *   nodes.stopHeartbeat('hollow-1');  // its Lease stops renewing: the node goes unreachable
 */
import { isReason, type KubeObject } from '../api/index.ts';
import {
  keyOf,
  LEASES,
  listWatcherFor,
  microTime,
  NODES,
  PODS,
  type RestClient,
  SharedInformer,
} from '../client/index.ts';

type Json = Record<string, any>;

export interface HollowNodeOptions {
  client: RestClient;
  count: number;
  /** Node names are `${namePrefix}${i}` (default `hollow-node-`). */
  namePrefix?: string;
  capacity?: { cpu?: string; memory?: string; pods?: string };
  labels?: Record<string, string>;
  /** Lease renewal interval (default 10 s) and duration (default 40 s). */
  leaseRenewMs?: number;
  leaseDurationSeconds?: number;
  /** Concurrent API writes (default 16). */
  concurrency?: number;
}

export interface HollowNodes {
  names: string[];
  /** Stop renewing this node's Lease (and answering for its pods' status): it looks dead. */
  stopHeartbeat(name: string): void;
  /** Renew again (and report Ready again). */
  resumeHeartbeat(name: string): void;
  /** Resolves once every node is registered and synced; rejects if registration failed. */
  ready: Promise<void>;
  /** Resolves once `signal` aborted and everything stopped. */
  done: Promise<void>;
}

const EXIT = 'skiff.dev/hollow-exit';
const EXIT_AFTER = 'skiff.dev/hollow-exit-after-seconds';
const NOT_READY = 'skiff.dev/hollow-not-ready';

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/** A small pool of concurrent async jobs keyed so that a pending key runs once with its latest job. */
class KeyedPool {
  #pending = new Map<string, () => Promise<void>>();
  #active = 0;
  #limit: number;
  #idle: (() => void)[] = [];
  constructor(limit: number) {
    this.#limit = limit;
  }
  push(key: string, job: () => Promise<void>): void {
    this.#pending.set(key, job);
    this.#pump();
  }
  #pump(): void {
    while (this.#active < this.#limit && this.#pending.size) {
      const [key, job] = this.#pending.entries().next().value!;
      this.#pending.delete(key);
      this.#active++;
      job()
        .catch(() => {})
        .finally(() => {
          this.#active--;
          this.#pump();
          if (!this.#active && !this.#pending.size) for (const w of this.#idle.splice(0)) w();
        });
    }
  }
  idle(): Promise<void> {
    if (!this.#active && !this.#pending.size) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }
}

function nodeObject(name: string, i: number, o: HollowNodeOptions): KubeObject {
  const cap = { cpu: '4', memory: '32Gi', pods: '110', ...o.capacity };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'skiff.dev/hollow': 'true',
        ...o.labels,
      },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0' },
    },
    spec: { podCIDR: podCIDR(i), podCIDRs: [podCIDR(i)] },
    status: nodeStatus(name, i, cap),
  };
}

function podCIDR(i: number): string {
  return `10.${64 + ((i >> 8) & 63)}.${i & 255}.0/24`;
}

function nodeStatus(name: string, i: number, cap: Json): Json {
  const t = now();
  const cond = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: t,
    lastTransitionTime: t,
  });
  return {
    capacity: cap,
    allocatable: cap,
    phase: 'Running',
    conditions: [
      cond(
        'MemoryPressure',
        'False',
        'KubeletHasSufficientMemory',
        'kubelet has sufficient memory available',
      ),
      cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
      cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
      cond('Ready', 'True', 'KubeletReady', 'hollow node is posting ready status'),
    ],
    addresses: [
      { type: 'InternalIP', address: `172.${16 + ((i >> 16) & 15)}.${(i >> 8) & 255}.${i & 255}` },
      { type: 'Hostname', address: name },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      machineID: name,
      systemUUID: name,
      bootID: name,
      kernelVersion: '6.1.0-hollow',
      osImage: 'Skiff hollow node',
      containerRuntimeVersion: 'hollow://0.1',
      kubeletVersion: 'v1.32.0',
      kubeProxyVersion: 'v1.32.0',
      operatingSystem: 'linux',
      architecture: 'amd64',
    },
  };
}

export async function startHollowNodes(o: HollowNodeOptions, signal: AbortSignal): Promise<HollowNodes> {
  const { client } = o;
  const prefix = o.namePrefix ?? 'hollow-node-';
  const names = Array.from({ length: o.count }, (_, i) => `${prefix}${i}`);
  const index = new Map(names.map((n, i) => [n, i]));
  const stopped = new Set<string>();
  const pool = new KeyedPool(o.concurrency ?? 16);
  const renewMs = o.leaseRenewMs ?? 10_000;
  const leaseSeconds = o.leaseDurationSeconds ?? 40;
  const nextIP = new Map<string, number>();
  const handled = new Map<string, string>(); // pod uid → what we last wrote (running/exited/deleting)
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const cap = { cpu: '4', memory: '32Gi', pods: '110', ...o.capacity };

  const renewLease = async (name: string) => {
    const body = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace: 'kube-node-lease' },
      spec: { holderIdentity: name, leaseDurationSeconds: leaseSeconds, renewTime: microTime(Date.now()) },
    };
    try {
      await client.patch(
        LEASES,
        name,
        { spec: body.spec },
        { type: 'merge', namespace: 'kube-node-lease', signal },
      );
    } catch (e) {
      if (!isReason(e, 'NotFound')) throw e;
      await client.create(LEASES, body as KubeObject, { signal }).catch((err) => {
        if (!isReason(err, 'AlreadyExists')) throw err;
      });
    }
  };

  const register = async (name: string) => {
    const i = index.get(name)!;
    const node = nodeObject(name, i, o);
    try {
      await client.create(NODES, node, { signal });
    } catch (e) {
      if (!isReason(e, 'AlreadyExists')) throw e;
    }
    await reportReady(name);
    await renewLease(name);
  };

  const reportReady = async (name: string) => {
    await client.patch(
      NODES,
      name,
      { status: nodeStatus(name, index.get(name)!, cap) },
      {
        type: 'merge',
        subresource: 'status',
        signal,
      },
    );
  };

  const podIP = (node: string) => {
    const n = (nextIP.get(node) ?? 1) + 1;
    nextIP.set(node, n > 254 ? 2 : n);
    return podCIDR(index.get(node)!).replace(/0\/24$/, String(n));
  };

  const containerStatuses = (pod: KubeObject, state: Json, ready: boolean) =>
    ((pod.spec as Json)?.containers ?? []).map((c: Json) => ({
      name: c.name,
      image: c.image,
      imageID: `hollow://${c.image}`,
      containerID: `hollow://${pod.metadata?.uid}/${c.name}`,
      ready,
      started: ready,
      restartCount: 0,
      state,
    }));

  const writeStatus = (pod: KubeObject, status: Json) =>
    client.patch(
      PODS,
      pod.metadata!.name!,
      { status },
      {
        type: 'merge',
        subresource: 'status',
        namespace: pod.metadata?.namespace,
        signal,
      },
    );

  const exitPod = async (pod: KubeObject) => {
    const code = Number(pod.metadata?.annotations?.[EXIT] ?? 0) || 0;
    const t = now();
    const term = {
      terminated: { exitCode: code, reason: code ? 'Error' : 'Completed', startedAt: t, finishedAt: t },
    };
    const cond = (type: string) => ({
      type,
      status: type === 'PodScheduled' || type === 'Initialized' ? 'True' : 'False',
      lastTransitionTime: t,
      ...(type === 'Ready' || type === 'ContainersReady' ? { reason: 'PodCompleted' } : {}),
    });
    await writeStatus(pod, {
      phase: code ? 'Failed' : 'Succeeded',
      startTime: (pod.status as Json)?.startTime ?? t,
      conditions: ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map(cond),
      containerStatuses: containerStatuses(pod, term, false),
    });
  };

  const runPod = async (pod: KubeObject) => {
    const node = (pod.spec as Json).nodeName as string;
    const t = now();
    const hostIP = `172.${16 + ((index.get(node)! >> 16) & 15)}.${(index.get(node)! >> 8) & 255}.${index.get(node)! & 255}`;
    const ip = (pod.spec as Json).hostNetwork ? hostIP : podIP(node);
    const ready = pod.metadata?.annotations?.[NOT_READY] !== 'true';
    const cond = (type: string) => ({
      type,
      status: ready || (type !== 'Ready' && type !== 'ContainersReady') ? 'True' : 'False',
      lastProbeTime: null,
      lastTransitionTime: t,
    });
    await writeStatus(pod, {
      phase: 'Running',
      hostIP,
      hostIPs: [{ ip: hostIP }],
      podIP: ip,
      podIPs: [{ ip }],
      startTime: t,
      conditions: [
        'PodReadyToStartContainers',
        'Initialized',
        'ContainersReady',
        'Ready',
        'PodScheduled',
      ].map(cond),
      containerStatuses: containerStatuses(pod, { running: { startedAt: t } }, ready),
    });
  };

  const onPod = (pod: KubeObject) => {
    const node = (pod.spec as Json)?.nodeName as string | undefined;
    if (!node || !index.has(node) || stopped.has(node)) return;
    const uid = pod.metadata!.uid!;
    const key = keyOf(pod);
    if (pod.metadata?.deletionTimestamp) {
      if (handled.get(uid) === 'deleting') return;
      handled.set(uid, 'deleting');
      pool.push(key, async () => {
        await client
          .delete(PODS, pod.metadata!.name!, {
            namespace: pod.metadata?.namespace,
            gracePeriodSeconds: 0,
            preconditions: { uid },
            signal,
          })
          .catch((e) => {
            if (!isReason(e, 'NotFound') && !isReason(e, 'Conflict')) handled.delete(uid);
          });
      });
      return;
    }
    const phase = (pod.status as Json)?.phase ?? 'Pending';
    if (phase === 'Succeeded' || phase === 'Failed') return;
    const exits = pod.metadata?.annotations?.[EXIT] !== undefined;
    if (phase === 'Pending' && handled.get(uid) !== 'running') {
      const after = Number(pod.metadata?.annotations?.[EXIT_AFTER] ?? 0) || 0;
      handled.set(uid, 'running');
      if (exits && !after) {
        pool.push(key, () => exitPod(pod).catch(() => void handled.delete(uid)));
        return;
      }
      pool.push(key, () => runPod(pod).catch(() => void handled.delete(uid)));
      if (exits) {
        const tm = setTimeout(() => {
          timers.delete(tm);
          const cur = pods.store.get(key);
          if (cur && cur.metadata?.uid === uid && !cur.metadata?.deletionTimestamp)
            pool.push(key, () => exitPod(cur));
        }, after * 1000);
        timers.add(tm);
      }
    }
  };

  const pods = new SharedInformer(listWatcherFor(client, PODS), { onError: () => {} });
  pods.addEventHandler({
    add: onPod,
    update: (_, p) => onPod(p),
    delete: (p) => handled.delete(p.metadata!.uid!),
  });

  const done = (async () => {
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  })();

  const ready = (async () => {
    // register in parallel through the pool's concurrency
    const limit = o.concurrency ?? 16;
    let next = 0;
    const worker = async () => {
      while (next < names.length && !signal.aborted) await register(names[next++]);
    };
    await Promise.all(Array.from({ length: Math.min(limit, names.length) }, worker));
    if (signal.aborted) return;
    void pods.start(signal);
    await pods.waitForSync(signal);
  })();

  // lease renewals: every node once per period, spread over the period
  let cursor = 0;
  const tickMs = Math.max(10, Math.floor(renewMs / Math.max(1, Math.min(names.length, 100))));
  const perTick = Math.max(1, Math.ceil((names.length * tickMs) / renewMs));
  const heartbeat = setInterval(() => {
    for (let k = 0; k < perTick && names.length; k++) {
      const name = names[cursor];
      cursor = (cursor + 1) % names.length;
      if (!stopped.has(name)) pool.push(`lease/${name}`, () => renewLease(name));
    }
  }, tickMs);
  ready.catch(() => {});
  signal.addEventListener(
    'abort',
    () => {
      clearInterval(heartbeat);
      for (const t of timers) clearTimeout(t);
    },
    { once: true },
  );

  return {
    names,
    ready,
    done: done.then(() => pool.idle()),
    stopHeartbeat(name) {
      stopped.add(name);
    },
    resumeHeartbeat(name) {
      if (!stopped.delete(name)) return;
      pool.push(`lease/${name}`, async () => {
        await renewLease(name);
        await reportReady(name);
      });
      for (const p of pods.store.list()) onPod(p);
    },
  };
}
