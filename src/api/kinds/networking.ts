/** networking.k8s.io/v1: NetworkPolicy, Ingress, IngressClass. */

import { child, dflt } from '../defaults/pod.ts';
import type { StatusCause } from '../errors.ts';
import { ageColumn, col, formatSelector, nameColumn, since } from '../printers/format.ts';
import type { KubeObject } from '../resource.ts';
import {
  forbidden,
  immutable,
  invalid,
  invalidFormatted,
  notSupported,
  portRange,
  required,
  tooLong,
} from '../validation/causes.ts';
import { oneOf, validateLabelSelector } from '../validation/meta.ts';
import { isDNS1035Label, isDNS1123Subdomain, isValidPortName } from '../validation/names.ts';
import { cidrContains, parseCIDR, parseIP } from '../validation/net.ts';
import { defineKind } from './define.ts';

type Json = Record<string, any>;

const NET = 'networking.k8s.io';
const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];
const CIDR_MESSAGE = 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)';

// --- NetworkPolicy ---

function validatePolicyPort(p: Json, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  if (p.protocol !== undefined && p.protocol !== null && !PROTOCOLS.includes(p.protocol)) {
    causes.push(notSupported(`${path}.protocol`, p.protocol, PROTOCOLS));
  }
  const hasEnd = p.endPort !== undefined && p.endPort !== null;
  if (p.port === undefined || p.port === null) {
    if (hasEnd)
      causes.push(invalid(`${path}.endPort`, p.endPort, 'may not be specified when `port` is not specified'));
  } else if (typeof p.port === 'number') {
    causes.push(...portRange(`${path}.port`, p.port));
    if (hasEnd) {
      if (p.endPort < p.port)
        causes.push(invalid(`${path}.endPort`, p.port, 'must be greater than or equal to `port`'));
      causes.push(...portRange(`${path}.endPort`, p.endPort));
    }
  } else if (hasEnd) {
    causes.push(invalid(`${path}.endPort`, p.endPort, 'may not be specified when `port` is non-numeric'));
  } else {
    for (const m of isValidPortName(String(p.port))) causes.push(invalid(`${path}.port`, p.port, m));
  }
  return causes;
}

/** ValidateIPBlock: a CIDR, and excepts that are strict subsets of it. */
export function validateIPBlock(b: Json, path: string): StatusCause[] {
  if (!b.cidr) return [required(`${path}.cidr`)];
  const net = parseCIDR(b.cidr);
  if (!net) return [invalid(`${path}.cidr`, b.cidr, CIDR_MESSAGE)];
  const causes: StatusCause[] = [];
  ((b.except as string[]) ?? []).forEach((e, i) => {
    const p = `${path}.except[${i}]`;
    const sub = parseCIDR(e);
    if (!sub) causes.push(invalid(p, e, CIDR_MESSAGE));
    else if (!cidrContains(net, sub.bytes) || net.prefix >= sub.prefix) {
      causes.push(invalid(p, e, 'must be a strict subset of `cidr`'));
    }
  });
  return causes;
}

function validatePeer(peer: Json, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const set = ['podSelector', 'namespaceSelector', 'ipBlock'].filter((k) => peer[k]);
  if (set.length === 0) causes.push(required(path, 'must specify a peer'));
  else if (set.length > 1 && peer.ipBlock)
    causes.push(forbidden(path, 'may not specify both ipBlock and another peer'));
  causes.push(...validateLabelSelector(peer.podSelector, `${path}.podSelector`));
  causes.push(...validateLabelSelector(peer.namespaceSelector, `${path}.namespaceSelector`));
  if (peer.ipBlock) causes.push(...validateIPBlock(peer.ipBlock, `${path}.ipBlock`));
  return causes;
}

function validateNetworkPolicy(obj: KubeObject): StatusCause[] {
  const s = (obj.spec ?? {}) as Json;
  const causes: StatusCause[] = [...validateLabelSelector(s.podSelector, 'spec.podSelector')];
  for (const [dir, peers] of [
    ['ingress', 'from'],
    ['egress', 'to'],
  ]) {
    ((s[dir] as Json[]) ?? []).forEach((rule, i) => {
      const path = `spec.${dir}[${i}]`;
      ((rule.ports as Json[]) ?? []).forEach((p, j) => {
        causes.push(...validatePolicyPort(p, `${path}.ports[${j}]`));
      });
      ((rule[peers] as Json[]) ?? []).forEach((p, j) => {
        causes.push(...validatePeer(p, `${path}.${peers}[${j}]`));
      });
    });
  }
  const types: string[] = s.policyTypes ?? [];
  types.forEach((t, i) => {
    if (t !== 'Ingress' && t !== 'Egress') {
      causes.push(notSupported(`spec.policyTypes[${i}]`, t, ['Ingress', 'Egress']));
    }
  });
  if (types.length > 2)
    causes.push(invalid('spec.policyTypes', types, 'may not specify more than two policyTypes'));
  return causes;
}

