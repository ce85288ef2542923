/** core/v1 Service and Endpoints. */

import { child, dflt } from '../defaults/pod.ts';
import type { StatusCause } from '../errors.ts';
import { ageColumn, col, formatLabels, nameColumn, since } from '../printers/format.ts';
import type { KubeObject } from '../resource.ts';
import { duplicate, immutable, invalid, portRange, required } from '../validation/causes.ts';
import { oneOf, validateLabels } from '../validation/meta.ts';
import { isDNS1035Label, isDNS1123Label, isValidPortName } from '../validation/names.ts';
import { defineKind } from './define.ts';

type Json = Record<string, any>;

const TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
/** The API server's default --service-node-port-range. */
const NODE_PORT_MIN = 30000;
const NODE_PORT_MAX = 32767;

/** LoadBalancer, NodePort, or ClusterIP with external IPs: traffic arrives from outside. */
function externallyAccessible(s: Json): boolean {
  return (
    s.type === 'LoadBalancer' ||
    s.type === 'NodePort' ||
    (s.type === 'ClusterIP' && (s.externalIPs?.length ?? 0) > 0)
  );
}

function validateService(obj: KubeObject): StatusCause[] {
  const s = (obj.spec ?? {}) as Json;
  const causes: StatusCause[] = [];
  causes.push(...oneOf('spec.type', s.type, TYPES));
  causes.push(...oneOf('spec.sessionAffinity', s.sessionAffinity, ['ClientIP', 'None']));
  const ports: Json[] = s.ports ?? [];
  if (s.type === 'ExternalName') {
    if (!s.externalName) causes.push(required('spec.externalName'));
  } else if (ports.length === 0 && s.clusterIP !== 'None') {
    causes.push(required('spec.ports'));
  }
  const names = new Set<string>();
  const seen = new Set<string>();
  ports.forEach((p, i) => {
    const path = `spec.ports[${i}]`;
    if (ports.length > 1 && !p.name) causes.push(required(`${path}.name`));
    if (p.name) {
      for (const m of isDNS1123Label(p.name)) causes.push(invalid(`${path}.name`, p.name, m));
      if (names.has(p.name)) causes.push(duplicate(`${path}.name`, p.name));
      names.add(p.name);
    }
    if (p.port === undefined) causes.push(required(`${path}.port`));
    else causes.push(...portRange(`${path}.port`, p.port));
    if (!p.protocol) causes.push(required(`${path}.protocol`));
    else causes.push(...oneOf(`${path}.protocol`, p.protocol, PROTOCOLS));
    if (typeof p.targetPort === 'number') causes.push(...portRange(`${path}.targetPort`, p.targetPort));
    else if (typeof p.targetPort === 'string') {
      for (const m of isValidPortName(p.targetPort))
        causes.push(invalid(`${path}.targetPort`, p.targetPort, m));
    }
    if (p.nodePort) {
      if (s.type === 'ClusterIP' || s.type === 'ExternalName') {
        causes.push({
          reason: 'FieldValueForbidden',
          field: `${path}.nodePort`,
          message: `Forbidden: may not be used when \`type\` is '${s.type}'`,
        });
      } else if (
        typeof p.nodePort === 'number' &&
        (p.nodePort < NODE_PORT_MIN || p.nodePort > NODE_PORT_MAX)
      ) {
        causes.push(
          invalid(
            `${path}.nodePort`,
            p.nodePort,
            `provided port is not in the valid range. The range of valid ports is ${NODE_PORT_MIN}-${NODE_PORT_MAX}`,
          ),
        );
      }
    }
    const key = `${p.port}/${p.protocol}`;
    if (seen.has(key)) causes.push(duplicate(path, { port: p.port, protocol: p.protocol }));
    seen.add(key);
  });
  if (s.selector) causes.push(...validateLabels(s.selector, 'spec.selector'));
  if ((s.type === 'NodePort' || s.type === 'LoadBalancer') && (s.clusterIPs?.[0] ?? s.clusterIP) === 'None') {
    causes.push(invalid('spec.clusterIPs[0]', 'None', `may not be set to 'None' for ${s.type} services`));
  }
  if (!externallyAccessible(s)) {
    if (s.externalTrafficPolicy) {
      causes.push(
        invalid(
          'spec.externalTrafficPolicy',
          s.externalTrafficPolicy,
          'may only be set for externally-accessible services',
        ),
      );
    }
  } else causes.push(...oneOf('spec.externalTrafficPolicy', s.externalTrafficPolicy, ['Cluster', 'Local']));
  causes.push(...oneOf('spec.internalTrafficPolicy', s.internalTrafficPolicy, ['Cluster', 'Local']));
  return causes;
}

