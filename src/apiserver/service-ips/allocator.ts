/**
 * Allocation of Service cluster IPs and node ports, safe with several API servers on one store.
 *
 * Every allocation is its own key, written with create-if-absent, the way Kubernetes' newer
 * allocator keeps an IPAddress object per IP:
 *
 *   /registry/skiff/serviceips/10.43.0.17   {"namespace":"default","name":"web","uid":"…","allocatedAt":"…"}
 *   /registry/skiff/nodeports/30080         (same shape)
 *
 * Two servers racing for one address both try `create`; the store lets exactly one win, the
 * other gets AlreadyExists and picks again. Nothing is held in memory, so a restart loses
 * nothing. A server that dies between allocating and writing the Service leaves an orphaned
 * key; `repair` releases keys whose Service is gone (or no longer uses the value) once they are
 * older than a grace period, and re-records values a Service uses but no key holds.
 *
 * Dynamic allocation prefers the upper part of each range and leaves the lower band (the first
 * min(max(16, n/16), 256) IPs; min(max(16, n/32), 128) ports) for explicit values, as Kubernetes
 * does, so well-known addresses such as the DNS Service's 10.43.0.10 stay free. The range's
 * first address (10.43.0.1, for `kubernetes.default`) is never handed out dynamically.
 *
 *   const ips = serviceIpAllocator({ backend });
 *   await ips.allocate(service);   // fills spec.clusterIP(s) and nodePorts, or throws Invalid
 *   await ips.release(service);    // after the Service is deleted
 */
import { isReason, type KubeObject, StatusError } from '../../api/index.ts';
import type { Backend } from '../../store/index.ts';
import { type Ipv4Range, intToIp, offsetOf, parseCidr } from './range.ts';

export const SERVICE_IP_PREFIX = '/registry/skiff/serviceips/';
export const NODE_PORT_PREFIX = '/registry/skiff/nodeports/';
export const DEFAULT_SERVICE_CIDR = '10.43.0.0/16';
export const DEFAULT_NODE_PORT_RANGE = '30000-32767';
const SERVICES_PREFIX = '/registry/core/services/';

export interface ServiceIpAllocatorOptions {
  backend: Backend;
  /** The Service CIDR (IPv4); default 10.43.0.0/16. */
  cidr?: string;
  /** `min-max`, default 30000-32767. */
  nodePortRange?: string;
  /** How old an orphaned allocation must be before repair releases it (default 60 s). */
  graceMs?: number;
  /** How often `repair` runs (default 60 s). */
  repairIntervalMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

export interface RepairStats {
  /** Orphaned allocations released. */
  released: number;
  /** Values in use by a Service that no key held, now recorded. */
  recorded: number;
  /** Values two Services claim (logged; left alone). */
  conflicts: number;
}

export interface ServiceIpAllocator {
  readonly cidr: string;
  readonly nodePorts: { min: number; max: number };
  /** Fills `spec.clusterIP`/`clusterIPs` and missing `nodePort`s; throws Invalid for a taken explicit value. */
  allocate(service: KubeObject): Promise<void>;
  /** Frees what the Service holds (only keys it owns). */
  release(service: KubeObject): Promise<void>;
  /**
   * For an update: carries allocated values over from `old` when `next` omits them, allocates
   * what a type change or new port needs, and releases what `next` no longer uses.
   */
  onUpdate(old: KubeObject, next: KubeObject): Promise<void>;
  /** One repair pass. */
  repairOnce(): Promise<RepairStats>;
  /** Runs `repairOnce` every interval until `signal` aborts. */
  repair(signal: AbortSignal): Promise<void>;
}

interface Owner {
  namespace: string;
  name: string;
  uid?: string;
  allocatedAt?: string;
}

type Json = Record<string, any>;

const ownerOf = (svc: KubeObject): Owner => ({
  namespace: svc.metadata?.namespace ?? 'default',
  name: svc.metadata?.name ?? '',
  uid: svc.metadata?.uid,
});

const sameOwner = (a: Owner, b: Owner) =>
  a.namespace === b.namespace && a.name === b.name && (!a.uid || !b.uid || a.uid === b.uid);

function fieldInvalid(svc: KubeObject, field: string, value: string, detail: string): StatusError {
  const name = svc.metadata?.name ?? '';
  const message = `${field}: Invalid value: ${value}: ${detail}`;
  return new StatusError('Invalid', `Service "${name}" is invalid: ${message}`, {
    name,
    group: '',
    kind: 'Service',
    causes: [{ reason: 'FieldValueInvalid', field, message: `Invalid value: ${value}: ${detail}` }],
  });
}

function shuffle<T>(xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

/** A numbered pool backed by one key per allocated member. */
class KeyPool {
  readonly #backend: Backend;
  readonly prefix: string;
  /** Members dynamic allocation prefers, then falls back to. */
  readonly #preferred: [number, number];
  readonly #fallback: [number, number] | undefined;
  readonly #format: (n: number) => string;

  constructor(
    backend: Backend,
    prefix: string,
    preferred: [number, number],
    fallback: [number, number] | undefined,
    format: (n: number) => string,
  ) {
    this.#backend = backend;
    this.prefix = prefix;
    this.#preferred = preferred;
    this.#fallback = fallback;
    this.#format = format;
  }

  /** Records `value` for `owner`: 'ok' when created or already ours, 'taken' when someone else's. */
  async claim(value: string, owner: Owner, now: number): Promise<'created' | 'ours' | 'taken'> {
    const key = this.prefix + value;
    const record = JSON.stringify({ ...owner, allocatedAt: new Date(now).toISOString() });
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await this.#backend.create(key, record);
        return 'created';
      } catch (e) {
        if (!isReason(e, 'AlreadyExists')) throw e;
      }
      const { kv } = await this.#backend.get(key);
      if (!kv) continue; // released in between: try again
      return sameOwner(JSON.parse(kv.value) as Owner, owner) ? 'ours' : 'taken';
    }
    return 'taken';
  }