export const networkPolicy = defineKind({
  group: NET,
  version: 'v1',
  kind: 'NetworkPolicy',
  plural: 'networkpolicies',
  namespaced: true,
  shortNames: ['netpol'],
  tracksGeneration: true,
  defaults(obj) {
    const s = child(obj, 'spec');
    s.podSelector ??= {};
    for (const dir of ['ingress', 'egress']) {
      for (const rule of (s[dir] as Json[]) ?? [])
        for (const p of rule.ports ?? []) dflt(p, 'protocol', 'TCP');
    }
    if (!s.policyTypes?.length) {
      s.policyTypes = ['Ingress'];
      if (s.egress?.length) s.policyTypes.push('Egress');
    }
  },
  validate: validateNetworkPolicy,
  table: {
    columns: [nameColumn, col('Pod-Selector', 'string', 'The pods the policy applies to.'), ageColumn],
    row: (o, now) => [
      o.metadata?.name,
      formatSelector((o.spec as Json)?.podSelector ?? {}),
      since(o.metadata?.creationTimestamp, now),
    ],
  },
});

// --- Ingress ---

const WILDCARD_RE = /^\*\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const WILDCARD_MESSAGE =
  "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

function validateHost(host: string, path: string): StatusCause[] {
  if (parseIP(host)) return [invalid(path, host, 'must be a DNS name, not an IP address')];
  if (host.includes('*')) return WILDCARD_RE.test(host) ? [] : [invalid(path, host, WILDCARD_MESSAGE)];
  return isDNS1123Subdomain(host).map((m) => invalid(path, host, m));
}

function validateBackend(b: Json, path: string): StatusCause[] {
  if (b.resource && b.service) return [invalid(path, '', 'cannot set both resource and service backends')];
  if (!b.resource && !b.service) return [invalid(path, '', 'resource or service backend is required')];
  const causes: StatusCause[] = [];
  if (b.resource) {
    if (!b.resource.kind) causes.push(required(`${path}.resource.kind`));
    if (!b.resource.name) causes.push(required(`${path}.resource.name`));
    return causes;
  }
  const svc = b.service as Json;
  const sp = `${path}.service`;
  if (!svc.name) causes.push(required(`${sp}.name`));
  else for (const m of isDNS1035Label(svc.name)) causes.push(invalid(`${sp}.name`, svc.name, m));
  const port = (svc.port ?? {}) as Json;
  const hasName = typeof port.name === 'string' && port.name !== '';
  const hasNumber = typeof port.number === 'number' && port.number !== 0;
  if (hasName && hasNumber) causes.push(invalid(`${sp}.port`, '', 'cannot set both port name & port number'));
  else if (hasName) {
    for (const m of isValidPortName(port.name)) causes.push(invalid(`${sp}.port.name`, port.name, m));
  } else if (hasNumber) causes.push(...portRange(`${sp}.port.number`, port.number));
  else causes.push(required(`${sp}.port`, 'port name or number is required'));
  return causes;
}

const PATH_TYPES = ['Exact', 'ImplementationSpecific', 'Prefix'];

function validateIngress(obj: KubeObject): StatusCause[] {
  const s = (obj.spec ?? {}) as Json;
  const causes: StatusCause[] = [];
  const rules: Json[] = s.rules ?? [];
  if (rules.length === 0 && !s.defaultBackend) {
    causes.push(
      invalidFormatted(
        'spec',
        '[]networking.IngressRule(nil)',
        'either `defaultBackend` or `rules` must be specified',
      ),
    );
  }
  if (s.defaultBackend) causes.push(...validateBackend(s.defaultBackend, 'spec.defaultBackend'));
  if (s.ingressClassName) {
    for (const m of isDNS1123Subdomain(s.ingressClassName))
      causes.push(invalid('spec.ingressClassName', s.ingressClassName, m));
  }
  rules.forEach((r, i) => {
    const path = `spec.rules[${i}]`;
    if (r.host) causes.push(...validateHost(r.host, `${path}.host`));
    if (!r.http) return;
    const paths: Json[] = r.http.paths ?? [];
    if (paths.length === 0) causes.push(required(`${path}.http.paths`));
    paths.forEach((p, j) => {
      const pp = `${path}.http.paths[${j}]`;
      if (!p.pathType) causes.push(required(`${pp}.pathType`, 'pathType must be specified'));
      else if (!PATH_TYPES.includes(p.pathType))
        causes.push(notSupported(`${pp}.pathType`, p.pathType, PATH_TYPES));
      else if (p.pathType !== 'ImplementationSpecific' && !String(p.path ?? '').startsWith('/')) {
        causes.push(invalid(`${pp}.path`, p.path ?? '', 'must be an absolute path'));
      }
      if (!p.backend) causes.push(required(`${pp}.backend`));
      else causes.push(...validateBackend(p.backend, `${pp}.backend`));
    });
  });
  ((s.tls as Json[]) ?? []).forEach((t, i) => {
    ((t.hosts as string[]) ?? []).forEach((h, j) => {
      causes.push(...validateHost(h, `spec.tls[${i}].hosts[${j}]`));
    });
  });
  return causes;
}

