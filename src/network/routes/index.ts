/**
 * Routes between nodes' pod networks, host-gw style (as flannel's host-gw backend): for every
 * other Node, a kernel route to its pod CIDR via its InternalIP.
 *
 *   void runNodeRoutes({ client, nodeName }, signal);
 *
 * Why plain routes and not an overlay: the nodes of a Skiff cluster share one L2 segment (the
 * bridge `skiff cluster create` makes), so every node's InternalIP is a direct next hop and a
 * routed packet needs no encapsulation: no VXLAN header, no MTU cut, no tunnel device. Across
 * L3 (nodes in different subnets) a next hop would not be on-link, and VXLAN would be the
 * choice; this runner skips such nodes and says so in the log.
 *
 * Routes it makes carry the routing protocol number ROUTE_PROTO, so it finds its own again
 * (after a restart, or a Node's deletion) without touching anyone else's; they are removed
 * when `signal` aborts.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { KubeObject } from '../../api/resource.ts';
import {
  listWatcherFor,
  NODES,
  type RestClient,
  SharedInformer,
  stripManagedFields,
} from '../../client/index.ts';

const run = promisify(execFile);

/** `proto` of the routes this runner owns (any number unused by the kernel and routing daemons). */
export const ROUTE_PROTO = '211';

export interface NodeRoutesOptions {
  client: RestClient;
  /** this node (no route to its own pod CIDR) */
  nodeName: string;
  /** full resync period; default 30 s */
  resyncMs?: number;
  log?(msg: string): void;
}

type Node = KubeObject & {
  spec?: { podCIDR?: string; podCIDRs?: string[] };
  status?: { addresses?: { type: string; address: string }[] };
};

export interface NodeRoute {
  dst: string;
  via: string;
  node: string;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const toNum = (ip: string) => {
  const m = IPV4.exec(ip);
  return m ? ((+m[1] << 24) | (+m[2] << 16) | (+m[3] << 8) | +m[4]) >>> 0 : undefined;
};
const maskOf = (bits: number) => (bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0);

/** The routes this node should have: other nodes' IPv4 pod CIDRs via on-link InternalIPs. */
export function desiredRoutes(
  nodes: Node[],
  self: string,
  onLink: (ip: string) => boolean,
  log: (m: string) => void = () => {},
): NodeRoute[] {
  const out: NodeRoute[] = [];
  for (const n of nodes) {
    const name = n.metadata?.name ?? '';
    if (name === self || n.metadata?.deletionTimestamp) continue;
    const via = n.status?.addresses?.find((a) => a.type === 'InternalIP' && IPV4.test(a.address))?.address;
    const cidrs = n.spec?.podCIDRs?.length ? n.spec.podCIDRs : n.spec?.podCIDR ? [n.spec.podCIDR] : [];
    if (!via || !cidrs.length) continue;
    if (!onLink(via)) {
      log(
        `node ${name}: InternalIP ${via} is not on a directly connected subnet; no route (needs an overlay)`,
      );
      continue;
    }
    for (const dst of cidrs) if (/^[\d.]+\/\d+$/.test(dst)) out.push({ dst, via, node: name });
  }
  return out;
}

/** IPv4 subnets of this network namespace's own addresses, as [network, mask] pairs. */
async function connectedSubnets(): Promise<[number, number][]> {
  const { stdout } = await run('ip', ['-4', '-o', 'addr', 'show']);
  const nets: [number, number][] = [];
  for (const m of stdout.matchAll(/inet (\d+\.\d+\.\d+\.\d+)\/(\d+)/g)) {
    const ip = toNum(m[1]);
    const bits = Number(m[2]);
    if (ip === undefined || m[1].startsWith('127.') || bits >= 32) continue;
    nets.push([(ip & maskOf(bits)) >>> 0, maskOf(bits)]);
  }
  return nets;
}

/** Routes present with our protocol: destination → gateway. */
async function ourRoutes(): Promise<Map<string, string>> {
  const { stdout } = await run('ip', ['-4', 'route', 'show', 'proto', ROUTE_PROTO]);
  const have = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const m = /^(\S+) via (\S+)/.exec(line.trim());
    if (m) have.set(m[1].includes('/') ? m[1] : `${m[1]}/32`, m[2]);
  }
  return have;
}

/** Make the kernel's routes of ROUTE_PROTO equal `want`. */
export async function syncRoutes(want: NodeRoute[], log: (m: string) => void = () => {}): Promise<void> {
  const have = await ourRoutes();
  const wanted = new Map(want.map((r) => [r.dst, r]));
  for (const [dst] of have)
    if (!wanted.has(dst)) {
      await run('ip', ['route', 'del', dst, 'proto', ROUTE_PROTO]).catch(() => {});
      log(`route ${dst} removed`);
    }
  for (const r of want) {
    if (have.get(r.dst) === r.via) continue;
    try {
      await run('ip', ['route', 'replace', r.dst, 'via', r.via, 'proto', ROUTE_PROTO]);
      log(`route ${r.dst} via ${r.via} (node ${r.node})`);
    } catch (e) {
      log(
        `route ${r.dst} via ${r.via}: ${(e as { stderr?: string }).stderr?.trim() || (e as Error).message}`,
      );
    }
  }
}

/** Program routes to the other nodes' pod CIDRs until `signal` aborts, then remove them. */
export async function runNodeRoutes(o: NodeRoutesOptions, signal: AbortSignal): Promise<void> {
  const log = o.log ?? ((m: string) => process.stderr.write(`routes: ${m}\n`));
  const informer = new SharedInformer<Node>(listWatcherFor(o.client, NODES) as any, {
    transform: stripManagedFields,
    onError: (e) => {
      if (!signal.aborted) log(`node watch: ${(e as Error).message}`);
    },
  });
  let timer: NodeJS.Timeout | undefined;
  let syncing: Promise<void> = Promise.resolve();
  const warned = new Set<string>();
  const sync = () => {
    syncing = syncing.then(async () => {
      if (signal.aborted) return;
      try {
        const nets = await connectedSubnets();
        const onLink = (ip: string) => {
          const n = toNum(ip);
          return n !== undefined && nets.some(([net, mask]) => (n & mask) >>> 0 === net);
        };
        const want = desiredRoutes(informer.store.list(), o.nodeName, onLink, (m) => {
          if (!warned.has(m)) log(m);
          warned.add(m);
        });
        await syncRoutes(want, log);
      } catch (e) {
        if (!signal.aborted) log(`sync: ${(e as Error).message}`);
      }
    });
  };
  const soon = () => {
    clearTimeout(timer);
    timer = setTimeout(sync, 100);
  };
  informer.addEventHandler({ add: soon, update: soon, delete: soon });
  const running = informer.start(signal);
  const resync = setInterval(sync, o.resyncMs ?? 30_000);
  await running;
  clearInterval(resync);
  clearTimeout(timer);
  await syncing;
  await syncRoutes([]).catch(() => {});
}