export const service = defineKind({
  group: '',
  version: 'v1',
  kind: 'Service',
  plural: 'services',
  namespaced: true,
  shortNames: ['svc'],
  categories: ['all'],
  status: true,
  extraSubresources: ['proxy'],
  name: isDNS1035Label,
  defaults(obj) {
    const s = child(obj, 'spec');
    dflt(s, 'type', 'ClusterIP');
    dflt(s, 'sessionAffinity', 'None');
    if (s.sessionAffinity === 'ClientIP') {
      const cfg = child(child(s, 'sessionAffinityConfig'), 'clientIP');
      dflt(cfg, 'timeoutSeconds', 10800);
    }
    for (const p of s.ports ?? []) {
      dflt(p, 'protocol', 'TCP');
      if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
    }
    if (s.type !== 'ExternalName') {
      dflt(s, 'ipFamilyPolicy', 'SingleStack');
      dflt(s, 'internalTrafficPolicy', 'Cluster');
    }
    if (externallyAccessible(s)) dflt(s, 'externalTrafficPolicy', 'Cluster');
    if (s.type === 'LoadBalancer') dflt(s, 'allocateLoadBalancerNodePorts', true);
    if (s.clusterIP && !s.clusterIPs) s.clusterIPs = [s.clusterIP];
    child(obj, 'status');
    child(obj.status as Json, 'loadBalancer');
  },
  validate: validateService,
  validateUpdate(obj, old) {
    const s = (obj.spec ?? {}) as Json;
    const o = (old.spec ?? {}) as Json;
    // Switching to or from ExternalName releases or allocates the IP; otherwise it stays.
    if (o.clusterIP && s.type !== 'ExternalName' && o.type !== 'ExternalName') {
      return immutable('spec.clusterIP', s.clusterIP ?? '', o.clusterIP);
    }
    return [];
  },
  table: {
    columns: [
      nameColumn,
      col('Type', 'string', 'The type of the service.'),
      col('Cluster-IP', 'string', 'The virtual IP of the service.'),
      col('External-IP', 'string', 'IPs outside the cluster that route to the service.'),
      col('Port(s)', 'string', 'The ports the service exposes.'),
      ageColumn,
      col('Selector', 'string', 'Labels of the pods the service routes to.', 1),
    ],
    row(obj, now) {
      const s = (obj.spec ?? {}) as Json;
      const ports: Json[] = s.ports ?? [];
      const portText = ports.length
        ? ports
            .map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol}` : `${p.port}/${p.protocol}`))
            .join(',')
        : '<none>';
      return [
        obj.metadata?.name,
        s.type ?? '',
        s.clusterIP || '<none>',
        externalIP(obj),
        portText,
        since(obj.metadata?.creationTimestamp, now),
        formatLabels(s.selector),
      ];
    },
  },
});

function externalIP(obj: KubeObject): string {
  const s = (obj.spec ?? {}) as Json;
  const external: string[] = s.externalIPs ?? [];
  switch (s.type) {
    case 'ClusterIP':
    case 'NodePort':
      return external.length ? external.join(',') : '<none>';
    case 'LoadBalancer': {
      const ingress: Json[] = (obj.status as Json)?.loadBalancer?.ingress ?? [];
      const lb = ingress.map((i) => i.ip || i.hostname).filter(Boolean);
      const all = [...lb, ...external];
      return all.length ? all.join(',') : '<pending>';
    }
    case 'ExternalName':
      return s.externalName ?? '';
  }
  return '<unknown>';
}

export const endpoints = defineKind({
  group: '',
  version: 'v1',
  kind: 'Endpoints',
  plural: 'endpoints',
  namespaced: true,
  shortNames: ['ep'],
  defaults(obj) {
    for (const ss of (obj.subsets as Json[]) ?? [])
      for (const p of ss.ports ?? []) dflt(p, 'protocol', 'TCP');
  },
  validate(obj) {
    const causes: StatusCause[] = [];
    ((obj.subsets as Json[]) ?? []).forEach((ss, i) => {
      for (const kind of ['addresses', 'notReadyAddresses']) {
        (ss[kind] ?? []).forEach((a: Json, j: number) => {
          if (!a.ip) causes.push(required(`subsets[${i}].${kind}[${j}].ip`));
        });
      }
      (ss.ports ?? []).forEach((p: Json, j: number) => {
        causes.push(...portRange(`subsets[${i}].ports[${j}].port`, p.port));
        causes.push(...oneOf(`subsets[${i}].ports[${j}].protocol`, p.protocol, PROTOCOLS));
      });
    });
    return causes;
  },
  table: {
    columns: [nameColumn, col('Endpoints', 'string', 'The addresses and ports of the endpoints.'), ageColumn],
    row: (obj, now) => [
      obj.metadata?.name,
      formatEndpoints(obj),
      since(obj.metadata?.creationTimestamp, now),
    ],
  },
});

/** At most three `ip:port` entries, then `+ N more...`, as kubectl prints them. */
export function formatEndpoints(obj: KubeObject): string {
  const subsets: Json[] = (obj.subsets as Json[]) ?? [];
  if (subsets.length === 0) return '<none>';
  const list: string[] = [];
  let count = 0;
  const add = (text: string) => {
    if (list.length < 3) list.push(text);
    count++;
  };
  for (const ss of subsets) {
    const addrs: Json[] = ss.addresses ?? [];
    if (!ss.ports?.length) for (const a of addrs) add(a.ip);
    else {
      for (const p of ss.ports) {
        for (const a of addrs) add(a.ip.includes(':') ? `[${a.ip}]:${p.port}` : `${a.ip}:${p.port}`);
      }
    }
  }
  const text = list.join(',');
  return count > 3 ? `${text} + ${count - 3} more...` : text;
}
