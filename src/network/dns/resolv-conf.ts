export interface PodResolvConfOptions {
  namespace: string;
  /** The cluster DNS Service's address(es). */
  clusterDNS: string | string[];
  /** Default cluster.local. */
  clusterDomain?: string;
  /** Extra search domains after the cluster ones (from the node, or dnsConfig.searches). */
  searches?: string[];
  /** Extra options (dnsConfig.options), e.g. `['timeout:2']`. */
  options?: string[];
}

/**
 * The resolv.conf the node agent writes into a pod with `dnsPolicy: ClusterFirst`: the cluster
 * nameserver, the namespace's search path, and `ndots:5` so short names try the cluster first.
 *
 *   podResolvConf({ namespace: 'shop', clusterDNS: '10.96.0.10' })
 *   // search shop.svc.cluster.local svc.cluster.local cluster.local
 *   // nameserver 10.96.0.10
 *   // options ndots:5
 */
export function podResolvConf(o: PodResolvConfOptions): string {
  const domain = (o.clusterDomain ?? 'cluster.local').replace(/\.$/, '');
  const search = [`${o.namespace}.svc.${domain}`, `svc.${domain}`, domain, ...(o.searches ?? [])];
  const servers = Array.isArray(o.clusterDNS) ? o.clusterDNS : [o.clusterDNS];
  // glibc reads at most 3 nameservers and 32 search domains.
  const lines = [
    `search ${search.slice(0, 32).join(' ')}`,
    ...servers.slice(0, 3).map((s) => `nameserver ${s}`),
  ];
  const options = ['ndots:5', ...(o.options ?? []).filter((x) => !x.startsWith('ndots:'))];
  const ndots = (o.options ?? []).find((x) => x.startsWith('ndots:'));
  if (ndots) options[0] = ndots;
  lines.push(`options ${options.join(' ')}`);
  return `${lines.join('\n')}\n`;
}
