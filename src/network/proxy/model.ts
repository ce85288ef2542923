import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';

/**
 * What the proxy programs, independent of the API: the cluster's Services and EndpointSlices as
 * this node sees them. `sync(model)` makes the kernel match it; benchmarks build models directly.
 */
export interface ProxyModel {
  /** This node's name, for `externalTrafficPolicy`/`internalTrafficPolicy: Local`. */
  nodeName: string;
  /** Addresses NodePorts (and the built-in load balancer) answer on. */
  nodeIPs: string[];
  services: Service[];
  endpointSlices: EndpointSlice[];
  /**
   * The pods' CIDR. When set, ClusterIP traffic from outside it is masqueraded (so replies come
   * back through this node); without it only hairpin and external traffic is.
   */
  clusterCIDR?: string;
}

export interface SyncStats {
  /** Service ports programmed (not counting headless Services). */
  servicePorts: number;
  /** Endpoint chains programmed. */
  endpoints: number;
  /** Chains written (all of them on a full sync, the changed ones otherwise). */
  chainsWritten: number;
  /** Chains and affinity sets deleted. */
  chainsDeleted: number;
  /** Whether the table was replaced as a whole. */
  full: boolean;
  /** Bytes of nft script handed to the kernel. */
  bytes: number;
  /** Time to compute the rules, and to apply them (nft -f). */
  renderMs: number;
  applyMs: number;
}

/** One ready (or, as a fallback, serving+terminating) endpoint of one Service port. */
export interface BackendEndpoint {
  ip: string;
  port: number;
  nodeName?: string;
  local: boolean;
}
