/**
 * Kubernetes resource quantities and how a container's requests and limits become CRI's
 * LinuxContainerResources: memory limit in bytes, CPU shares from the request (1024 per core,
 * at least 2), CPU quota over a 100 ms period from the limit.
 */
import type { LinuxContainerResources } from '../cri/index.ts';

const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** The value of a quantity such as `128Mi`, `250m`, `1.5`, `1e3`; NaN when malformed. */
export function parseQuantity(q: string | number | undefined): number {
  if (q === undefined || q === null) return Number.NaN;
  if (typeof q === 'number') return q;
  const m = /^([+-]?[0-9.]+(?:[eE][+-]?\d+)?)([a-zA-Z]*)$/.exec(q.trim());
  if (!m || !(m[2] in SUFFIX)) return Number.NaN;
  return Number(m[1]) * SUFFIX[m[2]];
}

const CPU_PERIOD = 100_000;

type Json = Record<string, any>;

/** CRI resources for a container spec (undefined fields are left to the runtime). */
export function linuxResources(container: Json): LinuxContainerResources {
  const limits = container.resources?.limits ?? {};
  const requests = container.resources?.requests ?? {};
  const out: LinuxContainerResources = {};
  const mem = parseQuantity(limits.memory);
  if (mem > 0) out.memoryLimitInBytes = Math.floor(mem);
  const cpuReq = parseQuantity(requests.cpu ?? limits.cpu);
  out.cpuShares = cpuReq > 0 ? Math.max(2, Math.floor((Math.ceil(cpuReq * 1000) * 1024) / 1000)) : 2;
  const cpuLim = parseQuantity(limits.cpu);
  if (cpuLim > 0) {
    out.cpuPeriod = CPU_PERIOD;
    out.cpuQuota = Math.max(1000, Math.floor((Math.ceil(cpuLim * 1000) * CPU_PERIOD) / 1000));
  }
  return out;
}

/** A resourceFieldRef's value as the downward API formats it (rounded up to the divisor). */
export function resourceFieldValue(
  container: Json | undefined,
  ref: { resource: string; divisor?: string },
  node: { cpu: number; memory: number },
): string {
  const [kind, name] = ref.resource.split('.');
  const section = kind === 'limits' ? container?.resources?.limits : container?.resources?.requests;
  let v = parseQuantity(section?.[name]);
  if (!(v >= 0)) {
    // unset limits fall back to the node's allocatable, unset requests to 0
    if (kind === 'limits') v = name === 'cpu' ? node.cpu : name === 'memory' ? node.memory : 0;
    else v = 0;
  }
  const divisor = parseQuantity(ref.divisor ?? (name === 'cpu' ? '1' : '1')) || 1;
  return String(Math.ceil(v / divisor - 1e-9));
}
