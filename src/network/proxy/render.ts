/**
 * Turns a ProxyModel into nftables objects: regular chains (by name, with their rules), affinity
 * sets, and the elements of the dispatch maps. The names are stable functions of what they stand
 * for (a hash of `namespace/name/port/protocol`, plus `ip:port` for endpoints), so two renders can
 * be diffed chain by chain and only what changed is rewritten.
 */
import { createHash } from 'node:crypto';
import type { Service, ServicePort } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { BackendEndpoint, ProxyModel } from './model.ts';

/** The masquerade bit in the packet mark, as kube-proxy uses it. */
export const MASQ_MARK = '0x00004000';
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export interface Rendered {
  /** Regular chains: name → rules. */
  chains: Map<string, string[]>;
  /** Affinity sets: name → declaration body. */
  sets: Map<string, string>;
  /** Map (and set) elements: name → elements, sorted. */
  elements: Map<string, string[]>;
  servicePorts: number;
  endpoints: number;
}

/** The maps and sets of the base table, filled from `Rendered.elements`. */
export const ELEMENT_HOLDERS: Record<string, string> = {
  'node-ips': 'set node-ips { type ipv4_addr; }',
  'service-ips': 'map service-ips { type ipv4_addr . inet_proto . inet_service : verdict; }',
  'service-nodeports': 'map service-nodeports { type inet_proto . inet_service : verdict; }',
  'no-endpoint-services':
    'map no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict; }',
  'no-endpoint-nodeports': 'map no-endpoint-nodeports { type inet_proto . inet_service : verdict; }',
};

/**
 * The fixed part of the table: hooks, dispatch and masquerade. Packets to a Service address are
 * looked up in `service-ips` (one hash lookup however many Services there are) and sent to the
 * Service's chain; Service addresses without endpoints are rejected in the filter hooks so
 * clients fail fast instead of timing out.
 */
export function baseTable(): string[] {
  return [
    ...Object.values(ELEMENT_HOLDERS),
    'chain nat-prerouting { type nat hook prerouting priority -100; policy accept; jump services; }',
    'chain nat-output { type nat hook output priority -100; policy accept; jump services; }',
    'chain nat-postrouting { type nat hook postrouting priority 100; policy accept; jump masquerading; jump pod-egress; }',
    'chain filter-input { type filter hook input priority -110; policy accept; ct state new jump reject-services; }',
    'chain filter-forward { type filter hook forward priority -110; policy accept; ct state new jump reject-services; }',
    'chain filter-output { type filter hook output priority -110; policy accept; ct state new jump reject-services; }',
    'chain reject-services { ip daddr . meta l4proto . th dport vmap @no-endpoint-services; ip daddr @node-ips meta l4proto . th dport vmap @no-endpoint-nodeports; }',
    'chain reject-chain { reject; }',
    'chain services { ip daddr . meta l4proto . th dport vmap @service-ips; ip daddr @node-ips meta l4proto . th dport vmap @service-nodeports; }',
    `chain mark-for-masquerade { meta mark set meta mark or ${MASQ_MARK}; }`,
    `chain masquerading { meta mark & ${MASQ_MARK} == 0 return; meta mark set meta mark xor ${MASQ_MARK}; masquerade fully-random; }`,
  ];
}

function hash(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 12);
}

const PROTOCOLS: Record<string, string> = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp' };

function isHeadless(svc: Service): boolean {
  return !svc.spec?.clusterIP || svc.spec.clusterIP === 'None' || svc.spec.type === 'ExternalName';
}

/** The endpoints of one Service port: ready ones, or serving+terminating ones when none is ready. */
export function endpointsFor(
  model: ProxyModel,
  svc: Service,
  port: ServicePort,
  slicesOf: (svc: Service) => EndpointSlice[] = (s) =>
    model.endpointSlices.filter(
      (x) =>
        (x.metadata?.namespace ?? 'default') === (s.metadata?.namespace ?? 'default') &&
        x.metadata?.labels?.[SERVICE_NAME_LABEL] === s.metadata?.name,
    ),
): BackendEndpoint[] {
  const protocol = port.protocol ?? 'TCP';
  const ready = new Map<string, BackendEndpoint>();
  const terminating = new Map<string, BackendEndpoint>();
  for (const slice of slicesOf(svc)) {
    if (slice.addressType && slice.addressType !== 'IPv4') continue;
    const sp = (slice.ports ?? []).find(
      (p) => (p.name ?? '') === (port.name ?? '') && (p.protocol ?? 'TCP') === protocol,
    );
    if (!sp?.port) continue;
    for (const ep of slice.endpoints ?? []) {
      const ip = ep.addresses?.[0];
      if (!ip) continue;
      const c = ep.conditions ?? {};
      const be: BackendEndpoint = {
        ip,
        port: sp.port,
        nodeName: ep.nodeName,
        local: ep.nodeName === model.nodeName,
      };
      const key = `${ip}:${sp.port}`;
      if (c.ready !== false) ready.set(key, be);
      else if (c.serving && c.terminating) terminating.set(key, be);
    }
  }
  const chosen = ready.size > 0 ? ready : terminating;
  return [...chosen.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, e]) => e);
}