/** kubectl's formatHosts: the first three hosts, then `+ N more...`; `*` when none. */
function formatHosts(rules: Json[]): string {
  const list: string[] = [];
  let more = false;
  for (const r of rules) {
    if (list.length === 3) more = true;
    if (!more && r.host) list.push(r.host);
  }
  if (list.length === 0) return '*';
  return more ? `${list.join(',')} + ${rules.length - 3} more...` : list.join(',');
}

/** The load balancer's addresses, cut to 16 characters as kubectl does without `-o wide`. */
function loadBalancerAddresses(ingress: Json[]): string {
  const text = ingress
    .map((i) => i.ip || i.hostname)
    .filter(Boolean)
    .join(',');
  return text.length > 16 ? `${text.slice(0, 13)}...` : text;
}

export const ingress = defineKind({
  group: NET,
  version: 'v1',
  kind: 'Ingress',
  plural: 'ingresses',
  namespaced: true,
  shortNames: ['ing'],
  status: true,
  tracksGeneration: true,
  validate: validateIngress,
  table: {
    columns: [
      nameColumn,
      col('Class', 'string', 'The ingress class.'),
      col('Hosts', 'string', 'The hosts the ingress routes.'),
      col('Address', 'string', 'The addresses of its load balancer.'),
      col('Ports', 'string', 'The ports it listens on.'),
      ageColumn,
    ],
    row(o, now) {
      const s = (o.spec ?? {}) as Json;
      return [
        o.metadata?.name,
        s.ingressClassName || '<none>',
        formatHosts(s.rules ?? []),
        loadBalancerAddresses((o.status as Json)?.loadBalancer?.ingress ?? []),
        s.tls?.length ? '80, 443' : '80',
        since(o.metadata?.creationTimestamp, now),
      ];
    },
  },
});

// --- IngressClass ---

export const ingressClass = defineKind({
  group: NET,
  version: 'v1',
  kind: 'IngressClass',
  plural: 'ingressclasses',
  namespaced: false,
  validate(obj) {
    const s = (obj.spec ?? {}) as Json;
    const causes: StatusCause[] = [];
    if (!s.controller) causes.push(required('spec.controller'));
    else if (s.controller.length > 250) causes.push(tooLong('spec.controller', 250));
    const p = s.parameters as Json | undefined;
    if (p) {
      if (!p.kind) causes.push(required('spec.parameters.kind'));
      if (!p.name) causes.push(required('spec.parameters.name'));
      if (p.scope !== undefined)
        causes.push(...oneOf('spec.parameters.scope', p.scope, ['Cluster', 'Namespace']));
      if (p.scope === 'Namespace' && !p.namespace) {
        causes.push(required('spec.parameters.namespace', '`parameters.scope` is set to "Namespace"'));
      }
      if (p.scope === 'Cluster' && p.namespace) {
        causes.push(forbidden('spec.parameters.namespace', '`parameters.scope` is set to "Cluster"'));
      }
    }
    return causes;
  },
  validateUpdate: (obj, old) =>
    immutable('spec.controller', (obj.spec as Json)?.controller, (old.spec as Json)?.controller),
  table: {
    columns: [
      nameColumn,
      col('Controller', 'string', 'The controller that implements the class.'),
      col('Parameters', 'string', 'The object holding its settings.'),
      ageColumn,
    ],
    row(o, now) {
      const s = (o.spec ?? {}) as Json;
      const p = s.parameters as Json | undefined;
      const params = p ? `${p.kind}${p.apiGroup ? `.${p.apiGroup}` : ''}/${p.name}` : '<none>';
      return [o.metadata?.name, s.controller ?? '', params, since(o.metadata?.creationTimestamp, now)];
    },
  },
});
