/**
 * NetworkPolicy (networking.k8s.io/v1) enforced in the kernel, in an nftables table of our own
 * (`ip skiff-<id>-policy`), hooked at `forward` so it sees pod-to-pod traffic after the service
 * proxy's DNAT (the bridge hands bridged IPv4 to the IP hooks through br_netfilter).
 *
 * Each local pod selected by some policy gets an ingress chain (found by destination IP) and/or
 * an egress chain (by source IP) through two verdict maps. A chain `return`s for what some rule
 * allows and ends in `drop`, so a selected pod with no matching rule is default-denied; replies
 * pass by `ct state established,related accept` ahead of everything. Selectors are resolved to pod
 * IPs here, so a pod or label change is a re-sync; the table is replaced in one transaction.
 *
 *   const np = new NftPolicy({ id: 'node-a' });
 *   await np.sync({ nodeName: 'node-a', pods, namespaces, policies });
 *   await np.close();
 */
import { createHash } from 'node:crypto';
import type { Namespace, Pod } from 'kubernetes-types/core/v1.js';
import type { NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort } from 'kubernetes-types/networking/v1.js';
import { selectorMatches } from '../../api/validation/meta.ts';
import { nftApply, nftDeleteTable } from '../proxy/index.ts';

export interface PolicyModel {
  /** Enforce for pods on this node; every pod with an IP when undefined. */
  nodeName?: string;
  pods: Pod[];
  namespaces: Namespace[];
  policies: NetworkPolicy[];
}

export interface PolicySyncStats {
  /** Pods with an ingress or egress chain. */
  isolatedPods: number;
  rules: number;
  bytes: number;
  applyMs: number;
  /** false when the table was already what the model renders, so nft did not run */
  applied: boolean;
}

const hash = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 12);
const podIP = (p: Pod) => p.status?.podIP;
const nsOf = (o: { metadata?: { namespace?: string } }) => o.metadata?.namespace ?? 'default';

export function policyTypes(p: NetworkPolicy): string[] {
  if (p.spec?.policyTypes?.length) return p.spec.policyTypes;
  return p.spec?.egress?.length ? ['Ingress', 'Egress'] : ['Ingress'];
}

/** The peers' match: `ip <dir> ...` expressions, one per alternative (an empty list matches nothing). */
function peerMatches(
  model: PolicyModel,
  policyNs: string,
  peers: NetworkPolicyPeer[] | undefined,
  dir: 'saddr' | 'daddr',
): { match: string; pods: Pod[] }[] {
  if (!peers || peers.length === 0) return [{ match: '', pods: model.pods }];
  const out: { match: string; pods: Pod[] }[] = [];
  const nsLabels = new Map(model.namespaces.map((n) => [n.metadata?.name ?? '', n.metadata?.labels ?? {}]));
  for (const peer of peers) {
    if (peer.ipBlock) {
      const except = peer.ipBlock.except ?? [];
      out.push({
        match: `ip ${dir} ${peer.ipBlock.cidr}${except.length ? ` ip ${dir} != { ${except.join(', ')} }` : ''}`,
        pods: [],
      });
      continue;
    }
    const pods = model.pods.filter((p) => {
      if (!podIP(p)) return false;
      const ns = nsOf(p);
      if (peer.namespaceSelector) {
        if (!selectorMatches(peer.namespaceSelector, nsLabels.get(ns) ?? {})) return false;
      } else if (ns !== policyNs) return false;
      return !peer.podSelector || selectorMatches(peer.podSelector, p.metadata?.labels ?? {});
    });
    const ips = [...new Set(pods.map((p) => podIP(p)!))].sort();
    if (ips.length) out.push({ match: `ip ${dir} { ${ips.join(', ')} }`, pods });
  }
  return out;
}

/** Port matches for the pod that owns the ports (named ports are looked up in its containers). */
function portMatches(ports: NetworkPolicyPort[] | undefined, owner: Pod | undefined): string[] | undefined {
  if (!ports || ports.length === 0) return undefined; // all ports
  const byProto = new Map<string, string[]>();
  for (const p of ports) {
    const proto = (p.protocol ?? 'TCP').toLowerCase();
    const l = byProto.get(proto) ?? [];
    byProto.set(proto, l);
    if (p.port === undefined) {
      l.push('*');
      continue;
    }
    let num: number | undefined;
    if (typeof p.port === 'number' || /^\d+$/.test(p.port)) num = Number(p.port);
    else {
      for (const c of owner?.spec?.containers ?? []) {
        for (const cp of c.ports ?? []) {
          if (cp.name === p.port && (cp.protocol ?? 'TCP').toLowerCase() === proto) num = cp.containerPort;
        }
      }
    }
    if (num === undefined) continue; // a named port this pod does not have matches nothing
    l.push(p.endPort && p.endPort > num ? `${num}-${p.endPort}` : String(num));
  }
  const out: string[] = [];
  for (const [proto, l] of byProto) {
    if (l.includes('*')) out.push(`meta l4proto ${proto}`);
    else if (l.length) out.push(`meta l4proto ${proto} th dport { ${l.join(', ')} }`);
  }
  return out;
}

