/** IP addresses and CIDRs, parsed the way Go's net package reads them (IPv4 dotted, IPv6 colon). */

export interface Cidr {
  /** The address bytes: 4 for IPv4, 16 for IPv6. */
  bytes: number[];
  prefix: number;
}

function parseIPv4(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

function parseIPv6(s: string): number[] | undefined {
  let text = s;
  let tail: number[] = [];
  // An embedded IPv4 tail (::ffff:1.2.3.4) stands for the last two groups.
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    const v4 = parseIPv4(text.slice(lastColon + 1));
    if (!v4) return undefined;
    tail = v4;
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string) => (h === '' ? [] : h.split(':'));
  const head = groups(halves[0]);
  const rest = halves.length === 2 ? groups(halves[1]) : [];
  const fill = 8 - head.length - rest.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return undefined;
  const all = [...head, ...Array(halves.length === 2 ? fill : 0).fill('0'), ...rest];
  const out: number[] = [];
  for (const g of all) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    const n = Number.parseInt(g, 16);
    out.push(n >> 8, n & 0xff);
  }
  if (tail.length) out.splice(12, 4, ...tail);
  return out;
}

/** The bytes of an IP address, or undefined when it is not one. */
export function parseIP(s: string): number[] | undefined {
  if (typeof s !== 'string') return undefined;
  return s.includes(':') ? parseIPv6(s) : parseIPv4(s);
}

/** `10.0.0.0/8` or `fd00::/64` as address and prefix length; undefined when malformed. */
export function parseCIDR(s: string): Cidr | undefined {
  if (typeof s !== 'string') return undefined;
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const bytes = parseIP(s.slice(0, slash));
  const len = s.slice(slash + 1);
  if (!bytes || !/^\d{1,3}$/.test(len)) return undefined;
  const prefix = Number(len);
  if (prefix > bytes.length * 8) return undefined;
  return { bytes, prefix };
}

/** Whether `ip` lies inside `net` (same family, same leading `net.prefix` bits). */
export function cidrContains(net: Cidr, ip: number[]): boolean {
  if (net.bytes.length !== ip.length) return false;
  for (let bit = 0; bit < net.prefix; bit++) {
    const i = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if ((net.bytes[i] & mask) !== (ip[i] & mask)) return false;
  }
  return true;
}
