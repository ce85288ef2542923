/**
 * The scheduler's view of the cluster: per node, its allocatable resources, the pods on it (bound
 * or assumed), what they request, which host ports they use and which of them carry affinity
 * terms. Everything a Filter or Score needs is precomputed here once, not per cycle.
 */
import type { Node, Pod, Taint } from 'kubernetes-types/core/v1.js';

const SUFFIX: Record<string, number> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
  Pi: 1024 ** 5,
  Ei: 1024 ** 6,
};

/** A Kubernetes quantity (`100m`, `500Mi`, `1.5`, `2e3`) as a number of base units. */
export function parseQuantity(q: string | number | undefined): number {
  if (q === undefined || q === null) return 0;
  if (typeof q === 'number') return q;
  const m = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$/.exec(q.trim());
  if (!m || !(m[2] in SUFFIX)) throw new Error(`invalid quantity ${JSON.stringify(q)}`);
  return Number(m[1]) * SUFFIX[m[2]];
}

/** Requested or allocatable amounts: CPU in millicores, the rest in base units. */
export class Resource {
  milliCPU = 0;
  memory = 0;
  ephemeralStorage = 0;
  /** How many pods (allocatable only). */
  allowedPods = 0;
  /** Extended resources (`nvidia.com/gpu`, `hugepages-2Mi`, ...). */
  scalar: Map<string, number> | undefined;

  static from(list: Record<string, string | number> | undefined): Resource {
    const r = new Resource();
    if (list) for (const [k, v] of Object.entries(list)) r.set(k, parseQuantity(v as string));
    return r;
  }

  set(name: string, v: number): void {
    if (name === 'cpu') this.milliCPU = Math.round(v * 1000);
    else if (name === 'memory') this.memory = v;
    else if (name === 'ephemeral-storage') this.ephemeralStorage = v;
    else if (name === 'pods') this.allowedPods = v;
    else {
      this.scalar ??= new Map();
      this.scalar.set(name, v);
    }
  }

  add(o: Resource, sign = 1): void {
    this.milliCPU += sign * o.milliCPU;
    this.memory += sign * o.memory;
    this.ephemeralStorage += sign * o.ephemeralStorage;
    if (o.scalar) {
      this.scalar ??= new Map();
      for (const [k, v] of o.scalar) this.scalar.set(k, (this.scalar.get(k) ?? 0) + sign * v);
    }
  }

  /** Take the larger of each amount (init containers run one at a time). */
  max(o: Resource): void {
    this.milliCPU = Math.max(this.milliCPU, o.milliCPU);
    this.memory = Math.max(this.memory, o.memory);
    this.ephemeralStorage = Math.max(this.ephemeralStorage, o.ephemeralStorage);
    if (o.scalar) {
      this.scalar ??= new Map();
      for (const [k, v] of o.scalar) this.scalar.set(k, Math.max(this.scalar.get(k) ?? 0, v));
    }
  }

  clone(): Resource {
    const r = new Resource();
    r.milliCPU = this.milliCPU;
    r.memory = this.memory;
    r.ephemeralStorage = this.ephemeralStorage;
    r.allowedPods = this.allowedPods;
    if (this.scalar) r.scalar = new Map(this.scalar);
    return r;
  }
}

/** What a container without requests counts as when scoring (kube-scheduler's non-zero defaults). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

export interface HostPort {
  protocol: string;
  hostIP: string;
  port: number;
}

/** A pod with what the scheduler reads from it computed once. */
export class PodInfo {
  readonly pod: Pod;
  readonly key: string;
  readonly namespace: string;
  readonly priority: number;
  /** Effective requests: max(sum of containers, each init container) + overhead. */
  readonly requests: Resource;
  /** Requests with the non-zero defaults for CPU and memory, for scoring. */
  readonly nonZeroRequests: Resource;
  readonly hostPorts: HostPort[];
  readonly hasAffinity: boolean;
  readonly hasRequiredAntiAffinity: boolean;

  constructor(pod: Pod) {
    this.pod = pod;
    this.namespace = pod.metadata?.namespace ?? 'default';
    this.key = `${this.namespace}/${pod.metadata?.name}`;
    this.priority = pod.spec?.priority ?? 0;
    const spec = pod.spec ?? ({ containers: [] } as NonNullable<Pod['spec']>);
    const req = new Resource();
    const nz = new Resource();
    for (const c of spec.containers ?? []) {
      const r = Resource.from(c.resources?.requests as Record<string, string>);
      req.add(r);
      const hasCpu = c.resources?.requests?.cpu !== undefined;
      const hasMem = c.resources?.requests?.memory !== undefined;
      nz.milliCPU += hasCpu ? r.milliCPU : DEFAULT_MILLI_CPU_REQUEST;
      nz.memory += hasMem ? r.memory : DEFAULT_MEMORY_REQUEST;
    }
    // Restartable init containers (sidecars) keep running: they add to the total.
    const sidecars = new Resource();
    for (const c of spec.initContainers ?? []) {
      const r = Resource.from(c.resources?.requests as Record<string, string>);
      if (c.restartPolicy === 'Always') {
        sidecars.add(r);
        req.add(r);
        nz.add(r);
      } else {
        const peak = r.clone();
        peak.add(sidecars);
        req.max(peak);
        nz.max(peak);
      }
    }
    if (spec.overhead) {
      const o = Resource.from(spec.overhead as Record<string, string>);
      req.add(o);
      nz.add(o);
    }
    this.requests = req;
    this.nonZeroRequests = nz;
    const ports: HostPort[] = [];
    for (const c of spec.containers ?? []) {
      for (const p of c.ports ?? []) {
        if (p.hostPort)
          ports.push({ protocol: p.protocol ?? 'TCP', hostIP: p.hostIP || '0.0.0.0', port: p.hostPort });
      }
    }
    this.hostPorts = ports;
    const a = spec.affinity;
    this.hasAffinity = !!(a?.podAffinity || a?.podAntiAffinity);
    this.hasRequiredAntiAffinity =
      !!a?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.length;
  }
}

