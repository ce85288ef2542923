/**
 * The service proxy: programs the kernel (one nftables table per instance, `ip skiff-<id>`) from
 * Services and EndpointSlices, like kube-proxy's nftables mode.
 *
 *   const proxier = new NftProxier({ id: 'node-a' });
 *   await proxier.sync({ nodeName, nodeIPs, services, endpointSlices });  // no API needed
 *   await proxier.close();
 */
export type { BackendEndpoint, ProxyModel, SyncStats } from './model.ts';
export { nftApply, nftDeleteTable, nftListRuleset } from './nft.ts';
export { NftProxier, type ProxierOptions } from './proxier.ts';
export { endpointsFor, SERVICE_NAME_LABEL } from './render.ts';
export { loadBalancerWriter, runServiceProxy, type ServiceProxyOptions } from './run.ts';
