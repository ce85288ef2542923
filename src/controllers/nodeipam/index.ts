/**
 * Node IPAM: gives every Node without one a pod CIDR (`spec.podCIDR`, `spec.podCIDRs`), a
 * `/nodeMaskSize` slice of the cluster CIDR, as kube-controller-manager's range allocator does.
 *
 *   void runNodeIpam(client, { clusterCIDR: '10.42.0.0/16', nodeMaskSize: 24 }, signal);
 *
 * The Node objects are the only record: at start the used set is rebuilt from the podCIDRs the
 * Nodes already carry (set by this controller before a restart, or by an agent's --pod-cidr),
 * and a deleted Node's range becomes free again. Allocations run one at a time and a range is
 * marked used before the write, so two Nodes never get the same range from one allocator; the
 * write is an update at the Node's resourceVersion, so a concurrent writer makes it retry
 * (a Conflict) instead of overwriting. Run one allocator per cluster (the server runs it).
 */
import { isReason } from '../../api/errors.ts';
import type { KubeObject } from '../../api/resource.ts';
import { listWatcherFor, NODES, type RestClient, SharedInformer } from '../../client/index.ts';
import { type Cidr, formatCidr, parseCidr, subnet, subnetIndex } from './cidr.ts';

export { type Cidr, contains, formatCidr, formatIp, ipToNumber, parseCidr } from './cidr.ts';

export interface NodeIpamOptions {
  /** e.g. `10.42.0.0/16` */
  clusterCIDR: string;
  /** size of each node's range, e.g. 24 */
  nodeMaskSize: number;
  log?(msg: string): void;
}

type Node = KubeObject & { spec?: { podCIDR?: string; podCIDRs?: string[] } };

/** The allocator's bookkeeping, separate from the API so it can be tested alone. */
export class RangeAllocator {
  readonly #cluster: Cidr;
  readonly #size: number;
  readonly #count: number;
  /** range index → node name */
  readonly #used = new Map<number, string>();

  constructor(clusterCIDR: string, nodeMaskSize: number) {
    this.#cluster = parseCidr(clusterCIDR);
    if (!Number.isInteger(nodeMaskSize) || nodeMaskSize < this.#cluster.bits || nodeMaskSize > 30)
      throw new Error(`node mask size /${nodeMaskSize} does not fit in ${clusterCIDR}`);
    this.#size = nodeMaskSize;
    this.#count = 2 ** (nodeMaskSize - this.#cluster.bits);
  }

  /** Record a range a Node already has; false when it lies outside the cluster CIDR. */
  occupy(cidr: string, node: string): boolean {
    let c: Cidr;
    try {
      c = parseCidr(cidr);
    } catch {
      return false;
    }
    const i = subnetIndex(this.#cluster, c, this.#size);
    if (i < 0) return false;
    this.#used.set(i, node);
    return true;
  }

  /** Free every range held by `node`. */
  release(node: string): void {
    for (const [i, n] of this.#used) if (n === node) this.#used.delete(i);
  }

  /** The lowest free range, marked used by `node`; undefined when all are taken. */
  allocate(node: string): string | undefined {
    for (let i = 0; i < this.#count; i++) {
      if (this.#used.has(i)) continue;
      this.#used.set(i, node);
      return formatCidr(subnet(this.#cluster, this.#size, i));
    }
    return undefined;
  }

  get used(): number {
    return this.#used.size;
  }
}

/** Run until `signal` aborts. */
export async function runNodeIpam(
  client: RestClient,
  o: NodeIpamOptions,
  signal: AbortSignal,
): Promise<void> {
  const log = o.log ?? ((m: string) => process.stderr.write(`nodeipam: ${m}\n`));
  const ranges = new RangeAllocator(o.clusterCIDR, o.nodeMaskSize);
  const informer = new SharedInformer<Node>(listWatcherFor(client, NODES) as any, {
    onError: (e) => {
      if (!signal.aborted) log(`node watch: ${(e as Error).message}`);
    },
  });
  const pending = new Set<string>();
  let wake: (() => void) | undefined;
  const note = (n: Node) => {
    const name = n.metadata!.name!;
    const cidrs = n.spec?.podCIDRs?.length ? n.spec.podCIDRs : n.spec?.podCIDR ? [n.spec.podCIDR] : [];
    if (cidrs.length) {
      for (const c of cidrs) ranges.occupy(c, name);
      pending.delete(name);
    } else {
      pending.add(name);
      wake?.();
    }
  };
  informer.addEventHandler({
    add: note,
    update: (_old, n) => note(n),
    delete: (n) => {
      ranges.release(n.metadata!.name!);
      pending.delete(n.metadata!.name!);
      wake?.(); // a freed range may serve a node that found none
    },
  });
  const running = informer.start(signal);
  if (!(await informer.waitForSync(signal))) return running;
  const retryLater = new Set<string>();
  while (!signal.aborted) {
    for (const name of [...pending]) {
      if (signal.aborted) break;
      pending.delete(name);
      try {
        if (!(await assign(name))) retryLater.add(name);
      } catch (e) {
        if (signal.aborted) break;
        log(`node ${name}: ${(e as Error).message}`);
        retryLater.add(name);
      }
    }
    if (pending.size) continue; // nodes that came while this round ran
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        wake = undefined;
        resolve();
      };
      const t = setTimeout(done, retryLater.size ? 1000 : 60_000);
      wake = done;
      signal.addEventListener('abort', done, { once: true });
    });
    for (const n of retryLater) pending.add(n);
    retryLater.clear();
  }
  await running;

  /** true when the node has a range now (or is gone), false to retry later */
  async function assign(name: string): Promise<boolean> {
    for (let attempt = 0; attempt < 5; attempt++) {
      let node: Node;
      try {
        node = (await client.get(NODES, name)) as Node;
      } catch (e) {
        if (isReason(e, 'NotFound')) return true;
        throw e;
      }
      if (node.spec?.podCIDR) {
        for (const c of node.spec.podCIDRs ?? [node.spec.podCIDR]) ranges.occupy(c, name);
        return true;
      }
      const cidr = ranges.allocate(name);
      if (!cidr) {
        log(`node ${name}: no free /${o.nodeMaskSize} left in ${o.clusterCIDR}`);
        return false;
      }
      node.spec = { ...node.spec, podCIDR: cidr, podCIDRs: [cidr] };
      try {
        await client.update(NODES, node);
        log(`node ${name}: pod CIDR ${cidr}`);
        return true;
      } catch (e) {
        ranges.release(name);
        if (isReason(e, 'NotFound')) return true;
        if (!isReason(e, 'Conflict')) throw e;
      }
    }
    return false;
  }
}
