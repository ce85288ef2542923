/**
 * Skiff's node networking, driven by the API: the service proxy (nftables), NetworkPolicy
 * (nftables) and cluster DNS. Each runner is `run...(options, signal)` and cleans up its kernel
 * state and API objects when `signal` aborts.
 *
 *   await ensureClusterDns({ client });                                            // server boot
 *   void runServiceProxy({ client, nodeName, nodeIPs, id: nodeName, clusterCIDR }, signal);
 *   void runNetworkPolicy({ client, nodeName, id: nodeName }, signal);
 *   void runNodeDns({ client, nodeName, host: bridgeGateway }, signal);
 *
 * The CNI caller lives in `./cni/` (its own index).
 */
export {
  DNS_SERVICE_IP,
  ensureClusterDns,
  type NodeDnsOptions,
  podResolvConf,
  runNodeDns,
} from './dns/index.ts';
export { type NetworkPolicyOptions, runNetworkPolicy } from './policy/index.ts';
export { loadBalancerWriter, runServiceProxy, type ServiceProxyOptions } from './proxy/index.ts';