export function render(model: ProxyModel): Rendered {
  const chains = new Map<string, string[]>();
  // Pods talking to anything outside the pod network leave with the node's address; pod-to-pod
  // traffic across nodes keeps its source, which NetworkPolicy matches on. (The CNI bridge's own
  // ipMasq would masquerade everything outside the node's /24, other nodes' pods included.)
  chains.set(
    'pod-egress',
    model.clusterCIDR ? [`ip saddr ${model.clusterCIDR} ip daddr != ${model.clusterCIDR} masquerade`] : [],
  );
  const sets = new Map<string, string>();
  const elements = new Map<string, string[]>(Object.keys(ELEMENT_HOLDERS).map((k) => [k, []]));
  const el = (name: string) => elements.get(name) as string[];
  for (const ip of model.nodeIPs) el('node-ips').push(ip);
  let servicePorts = 0;
  let endpointCount = 0;
  const slicesByService = new Map<string, EndpointSlice[]>();
  for (const sl of model.endpointSlices) {
    const k = `${sl.metadata?.namespace ?? 'default'}/${sl.metadata?.labels?.[SERVICE_NAME_LABEL]}`;
    const l = slicesByService.get(k);
    if (l) l.push(sl);
    else slicesByService.set(k, [sl]);
  }
  const slicesOf = (s: Service) =>
    slicesByService.get(`${s.metadata?.namespace ?? 'default'}/${s.metadata?.name}`) ?? [];
  // First come (oldest), first served: a load-balancer port already taken on the node is not reused.
  const lbTaken = new Set<string>();

  for (const svc of model.services) {
    if (isHeadless(svc)) continue;
    const spec = svc.spec!;
    const ns = svc.metadata?.namespace ?? 'default';
    const clusterIPs = (spec.clusterIPs ?? [spec.clusterIP!]).filter((ip) => ip && !ip.includes(':'));
    const affinity = spec.sessionAffinity === 'ClientIP';
    const timeout = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800;
    const external = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
    for (const port of spec.ports ?? []) {
      const proto = PROTOCOLS[port.protocol ?? 'TCP'];
      if (!proto) continue;
      servicePorts++;
      const key = `${ns}/${svc.metadata?.name}/${port.name ?? ''}/${proto}`;
      const h = hash(key);
      const all = endpointsFor(model, svc, port, slicesOf);
      const sepName = (e: BackendEndpoint) => `sep-${hash(`${key}/${e.ip}:${e.port}`)}`;
      const affName = (e: BackendEndpoint) => `aff-${hash(`${key}/${e.ip}:${e.port}`)}`;
      const balance = (eps: BackendEndpoint[]): string[] => {
        if (eps.length === 0) return ['drop'];
        const rules = affinity ? eps.map((e) => `ip saddr @${affName(e)} goto ${sepName(e)}`) : [];
        if (eps.length === 1) rules.push(`goto ${sepName(eps[0])}`);
        else
          rules.push(
            `numgen random mod ${eps.length} vmap { ${eps.map((e, i) => `${i} : goto ${sepName(e)}`).join(', ')} }`,
          );
        return rules;
      };
      for (const e of all) {
        endpointCount++;
        const rules = [`ip saddr ${e.ip} jump mark-for-masquerade`];
        if (affinity) {
          sets.set(affName(e), `type ipv4_addr; flags dynamic,timeout; timeout ${timeout}s;`);
          rules.push(`update @${affName(e)} { ip saddr }`);
        }
        rules.push(`meta l4proto ${proto} dnat to ${e.ip}:${e.port}`);
        chains.set(sepName(e), rules);
      }

      if (all.length === 0) {
        for (const ip of clusterIPs)
          el('no-endpoint-services').push(`${ip} . ${proto} . ${port.port} : goto reject-chain`);
        if (external && port.nodePort)
          el('no-endpoint-nodeports').push(`${proto} . ${port.nodePort} : goto reject-chain`);
        continue;
      }
      // Cluster traffic: internalTrafficPolicy Local keeps it on this node (or drops it).
      const internal = spec.internalTrafficPolicy === 'Local' ? all.filter((e) => e.local) : all;
      const svcChain = `svc-${h}`;
      chains.set(svcChain, [
        ...(model.clusterCIDR ? [`ip saddr != ${model.clusterCIDR} jump mark-for-masquerade`] : []),
        ...balance(internal),
      ]);
      for (const ip of clusterIPs)
        el('service-ips').push(`${ip} . ${proto} . ${port.port} : goto ${svcChain}`);
      if (!external) continue;

      // External traffic (NodePort, load balancer): masqueraded unless the policy is Local, which
      // keeps the client's address and only uses this node's endpoints. The node itself is
      // treated as a cluster client.
      const extChain = `ext-${h}`;
      if (spec.externalTrafficPolicy === 'Local') {
        chains.set(extChain, [
          'fib saddr type local jump mark-for-masquerade',
          `fib saddr type local goto ${svcChain}`,
          ...balance(all.filter((e) => e.local)),
        ]);
      } else {
        chains.set(extChain, ['jump mark-for-masquerade', `goto ${svcChain}`]);
      }
      if (port.nodePort) el('service-nodeports').push(`${proto} . ${port.nodePort} : goto ${extChain}`);
      if (spec.type === 'LoadBalancer') {
        for (const ip of loadBalancerIPs(svc, model)) {
          const k = `${ip} . ${proto} . ${port.port}`;
          if (lbTaken.has(k) || clusterIPs.includes(ip)) continue;
          lbTaken.add(k);
          el('service-ips').push(`${k} : goto ${extChain}`);
        }
      }
    }
  }
  for (const l of elements.values()) l.sort();
  return { chains, sets, elements, servicePorts, endpoints: endpointCount };
}

/**
 * The built-in load balancer's addresses (as k3s's ServiceLB): every node answers on the Service
 * port at its own addresses, which are what `status.loadBalancer.ingress` reports.
 */
function loadBalancerIPs(_svc: Service, model: ProxyModel): string[] {
  return model.nodeIPs;
}