export function renderPolicy(
  model: PolicyModel,
  table: string,
): { script: string; isolated: number; rules: number } {
  const local = model.pods.filter(
    (p) => podIP(p) && (!model.nodeName || p.spec?.nodeName === model.nodeName),
  );
  const chains: string[] = [];
  const ingressEls: string[] = [];
  const egressEls: string[] = [];
  let rules = 0;
  let isolated = 0;
  for (const pod of local) {
    const ip = podIP(pod)!;
    const ns = nsOf(pod);
    const selecting = model.policies.filter(
      (np) => nsOf(np) === ns && selectorMatches(np.spec?.podSelector ?? {}, pod.metadata?.labels ?? {}),
    );
    if (selecting.length === 0) continue;
    isolated++;
    const id = hash(`${ns}/${pod.metadata?.name}/${ip}`);
    const ingress = selecting.filter((np) => policyTypes(np).includes('Ingress'));
    if (ingress.length) {
      const lines: string[] = [];
      for (const np of ingress) {
        for (const rule of np.spec?.ingress ?? []) {
          const ports = portMatches(rule.ports, pod);
          for (const peer of peerMatches(model, ns, rule.from, 'saddr')) {
            for (const port of ports ?? [''])
              lines.push(`${[peer.match, port].filter(Boolean).join(' ')} return`);
          }
        }
      }
      lines.push('drop');
      rules += lines.length;
      chains.push(`chain ing-${id} {`, ...lines.map((l) => `  ${l}`), '}');
      ingressEls.push(`${ip} : jump ing-${id}`);
    }
    const egress = selecting.filter((np) => policyTypes(np).includes('Egress'));
    if (egress.length) {
      const lines: string[] = [];
      for (const np of egress) {
        for (const rule of np.spec?.egress ?? []) {
          const named = (rule.ports ?? []).some((p) => typeof p.port === 'string' && !/^\d+$/.test(p.port));
          for (const peer of peerMatches(model, ns, rule.to, 'daddr')) {
            if (!named || peer.pods.length === 0) {
              for (const port of portMatches(rule.ports, undefined) ?? [''])
                lines.push(`${[peer.match, port].filter(Boolean).join(' ')} return`);
              continue;
            }
            // Named ports resolve per destination pod.
            for (const dst of peer.pods) {
              if (!podIP(dst)) continue;
              for (const port of portMatches(rule.ports, dst) ?? [''])
                lines.push(`${[`ip daddr ${podIP(dst)}`, port].filter(Boolean).join(' ')} return`);
            }
          }
        }
      }
      lines.push('drop');
      rules += lines.length;
      chains.push(`chain eg-${id} {`, ...lines.map((l) => `  ${l}`), '}');
      egressEls.push(`${ip} : jump eg-${id}`);
    }
  }
  const t = `ip ${table}`;
  const script = [
    `add table ${t}`,
    `delete table ${t}`,
    `table ${t} {`,
    '  map ingress-pods { type ipv4_addr : verdict; }',
    '  map egress-pods { type ipv4_addr : verdict; }',
    ...chains.map((l) => `  ${l}`),
    '  chain forward {',
    '    type filter hook forward priority 0; policy accept;',
    '    ct state established,related accept',
    '    ip saddr vmap @egress-pods',
    '    ip daddr vmap @ingress-pods',
    '  }',
    '}',
    ...(ingressEls.length ? [`add element ${t} ingress-pods { ${ingressEls.join(', ')} }`] : []),
    ...(egressEls.length ? [`add element ${t} egress-pods { ${egressEls.join(', ')} }`] : []),
  ].join('\n');
  return { script: `${script}\n`, isolated, rules };
}

export interface PolicyOptions {
  /** The table is `skiff-<id>-policy`. */
  id: string;
}

export class NftPolicy {
  readonly table: string;
  /** The script the kernel has, as far as we know. */
  #applied: string | undefined;

  constructor(opts: PolicyOptions) {
    if (!/^[A-Za-z0-9_-]{1,40}$/.test(opts.id)) throw new TypeError(`bad policy id ${opts.id}`);
    this.table = `skiff-${opts.id}-policy`;
  }

  async sync(model: PolicyModel): Promise<PolicySyncStats> {
    const { script, isolated, rules } = renderPolicy(model, this.table);
    const t0 = performance.now();
    // Most pod events (status updates) change nothing here: skip running nft for the same table.
    const applied = script !== this.#applied;
    if (applied) {
      this.#applied = undefined;
      await nftApply(script);
      this.#applied = script;
    }
    return { isolatedPods: isolated, rules, bytes: script.length, applyMs: performance.now() - t0, applied };
  }

  async close(): Promise<void> {
    this.#applied = undefined;
    await nftDeleteTable('ip', this.table);
  }
}
