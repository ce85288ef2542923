/**
 * NetworkPolicy enforcement on the node, in an nftables table per instance
 * (`ip skiff-<id>-policy`). `sync(model)` takes pods, namespaces and policies (no API needed).
 */
export {
  NftPolicy,
  type PolicyModel,
  type PolicyOptions,
  type PolicySyncStats,
  policyTypes,
  renderPolicy,
} from './policy.ts';
export { NETWORK_POLICIES, type NetworkPolicyOptions, runNetworkPolicy } from './run.ts';
