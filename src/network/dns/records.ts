/**
 * The cluster zone as lookup tables, rebuilt from Services and EndpointSlices on every change
 * (the Kubernetes DNS specification, schema 1.1.0):
 *
 * - `<svc>.<ns>.svc.<zone>`: A → the ClusterIP; for a headless Service, the ready endpoint IPs.
 * - `<hostname>.<svc>.<ns>.svc.<zone>`: A → the endpoint, for headless Services whose pods set
 *   hostname/subdomain; other headless endpoints are named by their dashed IP (`10-244-1-5`).
 * - `_<port>._<proto>.<svc>.<ns>.svc.<zone>`: SRV → the Service name (ClusterIP) or each
 *   endpoint name (headless), for named ports.
 * - `<a-b-c-d>.<ns>.pod.<zone>`: A → a.b.c.d (answered by pattern, as CoreDNS does).
 * - `d.c.b.a.in-addr.arpa`: PTR → the Service or endpoint name.
 */
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';

export interface DnsModel {
  services: Service[];
  endpointSlices: EndpointSlice[];
}

export interface SrvRecord {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

export interface NameRecords {
  A: string[];
  SRV: SrvRecord[];
  PTR: string[];
}

export type Lookup =
  | { kind: 'answer'; records: NameRecords }
  /** The name exists but holds nothing (an empty non-terminal such as `ns.svc.zone`). */
  | { kind: 'empty' }
  | { kind: 'nxdomain' }
  | { kind: 'refused' };

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export class ZoneIndex {
  readonly zone: string;
  #names = new Map<string, NameRecords>();
  #nonTerminals = new Set<string>();

  constructor(zone = 'cluster.local') {
    this.zone = zone.toLowerCase().replace(/\.$/, '');
  }

  get size(): number {
    return this.#names.size;
  }

  /** Rebuilds every record from the model. */
  update(model: DnsModel): void {
    const names = new Map<string, NameRecords>();
    const nonTerminals = new Set<string>();
    const at = (name: string): NameRecords => {
      let r = names.get(name);
      if (!r) {
        r = { A: [], SRV: [], PTR: [] };
        names.set(name, r);
        for (let i = name.indexOf('.'); i >= 0; i = name.indexOf('.', i + 1))
          nonTerminals.add(name.slice(i + 1));
      }
      return r;
    };
    const slicesBySvc = new Map<string, EndpointSlice[]>();
    for (const s of model.endpointSlices) {
      const k = `${s.metadata?.namespace ?? 'default'}/${s.metadata?.labels?.[SERVICE_NAME_LABEL]}`;
      const l = slicesBySvc.get(k) ?? [];
      l.push(s);
      slicesBySvc.set(k, l);
    }
    for (const svc of model.services) {
      const ns = svc.metadata?.namespace ?? 'default';
      const svcName = `${svc.metadata?.name}.${ns}.svc.${this.zone}`.toLowerCase();
      const spec = svc.spec ?? {};
      if (spec.type === 'ExternalName') continue; // a CNAME to outside the cluster: not served here
      const headless = !spec.clusterIP || spec.clusterIP === 'None';
      const rec = at(svcName);
      if (!headless) {
        for (const ip of spec.clusterIPs ?? [spec.clusterIP!]) {
          if (ip.includes(':')) continue;
          rec.A.push(ip);
          at(reverseName(ip)).PTR.push(svcName);
        }
        for (const p of spec.ports ?? []) {
          if (!p.name) continue;
          const proto = (p.protocol ?? 'TCP').toLowerCase();
          at(`_${p.name}._${proto}.${svcName}`.toLowerCase()).SRV.push({
            priority: 0,
            weight: 100,
            port: p.port,
            target: svcName,
          });
        }
        continue;
      }
      for (const slice of slicesBySvc.get(`${ns}/${svc.metadata?.name}`) ?? []) {
        if (slice.addressType && slice.addressType !== 'IPv4') continue;
        for (const ep of slice.endpoints ?? []) {
          const ready = ep.conditions?.ready !== false || spec.publishNotReadyAddresses === true;
          if (!ready) continue;
          for (const ip of ep.addresses ?? []) {
            if (!rec.A.includes(ip)) rec.A.push(ip);
            const host = `${(ep.hostname ?? ip.replaceAll('.', '-')).toLowerCase()}.${svcName}`;
            const hostRec = at(host);
            if (!hostRec.A.includes(ip)) hostRec.A.push(ip);
            at(reverseName(ip)).PTR.push(host);
            for (const p of slice.ports ?? []) {
              if (!p.name || !p.port) continue;
              const proto = (p.protocol ?? 'TCP').toLowerCase();
              at(`_${p.name}._${proto}.${svcName}`.toLowerCase()).SRV.push({
                priority: 0,
                weight: 100,
                port: p.port,
                target: host,
              });
            }
          }
        }
      }
    }
    for (const r of names.values()) r.A.sort();
    this.#names = names;
    this.#nonTerminals = nonTerminals;
  }

  lookup(qname: string): Lookup {
    const name = qname.toLowerCase().replace(/\.$/, '');
    const inZone = name === this.zone || name.endsWith(`.${this.zone}`);
    const reverse = name.endsWith('.in-addr.arpa');
    if (!inZone && !reverse) return { kind: 'refused' };
    const records = this.#names.get(name);
    if (records) return { kind: 'answer', records };
    const pod = this.#podRecord(name);
    if (pod) return { kind: 'answer', records: { A: [pod], SRV: [], PTR: [] } };
    if (name === this.zone || this.#nonTerminals.has(name)) return { kind: 'empty' };
    return { kind: 'nxdomain' };
  }

  /** `a-b-c-d.<ns>.pod.<zone>` → a.b.c.d. */
  #podRecord(name: string): string | undefined {
    const suffix = `.pod.${this.zone}`;
    if (!name.endsWith(suffix)) return undefined;
    const labels = name.slice(0, -suffix.length).split('.');
    if (labels.length !== 2) return undefined;
    const parts = labels[0].split('-');
    if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
    return parts.map(Number).join('.');
  }
}

export function reverseName(ip: string): string {
  return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
}
