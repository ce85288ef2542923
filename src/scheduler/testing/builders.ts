/** Small builders of Nodes and Pods for scheduler tests. */
import type { Node, Pod, Taint } from 'kubernetes-types/core/v1.js';

export function makeNode(
  name: string,
  o: {
    cpu?: string;
    memory?: string;
    pods?: string;
    labels?: Record<string, string>;
    taints?: Taint[];
    unschedulable?: boolean;
  } = {},
): Node {
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...o.labels } },
    spec: { taints: o.taints, unschedulable: o.unschedulable },
    status: { allocatable: { cpu: o.cpu ?? '4', memory: o.memory ?? '32Gi', pods: o.pods ?? '110' } },
  };
}

export function makePod(
  name: string,
  o: {
    cpu?: string;
    memory?: string;
    priority?: number;
    labels?: Record<string, string>;
    spec?: Partial<NonNullable<Pod['spec']>>;
  } = {},
): Pod {
  const requests: Record<string, string> = {};
  if (o.cpu) requests.cpu = o.cpu;
  if (o.memory) requests.memory = o.memory;
  return {
    metadata: { name, namespace: 'default', labels: o.labels ?? {} },
    spec: {
      priority: o.priority,
      containers: [{ name: 'c', image: 'busybox', resources: { requests } }],
      ...o.spec,
    },
  };
}
