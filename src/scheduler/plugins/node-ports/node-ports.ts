import type { FilterPlugin, PreFilterPlugin } from '../../framework/interface.ts';
import type { NodeInfo, PodInfo } from '../../framework/node-info.ts';
import { SKIP, SUCCESS, unschedulable } from '../../framework/status.ts';
import { Names } from '../names.ts';

export const ERR_REASON_PORTS = "node(s) didn't have free ports for the requested pod ports";

/** Two host ports clash on one protocol and port when their IPs are equal or either is 0.0.0.0. */
export function portsConflict(pod: PodInfo, node: NodeInfo): boolean {
  if (node.usedPorts.size === 0) return false;
  for (const want of pod.hostPorts) {
    for (const used of node.usedPorts.keys()) {
      const [proto, ip, port] = used.split('/');
      if (proto !== want.protocol || Number(port) !== want.port) continue;
      if (ip === want.hostIP || ip === '0.0.0.0' || want.hostIP === '0.0.0.0') return true;
    }
  }
  return false;
}

/** The pod's host ports must be free on the node. */
export function nodePorts(): PreFilterPlugin & FilterPlugin {
  return {
    name: Names.NodePorts,
    preFilter(_state, pod) {
      return pod.hostPorts.length ? SUCCESS : SKIP;
    },
    filter(_state, pod, node) {
      return portsConflict(pod, node) ? unschedulable(ERR_REASON_PORTS) : SUCCESS;
    },
  };
}
