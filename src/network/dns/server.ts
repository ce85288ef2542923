/**
 * The cluster DNS server: authoritative for the cluster zone over UDP and TCP (RFC 1035 §4.2),
 * with the wire format from `dns-packet` (maintained, small, no dependencies of note).
 *
 * There is no upstream: names outside the zone (and outside in-addr.arpa) are REFUSED, unknown
 * names inside it are NXDOMAIN, and names that exist without the asked type get an empty
 * NOERROR answer, both with the zone's SOA so resolvers cache the negative answer briefly.
 *
 *   const dns = await startDnsServer({ host: '10.96.0.10', port: 53 });
 *   dns.update({ services, endpointSlices });
 *   await dns.close();
 */
import dgram from 'node:dgram';
import net from 'node:net';
import * as dnsPacket from 'dns-packet';
import { type DnsModel, ZoneIndex } from './records.ts';

export interface DnsServerOptions {
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Port for both UDP and TCP; 0 picks a free one (default 53). */
  port?: number;
  /** The cluster domain (default cluster.local). */
  zone?: string;
  /** TTL of answers in seconds (default 5, as CoreDNS's kubernetes plugin). */
  ttl?: number;
}

export interface DnsServer {
  readonly host: string;
  readonly port: number;
  readonly zone: ZoneIndex;
  update(model: DnsModel): void;
  /** Answers one query message (what the sockets do; exposed for tests and benchmarks). */
  answer(query: Buffer, udpLimit?: number): Buffer | undefined;
  close(): Promise<void>;
}

const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

export async function startDnsServer(opts: DnsServerOptions = {}): Promise<DnsServer> {
  const host = opts.host ?? '127.0.0.1';
  const ttl = opts.ttl ?? 5;
  const zone = new ZoneIndex(opts.zone);
  const soa: dnsPacket.Answer = {
    type: 'SOA',
    name: zone.zone,
    ttl,
    data: {
      mname: `ns.dns.${zone.zone}`,
      rname: `hostmaster.${zone.zone}`,
      serial: 1,
      refresh: 7200,
      retry: 1800,
      expire: 86400,
      minimum: ttl,
    },
  };

  function answer(raw: Buffer, udpLimit?: number): Buffer | undefined {
    let q: dnsPacket.DecodedPacket;
    try {
      q = dnsPacket.decode(raw);
    } catch {
      return undefined; // not a DNS message: say nothing
    }
    if (q.type !== 'query') return undefined;
    const rd = (q.flags ?? 0) & dnsPacket.RECURSION_DESIRED;
    const reply = (rcode: number, answers: dnsPacket.Answer[] = [], authorities: dnsPacket.Answer[] = []) => {
      const opt = q.additionals?.find((a) => a.type === 'OPT') as { udpPayloadSize?: number } | undefined;
      const base = {
        type: 'response' as const,
        id: q.id,
        flags: dnsPacket.AUTHORITATIVE_ANSWER | rd | rcode,
        questions: q.questions,
        additionals: opt ? [{ type: 'OPT' as const, name: '.', udpPayloadSize: 1232 }] : [],
      };
      let out = dnsPacket.encode({ ...base, answers, authorities } as unknown as dnsPacket.Packet);
      const limit =
        udpLimit === undefined ? Number.POSITIVE_INFINITY : Math.max(512, opt?.udpPayloadSize ?? 512);
      if (out.length > limit) {
        // Too big for this UDP exchange: truncated, the client retries over TCP.
        out = dnsPacket.encode({
          ...base,
          flags: base.flags | dnsPacket.TRUNCATED_RESPONSE,
          answers: [],
          authorities: [],
        } as unknown as dnsPacket.Packet);
      }
      return out;
    };
    const question = q.questions?.[0];
    if (!question || q.questions!.length !== 1) return reply(RCODE.NOTIMP);
    const found = zone.lookup(question.name);
    if (found.kind === 'refused') return reply(RCODE.REFUSED);
    if (found.kind === 'nxdomain') return reply(RCODE.NXDOMAIN, [], [soa]);
    const answers: dnsPacket.Answer[] = [];
    if (found.kind === 'answer') {
      const { records } = found;
      const want: string = question.type;
      const name = question.name;
      if (want === 'A' || want === 'ANY')
        for (const ip of records.A) answers.push({ type: 'A', name, ttl, data: ip });
      if (want === 'SRV' || want === 'ANY') {
        for (const s of records.SRV) answers.push({ type: 'SRV', name, ttl, data: s });
      }
      if (want === 'PTR' || want === 'ANY')
        for (const p of records.PTR) answers.push({ type: 'PTR', name, ttl, data: p });
    }
    return reply(RCODE.NOERROR, answers, answers.length ? [] : [soa]);
  }

  const udp = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  udp.on('message', (msg, rinfo) => {
    const out = answer(msg, 512);
    if (out) udp.send(out, rinfo.port, rinfo.address);
  });
  udp.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(opts.port ?? 53, host, () => {
      udp.off('error', reject);
      resolve();
    });
  });
  const port = udp.address().port;

  const sockets = new Set<net.Socket>();
  const tcp = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    sock.setTimeout(10_000, () => sock.destroy());
    let buf = Buffer.alloc(0);
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      // Each message is prefixed by its length (two bytes, big-endian).
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const len = buf.readUInt16BE(0);
        const out = answer(buf.subarray(2, 2 + len));
        buf = buf.subarray(2 + len);
        if (!out) {
          sock.destroy();
          return;
        }
        const framed = Buffer.alloc(2 + out.length);
        framed.writeUInt16BE(out.length, 0);
        out.copy(framed, 2);
        sock.write(framed);
      }
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(port, host, () => {
        tcp.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    udp.close();
    throw e;
  }

  return {
    host,
    port,
    zone,
    update: (model) => zone.update(model),
    answer,
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all([
        new Promise<void>((r) => udp.close(() => r())),
        new Promise<void>((r) => tcp.close(() => r())),
      ]);
    },
  };
}
