/** IPv4 CIDR arithmetic for the node IPAM controller and the node route programmer. */

export interface Cidr {
  /** network address as an unsigned 32-bit number */
  base: number;
  bits: number;
}

export function parseCidr(s: string): Cidr {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(s);
  if (!m) throw new Error(`not an IPv4 CIDR: ${s}`);
  const octets = m.slice(1, 5).map(Number);
  const bits = Number(m[5]);
  if (octets.some((o) => o > 255) || bits > 32) throw new Error(`not an IPv4 CIDR: ${s}`);
  const addr = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
  return { base: (addr & mask(bits)) >>> 0, bits };
}

export function mask(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.base)}/${c.bits}`;
}

export function ipToNumber(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const o = m.slice(1, 5).map(Number);
  if (o.some((x) => x > 255)) return undefined;
  return ((o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]) >>> 0;
}

export function contains(c: Cidr, ip: number): boolean {
  return (ip & mask(c.bits)) >>> 0 === c.base;
}

/** The `index`-th subnet of size `/subBits` inside `c`. */
export function subnet(c: Cidr, subBits: number, index: number): Cidr {
  return { base: (c.base + index * 2 ** (32 - subBits)) >>> 0, bits: subBits };
}

/** Index of `sub` among the `/sub.bits` subnets of `c`, or -1 when it is not one of them. */
export function subnetIndex(c: Cidr, sub: Cidr, subBits: number): number {
  if (sub.bits !== subBits || !contains(c, sub.base)) return -1;
  return (sub.base - c.base) / 2 ** (32 - subBits);
}
