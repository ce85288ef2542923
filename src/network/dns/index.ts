/**
 * Cluster DNS: an authoritative server for the cluster zone (Services, headless endpoints, SRV,
 * pod and reverse names), its API-driven runner, and the resolv.conf pods get.
 */

export {
  type ClusterDnsOptions,
  DNS_NAMESPACE,
  DNS_SERVICE_IP,
  DNS_SERVICE_NAME,
  ensureClusterDns,
  type NodeDnsOptions,
  nodeDnsSlice,
  runNodeDns,
} from './cluster.ts';
export { type DnsModel, type Lookup, type NameRecords, reverseName, ZoneIndex } from './records.ts';
export { type PodResolvConfOptions, podResolvConf } from './resolv-conf.ts';
export { runClusterDns } from './run.ts';
export { type DnsServer, type DnsServerOptions, startDnsServer } from './server.ts';
