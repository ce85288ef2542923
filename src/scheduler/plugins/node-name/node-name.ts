import type { FilterPlugin } from '../../framework/interface.ts';
import { SUCCESS, unresolvable } from '../../framework/status.ts';
import { Names } from '../names.ts';

export const ERR_REASON_NODE_NAME = "node(s) didn't match the requested node name";

/** A pod that names its node (`spec.nodeName`) fits only there. */
export function nodeName(): FilterPlugin {
  return {
    name: Names.NodeName,
    filter(_state, pod, node) {
      const want = pod.pod.spec?.nodeName;
      return !want || want === node.name ? SUCCESS : unresolvable(ERR_REASON_NODE_NAME);
    },
  };
}
