/**
 * What a Service's endpoints should be, computed from the Service and the Pods it selects: the
 * EndpointSlices (one per distinct resolved port list, at most 100 endpoints each) and the
 * legacy Endpoints object. Pure functions, so they are tested without an API server.
 */
import { createHash } from 'node:crypto';
import type {
  EndpointAddress,
  EndpointPort,
  EndpointSubset,
  Endpoints,
  Pod,
  Service,
} from 'kubernetes-types/core/v1.js';
import type { Endpoint, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { selectorMatches } from '../../api/index.ts';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const MANAGED_BY = 'endpointslice-controller.k8s.io';
const MAX_ENDPOINTS_PER_SLICE = 100;

/** Does the Service select this pod? */
export function selects(svc: Service, pod: Pod): boolean {
  const sel = svc.spec?.selector;
  if (!sel || Object.keys(sel).length === 0) return false;
  if ((pod.metadata?.namespace ?? 'default') !== (svc.metadata?.namespace ?? 'default')) return false;
  return selectorMatches({ matchLabels: sel }, pod.metadata?.labels ?? {});
}

/** The pod's port for a Service port: a number, or a container port's name looked up in the pod. */
export function resolveTargetPort(
  pod: Pod,
  port: { port: number; targetPort?: number | string; protocol?: string },
): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  for (const c of pod.spec?.containers ?? []) {
    for (const cp of c.ports ?? []) {
      if (cp.name === target && (cp.protocol ?? 'TCP') === (port.protocol ?? 'TCP')) return cp.containerPort;
    }
  }
  return undefined;
}

interface PodEndpoint {
  pod: Pod;
  ip: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  ports: EndpointPort[];
}

function podEndpoints(svc: Service, pods: Pod[]): PodEndpoint[] {
  const out: PodEndpoint[] = [];
  const publishNotReady = svc.spec?.publishNotReadyAddresses === true;
  for (const pod of pods) {
    const ip = pod.status?.podIP;
    if (!ip || ip.includes(':')) continue;
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') continue;
    const ports: EndpointPort[] = [];
    for (const p of svc.spec?.ports ?? []) {
      const port = resolveTargetPort(pod, p);
      if (port === undefined) continue;
      ports.push({ name: p.name ?? '', port, protocol: p.protocol ?? 'TCP', appProtocol: p.appProtocol });
    }
    if ((svc.spec?.ports ?? []).length > 0 && ports.length === 0) continue;
    const podReady = (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
    const terminating = !!pod.metadata?.deletionTimestamp;
    const serving = podReady || publishNotReady;
    out.push({ pod, ip, serving, terminating, ready: serving && !terminating, ports });
  }
  return out.sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
}

function hostnameFor(svc: Service, pod: Pod): string | undefined {
  const h = pod.spec?.hostname;
  return h && pod.spec?.subdomain === svc.metadata?.name ? h : undefined;
}

function portsKey(ports: EndpointPort[]): string {
  return JSON.stringify(ports.map((p) => [p.name, p.port, p.protocol]));
}

function ownerRef(svc: Service) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    name: svc.metadata!.name!,
    uid: svc.metadata!.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** The EndpointSlices a Service with a selector should have, with deterministic names. */
export function desiredSlices(svc: Service, pods: Pod[]): EndpointSlice[] {
  const ns = svc.metadata?.namespace ?? 'default';
  const name = svc.metadata!.name!;
  const groups = new Map<string, PodEndpoint[]>();
  for (const e of podEndpoints(svc, pods)) {
    const k = portsKey(e.ports);
    const g = groups.get(k) ?? [];
    g.push(e);
    groups.set(k, g);
  }
  const slices: EndpointSlice[] = [];
  for (const [key, eps] of [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const h = createHash('sha256').update(key).digest('hex').slice(0, 8);
    for (let i = 0; i * MAX_ENDPOINTS_PER_SLICE < eps.length; i++) {
      const chunk = eps.slice(i * MAX_ENDPOINTS_PER_SLICE, (i + 1) * MAX_ENDPOINTS_PER_SLICE);
      slices.push(slice(svc, ns, `${name.slice(0, 200)}-${h}${i ? `-${i}` : ''}`, chunk[0].ports, chunk));
    }
  }
  // A selected Service with no endpoints still has one (empty) slice, as upstream does.
  if (slices.length === 0) slices.push(slice(svc, ns, `${name.slice(0, 200)}-empty`, [], []));
  return slices;
}

function slice(
  svc: Service,
  ns: string,
  name: string,
  ports: EndpointPort[],
  eps: PodEndpoint[],
): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name,
      namespace: ns,
      labels: { [SERVICE_NAME_LABEL]: svc.metadata!.name!, [MANAGED_BY_LABEL]: MANAGED_BY },
      ownerReferences: [ownerRef(svc)],
    },
    addressType: 'IPv4',
    ports: ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol })),
    endpoints: eps.map((e): Endpoint => {
      const hostname = hostnameFor(svc, e.pod);
      return {
        addresses: [e.ip],
        conditions: { ready: e.ready, serving: e.serving, terminating: e.terminating },
        ...(hostname ? { hostname } : {}),
        ...(e.pod.spec?.nodeName ? { nodeName: e.pod.spec.nodeName } : {}),
        targetRef: {
          kind: 'Pod',
          namespace: ns,
          name: e.pod.metadata?.name,
          uid: e.pod.metadata?.uid,
        },
      };
    }),
  };
}

/** The legacy Endpoints object: ready addresses, and not-ready (non-terminating) ones apart. */
export function desiredEndpoints(svc: Service, pods: Pod[]): Endpoints {
  const ns = svc.metadata?.namespace ?? 'default';
  const groups = new Map<
    string,
    { ports: EndpointPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }
  >();
  for (const e of podEndpoints(svc, pods)) {
    if (e.terminating && !svc.spec?.publishNotReadyAddresses) continue;
    const k = portsKey(e.ports);
    const g = groups.get(k) ?? { ports: e.ports, ready: [], notReady: [] };
    groups.set(k, g);
    const hostname = hostnameFor(svc, e.pod);
    const addr: EndpointAddress = {
      ip: e.ip,
      ...(hostname ? { hostname } : {}),
      ...(e.pod.spec?.nodeName ? { nodeName: e.pod.spec.nodeName } : {}),
      targetRef: { kind: 'Pod', namespace: ns, name: e.pod.metadata?.name, uid: e.pod.metadata?.uid },
    };
    (e.ready ? g.ready : g.notReady).push(addr);
  }
  const subsets = [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(
      ([, g]): EndpointSubset => ({
        ...(g.ready.length ? { addresses: g.ready } : {}),
        ...(g.notReady.length ? { notReadyAddresses: g.notReady } : {}),
        ports: g.ports.map((p) => ({ name: p.name || undefined, port: p.port, protocol: p.protocol })),
      }),
    );
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: svc.metadata!.name!, namespace: ns, labels: { ...(svc.metadata?.labels ?? {}) } },
    subsets,
  };
}
