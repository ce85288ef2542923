/**
 * A pod's DNS, as the kubelet hands it to the runtime (the sandbox's `dnsConfig`, which the
 * runtime writes as the pod's /etc/resolv.conf):
 *
 *   ClusterFirst (not hostNetwork), ClusterFirstWithHostNet, with cluster DNS configured
 *       → the cluster nameservers, search `<ns>.svc.<domain> svc.<domain> <domain>` and the host's
 *         search domains, `options ndots:5` (the text `podResolvConf` writes)
 *   Default, or ClusterFirst without cluster DNS, or ClusterFirst on the host network
 *       → the host's resolv.conf (nameservers, search, options)
 *   None → only what `spec.dnsConfig` says
 *
 * `spec.dnsConfig` is appended in every case: nameservers and searches without duplicates,
 * options merged by name (the pod's value wins).
 */
import fs from 'node:fs';
import type { DNSConfig } from '../cri/index.ts';
import { podResolvConf } from '../network/dns/index.ts';

type Json = Record<string, any>;

export interface DnsSettings {
  clusterDNS: string[];
  clusterDomain: string;
  /** the host's resolv.conf text (default: read /etc/resolv.conf) */
  hostResolvConf?: string;
}

/** Parses resolv.conf text into the CRI's DNSConfig. */
export function parseResolvConf(text: string): DNSConfig {
  const out: DNSConfig = { servers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [key, ...rest] = line.split(/\s+/);
    if (key === 'nameserver' && rest[0]) out.servers!.push(rest[0]);
    // the last search (or domain) line wins, as in glibc
    else if (key === 'search' || key === 'domain') out.searches = rest.map((d) => d.replace(/\.$/, ''));
    else if (key === 'options') out.options!.push(...rest);
  }
  return out;
}

const unique = (list: string[]) => [...new Set(list.filter(Boolean))];

/** Options by name; a later one with the same name replaces the earlier. */
function mergeOptions(base: string[], extra: string[]): string[] {
  const byName = new Map<string, string>();
  for (const o of [...base, ...extra]) byName.set(o.split(':')[0], o);
  return [...byName.values()];
}

export function sandboxDnsConfig(pod: Json, s: DnsSettings): DNSConfig {
  const spec = pod.spec ?? {};
  const policy = spec.dnsPolicy ?? 'ClusterFirst';
  const host = () => parseResolvConf(s.hostResolvConf ?? readHostResolvConf());
  let dns: DNSConfig;
  const clusterFirst =
    ((policy === 'ClusterFirst' && !spec.hostNetwork) || policy === 'ClusterFirstWithHostNet') &&
    s.clusterDNS.length > 0;
  if (policy === 'None') dns = { servers: [], searches: [], options: [] };
  else if (clusterFirst)
    dns = parseResolvConf(
      podResolvConf({
        namespace: pod.metadata.namespace,
        clusterDNS: s.clusterDNS,
        clusterDomain: s.clusterDomain,
        searches: host().searches,
      }),
    );
  else dns = host();
  const extra = spec.dnsConfig;
  if (extra) {
    dns.servers = unique([...(dns.servers ?? []), ...(extra.nameservers ?? [])]);
    dns.searches = unique([...(dns.searches ?? []), ...(extra.searches ?? [])]);
    dns.options = mergeOptions(
      dns.options ?? [],
      (extra.options ?? []).map((o: Json) => (o.value !== undefined ? `${o.name}:${o.value}` : o.name)),
    );
  }
  dns.searches = unique(dns.searches ?? []);
  return dns;
}

function readHostResolvConf(): string {
  try {
    return fs.readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return '';
  }
}
