/**
 * Cluster DNS as a Service: `kube-system/kube-dns` at a fixed ClusterIP (10.43.0.10), answered on
 * every node by Skiff's in-process DNS server.
 *
 * How traffic gets there: each node runs `runNodeDns`, which listens on a node address (the CNI
 * bridge gateway, which every local pod reaches) and publishes its own EndpointSlice
 * `kube-system/kube-dns-<node>` pointing at it. The Service has no selector and
 * `internalTrafficPolicy: Local`, so the ordinary service proxy DNATs 10.43.0.10 on each node to
 * that node's listener only. Nothing in the proxy is special-cased, lookups never cross nodes (as
 * NodeLocal DNSCache), and `kubectl get endpointslices -n kube-system` shows where DNS answers.
 *
 *   await ensureClusterDns({ client });                                       // server boot
 *   await runNodeDns({ client, nodeName, host: bridgeGateway }, signal);      // each node
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { isReason } from '../../api/errors.ts';
import type { KubeObject } from '../../api/resource.ts';
import type { GroupVersionResource, RestClient } from '../../client/index.ts';
import { runClusterDns } from './run.ts';
import { startDnsServer } from './server.ts';

export const DNS_SERVICE_IP = '10.43.0.10';
export const DNS_NAMESPACE = 'kube-system';
export const DNS_SERVICE_NAME = 'kube-dns';
const NODE_DNS_MANAGER = 'skiff-node-dns';

const SERVICES: GroupVersionResource = { group: '', version: 'v1', resource: 'services' };
const ENDPOINT_SLICES: GroupVersionResource = {
  group: 'discovery.k8s.io',
  version: 'v1',
  resource: 'endpointslices',
};

export interface ClusterDnsOptions {
  client: RestClient;
  /** Default 10.43.0.10; must lie in the service CIDR. */
  clusterIP?: string;
}

/** Creates `kube-system/kube-dns` if it is missing; returns the Service as stored. */
export async function ensureClusterDns(o: ClusterDnsOptions): Promise<Service> {
  const clusterIP = o.clusterIP ?? DNS_SERVICE_IP;
  const svc: Service & KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: DNS_SERVICE_NAME,
      namespace: DNS_NAMESPACE,
      labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/name': 'skiff-dns' },
    },
    spec: {
      clusterIP,
      internalTrafficPolicy: 'Local',
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
      ],
    },
  };
  try {
    return await o.client.create(SERVICES, svc);
  } catch (e) {
    if (!isReason(e, 'AlreadyExists')) throw e;
  }
  const cur = await o.client.get<Service & KubeObject>(SERVICES, DNS_SERVICE_NAME, {
    namespace: DNS_NAMESPACE,
  });
  if (cur.spec?.clusterIP !== clusterIP)
    console.warn(`cluster DNS: kube-dns has clusterIP ${cur.spec?.clusterIP}, not ${clusterIP}`);
  return cur;
}

export interface NodeDnsOptions {
  client: RestClient;
  nodeName: string;
  /** The node address pods reach and the listener binds, e.g. the CNI bridge gateway. */
  host: string;
  /** Default 53; 0 picks a free port (tests). */
  port?: number;
  /** Default cluster.local. */
  zone?: string;
}

/** The EndpointSlice that sends this node's kube-dns traffic to its own listener. */
export function nodeDnsSlice(nodeName: string, host: string, port: number): EndpointSlice & KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${DNS_SERVICE_NAME}-${nodeName}`,
      namespace: DNS_NAMESPACE,
      labels: {
        'kubernetes.io/service-name': DNS_SERVICE_NAME,
        'endpointslice.kubernetes.io/managed-by': NODE_DNS_MANAGER,
      },
    },
    addressType: 'IPv4',
    endpoints: [
      { addresses: [host], nodeName, conditions: { ready: true, serving: true, terminating: false } },
    ],
    ports: [
      { name: 'dns', protocol: 'UDP', port },
      { name: 'dns-tcp', protocol: 'TCP', port },
    ],
  };
}

/**
 * Serves cluster DNS on this node until `signal` aborts: the DNS server on `host`, its zone kept
 * in step with the API, and this node's kube-dns EndpointSlice (deleted again on the way out).
 */
export async function runNodeDns(o: NodeDnsOptions, signal: AbortSignal): Promise<void> {
  const server = await startDnsServer({ host: o.host, port: o.port ?? 53, zone: o.zone });
  const slice = nodeDnsSlice(o.nodeName, o.host, server.port);
  const name = slice.metadata!.name!;
  try {
    const zone = runClusterDns(o.client, server, signal);
    // Publish the endpoint, retrying while the API is unreachable.
    while (!signal.aborted) {
      try {
        await upsert(o.client, slice);
        break;
      } catch (e) {
        if (signal.aborted) break;
        console.error('cluster DNS: publishing the EndpointSlice:', (e as Error).message);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    await zone;
  } finally {
    await o.client.delete(ENDPOINT_SLICES, name, { namespace: DNS_NAMESPACE }).catch(() => {});
    await server.close();
  }
}

async function upsert(client: RestClient, slice: EndpointSlice & KubeObject): Promise<void> {
  try {
    await client.create(ENDPOINT_SLICES, slice);
    return;
  } catch (e) {
    if (!isReason(e, 'AlreadyExists')) throw e;
  }
  const cur = await client.get(ENDPOINT_SLICES, slice.metadata!.name!, { namespace: DNS_NAMESPACE });
  await client.update(ENDPOINT_SLICES, {
    ...slice,
    metadata: { ...slice.metadata, resourceVersion: cur.metadata?.resourceVersion },
  });
}
