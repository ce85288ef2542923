/**
 * Service cluster IP and node port allocation for the API server's `services` create, update and
 * delete paths: one store key per allocation, safe with several API servers on one store.
 *
 *   const ips = serviceIpAllocator({ backend, cidr: '10.43.0.0/16', nodePortRange: '30000-32767' });
 *   await ips.allocate(svc);         // create: before the write
 *   await ips.onUpdate(old, svc);    // update: before validation and the write
 *   await ips.release(svc);          // delete: after the object is gone
 *   void ips.repair(signal);         // background sweep of orphans
 */
export {
  DEFAULT_NODE_PORT_RANGE,
  DEFAULT_SERVICE_CIDR,
  NODE_PORT_PREFIX,
  type RepairStats,
  SERVICE_IP_PREFIX,
  type ServiceIpAllocator,
  type ServiceIpAllocatorOptions,
  serviceIpAllocator,
} from './allocator.ts';
export { intToIp, ipToInt, parseCidr } from './range.ts';