export class NodeInfo {
  node: Node;
  name: string;
  labels: Record<string, string>;
  allocatable: Resource;
  readonly requested = new Resource();
  readonly nonZeroRequested = new Resource();
  readonly pods: PodInfo[] = [];
  readonly podsWithAffinity: PodInfo[] = [];
  readonly podsWithRequiredAntiAffinity: PodInfo[] = [];
  /** `protocol/hostIP/port` of every host port in use. */
  readonly usedPorts = new Map<string, number>();
  /** Bumped on every change, so caches of derived data know when to recompute. */
  generation = 0;
  /**
   * What the hottest filters and scores read, kept here beside the node's name: `spec.unschedulable`
   * and `spec.taints` (undefined when none), allocatable CPU and memory, what is left of CPU,
   * memory, ephemeral storage and pods, and the non-zero CPU and memory requests. A cycle reads
   * them for hundreds of nodes, and one object is fewer cache misses than four.
   */
  unschedulable = false;
  taints: Taint[] | undefined;
  allocMilliCPU = 0;
  allocMemory = 0;
  freeMilliCPU = 0;
  freeMemory = 0;
  freeEphemeralStorage = 0;
  freePods = 0;
  nonZeroMilliCPU = 0;
  nonZeroMemory = 0;

  constructor(node: Node) {
    this.node = node;
    this.name = node.metadata?.name ?? '';
    this.labels = node.metadata?.labels ?? {};
    this.allocatable = Resource.from(
      (node.status?.allocatable ?? node.status?.capacity) as Record<string, string>,
    );
    this.#readNode();
  }

  setNode(node: Node): void {
    this.node = node;
    this.labels = node.metadata?.labels ?? {};
    this.allocatable = Resource.from(
      (node.status?.allocatable ?? node.status?.capacity) as Record<string, string>,
    );
    this.#readNode();
    this.generation++;
  }

  #readNode(): void {
    const spec = this.node.spec;
    this.unschedulable = !!spec?.unschedulable;
    this.taints = spec?.taints?.length ? spec.taints : undefined;
    this.allocMilliCPU = this.allocatable.milliCPU;
    this.allocMemory = this.allocatable.memory;
    this.#summarize();
  }

  #summarize(): void {
    const a = this.allocatable;
    const u = this.requested;
    this.freeMilliCPU = a.milliCPU - u.milliCPU;
    this.freeMemory = a.memory - u.memory;
    this.freeEphemeralStorage = a.ephemeralStorage - u.ephemeralStorage;
    this.freePods = a.allowedPods - this.pods.length;
    this.nonZeroMilliCPU = this.nonZeroRequested.milliCPU;
    this.nonZeroMemory = this.nonZeroRequested.memory;
  }

  addPod(p: PodInfo): void {
    this.pods.push(p);
    this.requested.add(p.requests);
    this.nonZeroRequested.add(p.nonZeroRequests);
    if (p.hasAffinity) this.podsWithAffinity.push(p);
    if (p.hasRequiredAntiAffinity) this.podsWithRequiredAntiAffinity.push(p);
    for (const hp of p.hostPorts) {
      const k = `${hp.protocol}/${hp.hostIP}/${hp.port}`;
      this.usedPorts.set(k, (this.usedPorts.get(k) ?? 0) + 1);
    }
    this.#summarize();
    this.generation++;
  }

  /** Remove by key; false if it was not here. */
  removePod(key: string): boolean {
    const i = this.pods.findIndex((p) => p.key === key);
    if (i < 0) return false;
    const p = this.pods[i];
    this.pods.splice(i, 1);
    this.requested.add(p.requests, -1);
    this.nonZeroRequested.add(p.nonZeroRequests, -1);
    const drop = (list: PodInfo[]) => {
      const j = list.indexOf(p);
      if (j >= 0) list.splice(j, 1);
    };
    drop(this.podsWithAffinity);
    drop(this.podsWithRequiredAntiAffinity);
    for (const hp of p.hostPorts) {
      const k = `${hp.protocol}/${hp.hostIP}/${hp.port}`;
      const n = (this.usedPorts.get(k) ?? 1) - 1;
      if (n <= 0) this.usedPorts.delete(k);
      else this.usedPorts.set(k, n);
    }
    this.#summarize();
    this.generation++;
    return true;
  }

  clone(): NodeInfo {
    const c = new NodeInfo(this.node);
    for (const p of this.pods) c.addPod(p);
    return c;
  }
}

/** The nodes a cycle sees, in a stable order (for the round-robin start index). */
export interface Snapshot {
  nodes: NodeInfo[];
  get(name: string): NodeInfo | undefined;
  /** Whether any node has pods with (anti-)affinity terms, so InterPodAffinity can skip cheaply. */
  havePodsWithAffinity(): boolean;
  havePodsWithRequiredAntiAffinity(): boolean;
}

/** A snapshot over a plain list, for tests and benchmarks. */
export function snapshotOf(nodes: NodeInfo[]): Snapshot {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  return {
    nodes,
    get: (name) => byName.get(name),
    havePodsWithAffinity: () => nodes.some((n) => n.podsWithAffinity.length > 0),
    havePodsWithRequiredAntiAffinity: () => nodes.some((n) => n.podsWithRequiredAntiAffinity.length > 0),
  };
}
