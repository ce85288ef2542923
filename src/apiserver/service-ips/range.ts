/** IPv4 CIDR arithmetic for the service IP range. */

export interface Ipv4Range {
  cidr: string;
  /** The network address as an unsigned 32-bit number. */
  base: number;
  /** How many addresses the prefix covers (network and broadcast included). */
  size: number;
}

export function ipToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function parseCidr(cidr: string): Ipv4Range {
  const [ip, bits] = cidr.split('/');
  const base = ipToInt(ip ?? '');
  const prefix = Number(bits);
  if (base === undefined || !/^\d{1,2}$/.test(bits ?? '') || prefix > 30 || prefix < 8)
    throw new TypeError(`service CIDR must be IPv4 with a prefix of /8 to /30: ${cidr}`);
  const size = 2 ** (32 - prefix);
  if (base % size !== 0) throw new TypeError(`service CIDR ${cidr} has host bits set`);
  return { cidr, base, size };
}

/** The offset of `ip` in the range if it is a usable address there (not network nor broadcast). */
export function offsetOf(r: Ipv4Range, ip: string): number | undefined {
  const n = ipToInt(ip);
  if (n === undefined) return undefined;
  const off = n - r.base;
  return off >= 1 && off <= r.size - 2 ? off : undefined;
}