  /** Deletes `value`'s key if `owner` holds it. */
  async free(value: string, owner: Owner): Promise<void> {
    const key = this.prefix + value;
    const { kv } = await this.#backend.get(key);
    if (!kv || !sameOwner(JSON.parse(kv.value) as Owner, owner)) return;
    try {
      await this.#backend.delete(key, kv.modRevision);
    } catch (e) {
      if (!isReason(e, 'NotFound') && !isReason(e, 'Conflict')) throw e;
    }
  }

  /** A new member for `owner`, or undefined when the pool is full. */
  async next(owner: Owner, now: number): Promise<string | undefined> {
    const [lo, hi] = this.#preferred;
    // A sparse pool almost always succeeds at random; a crowded one lists what is free.
    for (let i = 0; i < 16; i++) {
      const v = this.#format(lo + Math.floor(Math.random() * (hi - lo + 1)));
      if ((await this.claim(v, owner, now)) === 'created') return v;
    }
    const used = new Set(
      (await this.#backend.list(this.prefix)).items.map((kv) => kv.key.slice(this.prefix.length)),
    );
    for (const [a, b] of this.#fallback ? [this.#preferred, this.#fallback] : [this.#preferred]) {
      const free: string[] = [];
      for (let n = a; n <= b; n++) {
        const v = this.#format(n);
        if (!used.has(v)) free.push(v);
      }
      for (const v of shuffle(free)) if ((await this.claim(v, owner, now)) === 'created') return v;
    }
    return undefined;
  }

  async entries(): Promise<{ value: string; owner: Owner; modRevision: number }[]> {
    const { items } = await this.#backend.list(this.prefix);
    return items.map((kv) => ({
      value: kv.key.slice(this.prefix.length),
      owner: JSON.parse(kv.value) as Owner,
      modRevision: kv.modRevision,
    }));
  }
}

function parsePortRange(s: string): { min: number; max: number } {
  const m = /^(\d+)-(\d+)$/.exec(s);
  const min = Number(m?.[1]);
  const max = Number(m?.[2]);
  if (!m || min < 1 || max > 65535 || min > max) throw new TypeError(`bad node port range ${s}`);
  return { min, max };
}

/** The IPs a Service should hold: none for ExternalName and headless Services. */
function wantsClusterIP(s: Json): boolean {
  return s.type !== 'ExternalName';
}

function wantsNodePorts(s: Json): boolean {
  return s.type === 'NodePort' || (s.type === 'LoadBalancer' && s.allocateLoadBalancerNodePorts !== false);
}

function clusterIPsOf(s: Json): string[] {
  const ips: string[] = s.clusterIPs?.length ? s.clusterIPs : s.clusterIP ? [s.clusterIP] : [];
  return ips.filter((ip) => ip && ip !== 'None');
}

function nodePortsOf(s: Json): number[] {
  return [...new Set<number>((s.ports ?? []).map((p: Json) => p.nodePort).filter((n: unknown) => !!n))];
}

export function serviceIpAllocator(opts: ServiceIpAllocatorOptions): ServiceIpAllocator {
  const { backend } = opts;
  const range: Ipv4Range = parseCidr(opts.cidr ?? DEFAULT_SERVICE_CIDR);
  const ports = parsePortRange(opts.nodePortRange ?? DEFAULT_NODE_PORT_RANGE);
  const clock = opts.now ?? Date.now;
  const graceMs = opts.graceMs ?? 60_000;

  const usable = range.size - 2; // offsets 1..size-2
  const ipBand = Math.min(Math.max(16, Math.floor(usable / 16)), 256);
  // Offset 1 is kubernetes.default's; small ranges have no static band beyond it.
  const ipPool =
    usable > ipBand * 2
      ? new KeyPool(backend, SERVICE_IP_PREFIX, [ipBand, usable], [2, ipBand - 1], (n) =>
          intToIp(range.base + n),
        )
      : new KeyPool(backend, SERVICE_IP_PREFIX, [2, usable], undefined, (n) => intToIp(range.base + n));
  const portCount = ports.max - ports.min + 1;
  const portBand = Math.min(Math.max(16, Math.floor(portCount / 32)), 128);
  const portPool =
    portCount > portBand * 2
      ? new KeyPool(
          backend,
          NODE_PORT_PREFIX,
          [ports.min + portBand, ports.max],
          [ports.min, ports.min + portBand - 1],
          String,
        )
      : new KeyPool(backend, NODE_PORT_PREFIX, [ports.min, ports.max], undefined, String);

  /** Allocates what `svc` lacks; on failure releases what this call took and rethrows. */
  async function fill(svc: KubeObject): Promise<void> {
    const s = (svc.spec ?? {}) as Json;
    const owner = ownerOf(svc);
    const now = clock();
    const taken: { pool: KeyPool; value: string }[] = [];
    const before = structuredClone(svc.spec);
    try {
      if (wantsClusterIP(s)) {
        const explicit = s.clusterIPs?.[0] ?? s.clusterIP;
        if (explicit === 'None') {
          s.clusterIP = 'None';
          s.clusterIPs = ['None'];
        } else if (explicit) {
          if (offsetOf(range, explicit) === undefined) {
            throw fieldInvalid(
              svc,
              'spec.clusterIPs',
              `[]string{${JSON.stringify(explicit)}}`,
              `failed to allocate IP ${explicit}: the provided IP (${explicit}) is not in the valid range. The range of valid IPs is ${range.cidr}`,
            );
          }
          const r = await ipPool.claim(explicit, owner, now);
          if (r === 'taken')
            throw fieldInvalid(
              svc,
              'spec.clusterIPs',
              `[]string{${JSON.stringify(explicit)}}`,
              `failed to allocate IP ${explicit}: provided IP is already allocated`,
            );
          if (r === 'created') taken.push({ pool: ipPool, value: explicit });
          s.clusterIP = explicit;
          s.clusterIPs = [explicit];
        } else {
          const ip = await ipPool.next(owner, now);
          if (!ip)
            throw new StatusError(
              'InternalError',
              `Internal error occurred: failed to allocate a serviceIP: range is full (${range.cidr})`,
            );
          taken.push({ pool: ipPool, value: ip });
          s.clusterIP = ip;
          s.clusterIPs = [ip];
        }
      }
      const list: Json[] = s.ports ?? [];
      // Explicit node ports first, so dynamic ones never take a port asked for in the same Service.
      for (const [i, p] of list.entries()) {
        if (!p.nodePort) continue;
        const v = String(p.nodePort);
        const r = await portPool.claim(v, owner, now);
        if (r === 'taken')
          throw fieldInvalid(svc, `spec.ports[${i}].nodePort`, v, 'provided port is already allocated');
        if (r === 'created') taken.push({ pool: portPool, value: v });
      }
      if (wantsNodePorts(s)) {
        for (const p of list) {
          if (p.nodePort) continue;
          // One port number over TCP and UDP shares its node port, as in Kubernetes.
          const twin = list.find((q) => q !== p && q.port === p.port && q.nodePort);
          if (twin) {
            p.nodePort = twin.nodePort;
            continue;
          }
          const v = await portPool.next(owner, now);
          if (!v)
            throw new StatusError(
              'InternalError',
              `Internal error occurred: failed to allocate a nodePort: range is full (${ports.min}-${ports.max})`,
            );
          taken.push({ pool: portPool, value: v });
          p.nodePort = Number(v);
        }
      }
    } catch (e) {
      for (const t of taken) await t.pool.free(t.value, owner).catch(() => {});
      svc.spec = before;
      throw e;
    }
  }

  async function releaseValues(owner: Owner, ips: string[], nodePorts: number[]): Promise<void> {
    for (const ip of ips) await ipPool.free(ip, owner);
    for (const p of nodePorts) await portPool.free(String(p), owner);
  }

  async function repairOnce(): Promise<RepairStats> {
    const stats: RepairStats = { released: 0, recorded: 0, conflicts: 0 };
    const services = (await backend.list(SERVICES_PREFIX)).items.map(
      (kv) => JSON.parse(kv.value) as KubeObject,
    );
    const byName = new Map(services.map((svc) => [`${svc.metadata?.namespace}/${svc.metadata?.name}`, svc]));
    const now = clock();
    for (const [pool, uses] of [
      [ipPool, (s: Json) => clusterIPsOf(s)],
      [portPool, (s: Json) => nodePortsOf(s).map(String)],
    ] as const) {
      const entries = await pool.entries();
      const held = new Map(entries.map((e) => [e.value, e]));
      for (const e of entries) {
        const svc = byName.get(`${e.owner.namespace}/${e.owner.name}`);
        const inUse =
          svc && sameOwner(ownerOf(svc), e.owner) && uses((svc.spec ?? {}) as Json).includes(e.value);
        if (inUse) continue;
        const age = now - Date.parse(e.owner.allocatedAt ?? '');
        if (!(age >= graceMs)) continue; // young (or unreadable time): maybe a create in flight
        try {
          await backend.delete(pool.prefix + e.value, e.modRevision);
          stats.released++;
        } catch (err) {
          if (!isReason(err, 'NotFound') && !isReason(err, 'Conflict')) throw err;
        }
      }
      for (const svc of services) {
        const owner = ownerOf(svc);
        for (const v of uses((svc.spec ?? {}) as Json)) {
          const h = held.get(v);
          if (h && sameOwner(h.owner, owner)) continue;
          if (h) {
            stats.conflicts++;
            continue;
          }
          if (pool === ipPool && offsetOf(range, v) === undefined) continue; // outside this range
          if ((await pool.claim(v, owner, now)) === 'created') stats.recorded++;
          else stats.conflicts++;
        }
      }
    }
    if (stats.conflicts)
      console.warn(`service-ips: ${stats.conflicts} allocation(s) claimed by two Services`);
    return stats;
  }

  return {
    cidr: range.cidr,
    nodePorts: ports,
    allocate: fill,
    async release(svc) {
      const s = (svc.spec ?? {}) as Json;
      await releaseValues(ownerOf(svc), clusterIPsOf(s), nodePortsOf(s));
    },
    async onUpdate(old, next) {
      const o = (old.spec ?? {}) as Json;
      if (!next.spec) next.spec = {};
      const s = next.spec as Json;
      const owner = ownerOf(old);
      if (!next.metadata?.uid && next.metadata) next.metadata.uid = old.metadata?.uid;
      // An update that omits allocated values keeps them (kubectl apply never sends them).
      if (wantsClusterIP(s) && wantsClusterIP(o) && !s.clusterIP && !s.clusterIPs?.length && o.clusterIP) {
        s.clusterIP = o.clusterIP;
        s.clusterIPs = o.clusterIPs ?? [o.clusterIP];
      }
      if (wantsNodePorts(s)) {
        for (const p of (s.ports ?? []) as Json[]) {
          if (p.nodePort) continue;
          const prev = ((o.ports ?? []) as Json[]).find(
            (q) => q.nodePort && q.port === p.port && (q.protocol ?? 'TCP') === (p.protocol ?? 'TCP'),
          );
          if (prev) p.nodePort = prev.nodePort;
        }
      }
      if (!wantsClusterIP(s)) {
        delete s.clusterIP;
        delete s.clusterIPs;
      }
      // Leaving NodePort/LoadBalancer drops the node ports the update merely carried along.
      if (!wantsNodePorts(s) && s.type !== 'LoadBalancer') {
        const oldPorts = new Set(nodePortsOf(o));
        for (const p of (s.ports ?? []) as Json[])
          if (p.nodePort && oldPorts.has(p.nodePort)) delete p.nodePort;
      }
      await fill(next);
      const keepIPs = new Set(clusterIPsOf(s));
      const keepPorts = new Set(nodePortsOf(s));
      await releaseValues(
        owner,
        clusterIPsOf(o).filter((ip) => !keepIPs.has(ip)),
        nodePortsOf(o).filter((p) => !keepPorts.has(p)),
      );
    },
    repairOnce,
    async repair(signal) {
      const every = opts.repairIntervalMs ?? 60_000;
      while (!signal.aborted) {
        try {
          await repairOnce();
        } catch (e) {
          if (!signal.aborted) console.error('service-ips: repair failed:', e);
        }
        if (signal.aborted) break;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, every);
          signal.addEventListener(
            'abort',
            () => {
              clearTimeout(t);
              resolve();
            },
            { once: true },
          );
        });
      }
    },
  };
}
