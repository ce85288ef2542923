/** The in-tree plugins by name, and the default profile that enables them. */
import type { PluginFactory } from '../framework/interface.ts';
import { defaultPreemption } from './default-preemption/default-preemption.ts';
import { interPodAffinity } from './inter-pod-affinity/inter-pod-affinity.ts';
import { Names } from './names.ts';
import { nodeAffinity } from './node-affinity/node-affinity.ts';
import { nodeName } from './node-name/node-name.ts';
import { nodePorts } from './node-ports/node-ports.ts';
import { nodeResourcesFit } from './node-resources-fit/node-resources-fit.ts';
import { nodeUnschedulable } from './node-unschedulable/node-unschedulable.ts';
import { podTopologySpread } from './pod-topology-spread/pod-topology-spread.ts';
import { prioritySort } from './priority-sort/priority-sort.ts';
import { taintToleration } from './taint-toleration/taint-toleration.ts';

/** Plugin factories by name; `register` refuses a name twice. */
export class Registry {
  readonly #factories: Record<string, PluginFactory> = {};

  register(name: string, factory: PluginFactory): this {
    if (Object.hasOwn(this.#factories, name)) throw new Error(`a plugin named ${name} is already registered`);
    this.#factories[name] = factory;
    return this;
  }

  get(name: string): PluginFactory {
    const f = this.#factories[name];
    if (!f) throw new Error(`no plugin named ${name}`);
    return f;
  }

  names(): string[] {
    return Object.keys(this.#factories);
  }
}

export function inTreeRegistry(): Registry {
  return new Registry()
    .register(Names.PrioritySort, () => prioritySort())
    .register(Names.NodeUnschedulable, () => nodeUnschedulable())
    .register(Names.NodeName, () => nodeName())
    .register(Names.TaintToleration, () => taintToleration())
    .register(Names.NodeAffinity, () => nodeAffinity())
    .register(Names.NodePorts, () => nodePorts())
    .register(Names.NodeResourcesFit, (args) => nodeResourcesFit(args))
    .register(Names.PodTopologySpread, () => podTopologySpread())
    .register(Names.InterPodAffinity, (args) => interPodAffinity(args))
    .register(Names.DefaultPreemption, (args, handle) => defaultPreemption(args, handle));
}

export interface PluginConfig {
  name: string;
  /** Score weight (default 1). */
  weight?: number;
  args?: unknown;
}

/** kube-scheduler's default profile: plugins in filter order, with its score weights. */
export const DEFAULT_PROFILE: PluginConfig[] = [
  { name: Names.PrioritySort },
  { name: Names.NodeUnschedulable },
  { name: Names.NodeName },
  { name: Names.TaintToleration, weight: 3 },
  { name: Names.NodeAffinity, weight: 2 },
  { name: Names.NodePorts },
  { name: Names.NodeResourcesFit, weight: 1 },
  { name: Names.PodTopologySpread, weight: 2 },
  { name: Names.InterPodAffinity, weight: 2 },
  { name: Names.DefaultPreemption },
];
