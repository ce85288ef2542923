/**
 * Discovery, legacy and aggregated (apidiscovery.k8s.io/v2), built from the registry.
 * kubectl 1.32 asks `/api` and `/apis` for an APIGroupDiscoveryList first and falls back
 * to the per-group-version APIResourceLists when the answer is not one.
 */
import type { ResourceDef, ResourceRegistry } from '../api/resource.ts';

export const AGGREGATED_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
export const AGGREGATED_V2BETA1_TYPE =
  'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList';

interface SubresourceInfo {
  name: string;
  kind: string;
  group?: string;
  version?: string;
  verbs: string[];
}

const EXTRA: Record<string, Omit<SubresourceInfo, 'name'>> = {
  binding: { kind: 'Binding', verbs: ['create'] },
  eviction: { kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] },
  log: { kind: 'Pod', verbs: ['get'] },
  exec: { kind: 'PodExecOptions', verbs: ['create', 'get'] },
  attach: { kind: 'PodAttachOptions', verbs: ['create', 'get'] },
  portforward: { kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
  proxy: { kind: 'PodProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] },
  finalize: { kind: 'Namespace', verbs: ['update'] },
  ephemeralcontainers: { kind: 'Pod', verbs: ['get', 'patch', 'update'] },
  resize: { kind: 'Pod', verbs: ['get', 'patch', 'update'] },
  token: { kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1', verbs: ['create'] },
  approval: { kind: 'CertificateSigningRequest', verbs: ['get', 'patch', 'update'] },
};

export function subresourcesOf(def: ResourceDef): SubresourceInfo[] {
  const out: SubresourceInfo[] = [];
  if (def.subresources?.status || def.hasStatus)
    out.push({ name: 'status', kind: def.kind, verbs: ['get', 'patch', 'update'] });
  if (def.subresources?.scale) {
    out.push({
      name: 'scale',
      kind: 'Scale',
      group: 'autoscaling',
      version: 'v1',
      verbs: ['get', 'patch', 'update'],
    });
  }
  for (const x of def.subresources?.extra ?? [])
    out.push({ name: x, ...(EXTRA[x] ?? { kind: def.kind, verbs: ['get'] }) });
  return out;
}

export interface GroupVersions {
  group: string;
  versions: string[];
}

/** Groups in registry order (core first), each with its versions, preferred first. */
export function groupsOf(registry: ResourceRegistry): GroupVersions[] {
  const map = new Map<string, string[]>();
  for (const d of registry.all()) {
    const vs = map.get(d.group) ?? [];
    if (!vs.includes(d.version)) vs.push(d.version);
    map.set(d.group, vs);
  }
  return [...map].map(([group, versions]) => ({ group, versions: versions.sort(compareVersions) }));
}

/** Kubernetes' version priority: GA > beta > alpha, higher numbers first. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return [0, 0, 0];
    return [m[2] === undefined ? 3 : m[2] === 'beta' ? 2 : 1, Number(m[1]), Number(m[3] ?? 0)];
  };
  const [pa, pb] = [parse(a), parse(b)];
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pb[i] - pa[i];
  return a < b ? -1 : 1;
}

function gv(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

export function apiVersions(serverAddress: string) {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

export function apiGroupList(registry: ResourceRegistry) {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: groupsOf(registry)
      .filter((g) => g.group !== '')
      .map((g) => ({
        name: g.group,
        versions: g.versions.map((v) => ({ groupVersion: gv(g.group, v), version: v })),
        preferredVersion: { groupVersion: gv(g.group, g.versions[0]), version: g.versions[0] },
      })),
  };
}

export function apiGroup(registry: ResourceRegistry, group: string) {
  const g = groupsOf(registry).find((x) => x.group === group);
  if (!g) return undefined;
  return {
    kind: 'APIGroup',
    apiVersion: 'v1',
    name: group,
    versions: g.versions.map((v) => ({ groupVersion: gv(group, v), version: v })),
    preferredVersion: { groupVersion: gv(group, g.versions[0]), version: g.versions[0] },
  };
}

export function apiResourceList(registry: ResourceRegistry, group: string, version: string) {
  const defs = registry.all().filter((d) => d.group === group && d.version === version);
  if (defs.length === 0) return undefined;
  const resources: Record<string, unknown>[] = [];
  for (const d of defs) {
    const r: Record<string, unknown> = {
      name: d.plural,
      singularName: d.singular,
      namespaced: d.namespaced,
      kind: d.kind,
      verbs: d.verbs,
    };
    if (d.shortNames?.length) r.shortNames = d.shortNames;
    if (d.categories?.length) r.categories = d.categories;
    resources.push(r);
    for (const s of subresourcesOf(d)) {
      const sr: Record<string, unknown> = {
        name: `${d.plural}/${s.name}`,
        singularName: '',
        namespaced: d.namespaced,
        kind: s.kind,
        verbs: s.verbs,
      };
      if (s.group !== undefined) {
        sr.group = s.group;
        sr.version = s.version;
      }
      resources.push(sr);
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gv(group, version), resources };
}

/** APIGroupDiscoveryList for `/api` (legacy: true) or `/apis`. */
export function aggregated(registry: ResourceRegistry, legacy: boolean, version: 'v2' | 'v2beta1' = 'v2') {
  const items = groupsOf(registry)
    .filter((g) => (g.group === '') === legacy)
    .map((g) => ({
      metadata: g.group ? { name: g.group } : {},
      versions: g.versions.map((v) => ({
        version: v,
        freshness: 'Current',
        resources: registry
          .all()
          .filter((d) => d.group === g.group && d.version === v)
          .map((d) => {
            const r: Record<string, unknown> = {
              resource: d.plural,
              responseKind: { group: d.group, version: d.version, kind: d.kind },
              scope: d.namespaced ? 'Namespaced' : 'Cluster',
              singularResource: d.singular,
              verbs: d.verbs,
            };
            if (d.shortNames?.length) r.shortNames = d.shortNames;
            if (d.categories?.length) r.categories = d.categories;
            const subs = subresourcesOf(d);
            if (subs.length) {
              r.subresources = subs.map((s) => ({
                subresource: s.name,
                responseKind: { group: s.group ?? d.group, version: s.version ?? d.version, kind: s.kind },
                verbs: s.verbs,
              }));
            }
            return r;
          }),
      })),
    }));
  return { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${version}`, metadata: {}, items };
}
