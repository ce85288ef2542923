/** Every in-tree plugin's name, in one place. */
export const Names = {
  PrioritySort: 'PrioritySort',
  NodeName: 'NodeName',
  NodeUnschedulable: 'NodeUnschedulable',
  TaintToleration: 'TaintToleration',
  NodeAffinity: 'NodeAffinity',
  NodeResourcesFit: 'NodeResourcesFit',
  NodePorts: 'NodePorts',
  InterPodAffinity: 'InterPodAffinity',
  PodTopologySpread: 'PodTopologySpread',
  DefaultPreemption: 'DefaultPreemption',
  DefaultBinder: 'DefaultBinder',
} as const;
