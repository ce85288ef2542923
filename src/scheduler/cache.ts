/**
 * The scheduler's cache of nodes and the pods on them, including pods it has assumed onto a
 * node while their binding is in flight. It is the snapshot a cycle reads: JavaScript runs a
 * cycle without interruption, so no copy is needed.
 */
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { NodeInfo, PodInfo, type Snapshot } from './framework/node-info.ts';

export class SchedulerCache implements Snapshot {
  nodes: NodeInfo[] = [];
  #byName = new Map<string, NodeInfo>();
  /** pod key → node name, for every pod counted on a node */
  #podNode = new Map<string, string>();
  readonly assumed = new Set<string>();
  #withAffinity = 0;
  #withRequiredAntiAffinity = 0;

  get(name: string): NodeInfo | undefined {
    return this.#byName.get(name);
  }

  havePodsWithAffinity(): boolean {
    return this.#withAffinity > 0;
  }

  havePodsWithRequiredAntiAffinity(): boolean {
    return this.#withRequiredAntiAffinity > 0;
  }

  upsertNode(node: Node): NodeInfo {
    const name = node.metadata?.name ?? '';
    let ni = this.#byName.get(name);
    if (ni) ni.setNode(node);
    else {
      ni = new NodeInfo(node);
      this.#byName.set(name, ni);
      this.nodes.push(ni);
    }
    return ni;
  }

  removeNode(name: string): void {
    const ni = this.#byName.get(name);
    if (!ni) return;
    for (const p of [...ni.pods]) this.removePod(p.key);
    this.#byName.delete(name);
    this.nodes = this.nodes.filter((n) => n !== ni);
  }

  nodeOf(key: string): string | undefined {
    return this.#podNode.get(key);
  }

  /** Count a pod on a node (bound, or assumed when `assumed`). Unknown nodes are ignored. */
  addPod(pod: Pod | PodInfo, nodeName: string, assumed = false): PodInfo | undefined {
    const pi = pod instanceof PodInfo ? pod : new PodInfo(pod);
    const prev = this.#podNode.get(pi.key);
    if (prev !== undefined) this.removePod(pi.key);
    const ni = this.#byName.get(nodeName);
    if (!ni) return undefined;
    ni.addPod(pi);
    this.#podNode.set(pi.key, nodeName);
    if (pi.hasAffinity) this.#withAffinity++;
    if (pi.hasRequiredAntiAffinity) this.#withRequiredAntiAffinity++;
    if (assumed) this.assumed.add(pi.key);
    else this.assumed.delete(pi.key);
    return pi;
  }

  removePod(key: string): void {
    const nodeName = this.#podNode.get(key);
    if (nodeName === undefined) return;
    const ni = this.#byName.get(nodeName);
    const pi = ni?.pods.find((p) => p.key === key);
    if (pi) {
      if (pi.hasAffinity) this.#withAffinity--;
      if (pi.hasRequiredAntiAffinity) this.#withRequiredAntiAffinity--;
      ni!.removePod(key);
    }
    this.#podNode.delete(key);
    this.assumed.delete(key);
  }
}
