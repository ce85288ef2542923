/**
 * Network benchmark (`make bench-network`; needs root):
 * 1. HTTP requests per second and p99 latency to a pod directly and through its ClusterIP, in the
 *    same run (busybox httpd closes every connection, so each request is a new conntrack + NAT).
 * 2. Proxy rule sync for 1,000 Services × 10 endpoints, then an incremental sync after one change.
 * 3. Cluster DNS queries per second over UDP.
 * Everything it makes (netns, bridge, nft tables) is removed at the end.
 */
import dgram from 'node:dgram';
import http from 'node:http';
import * as dnsPacket from 'dns-packet';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { startDnsServer } from '../src/network/dns/index.ts';
import { NftProxier, type ProxyModel } from '../src/network/proxy/index.ts';
import { makeTestNet } from '../test/network/netns.ts';

function modelOf(n: number, perService: number): ProxyModel {
  const services: Service[] = [];
  const endpointSlices: EndpointSlice[] = [];
  for (let i = 0; i < n; i++) {
    const name = `svc-${i}`;
    services.push({
      metadata: { name, namespace: 'bench' },
      spec: {
        clusterIP: `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`,
        type: i % 10 === 0 ? 'NodePort' : 'ClusterIP',
        ports: [
          { name: 'http', port: 80, protocol: 'TCP', ...(i % 10 === 0 ? { nodePort: 30000 + i / 10 } : {}) },
        ],
      },
    });
    endpointSlices.push({
      metadata: { name: `${name}-x`, namespace: 'bench', labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: Array.from({ length: perService }, (_, k) => ({
        addresses: [`172.${16 + k}.${(i >> 8) & 255}.${i & 255}`],
        conditions: { ready: true },
        nodeName: 'bench-node',
      })),
    });
  }
  return { nodeName: 'bench-node', nodeIPs: ['192.0.2.1'], services, endpointSlices };
}

async function load(
  url: string,
  ms: number,
  concurrency: number,
): Promise<{ rps: number; p99: number; errors: number }> {
  const agent = new http.Agent({ keepAlive: false, maxSockets: concurrency });
  const lat: number[] = [];
  let errors = 0;
  const end = performance.now() + ms;
  const one = () =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      const req = http.get(url, { agent, timeout: 3000 }, (res) => {
        res.resume();
        res.on('end', () => {
          lat.push(performance.now() - t0);
          resolve();
        });
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => {
        errors++;
        resolve();
      });
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) await one();
    }),
  );
  agent.destroy();
  lat.sort((a, b) => a - b);
  return {
    rps: lat.length / ((performance.now() - started) / 1000),
    p99: lat[Math.floor(lat.length * 0.99)] ?? Number.NaN,
    errors,
  };
}

async function benchDataPath(): Promise<void> {
  const net = await makeTestNet();
  const proxy = new NftProxier({ id: `bench${net.suffix}` });
  try {
    const server = await net.addPod('server', 8080);
    const clusterIP = '10.127.77.10';
    await proxy.sync({
      nodeName: 'n',
      nodeIPs: [net.gateway],
      services: [
        {
          metadata: { name: 'web', namespace: 'b' },
          spec: { clusterIP, ports: [{ name: 'http', port: 80 }] },
        },
      ],
      endpointSlices: [
        {
          metadata: { name: 'web-1', namespace: 'b', labels: { 'kubernetes.io/service-name': 'web' } },
          addressType: 'IPv4',
          ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
          endpoints: [{ addresses: [server.ip], conditions: { ready: true } }],
        },
      ],
    });
    const rounds: { direct: number[]; svc: number[]; dp99: number[]; sp99: number[] } = {
      direct: [],
      svc: [],
      dp99: [],
      sp99: [],
    };
    await load(`http://${server.ip}:8080/`, 500, 8); // warm up
    for (let r = 0; r < 3; r++) {
      const d = await load(`http://${server.ip}:8080/`, 1500, 8);
      const s = await load(`http://${clusterIP}:80/`, 1500, 8);
      if (d.errors || s.errors) console.log(`  round ${r}: errors direct=${d.errors} service=${s.errors}`);
      rounds.direct.push(d.rps);
      rounds.svc.push(s.rps);
      rounds.dp99.push(d.p99);
      rounds.sp99.push(s.p99);
    }
    const med = (x: number[]) => [...x].sort((a, b) => a - b)[Math.floor(x.length / 2)];
    const d = med(rounds.direct);
    const s = med(rounds.svc);
    console.log(`pod directly:     ${d.toFixed(0)} req/s, p99 ${med(rounds.dp99).toFixed(2)} ms`);
    console.log(`through ClusterIP: ${s.toFixed(0)} req/s, p99 ${med(rounds.sp99).toFixed(2)} ms`);
    console.log(`ratio ClusterIP/direct: ${(s / d).toFixed(3)} (target >= 0.9)`);
  } finally {
    await proxy.close().catch(() => {});
    await net.cleanup();
  }
}

async function benchSync(): Promise<void> {
  const proxy = new NftProxier({ id: `bench-sync-${process.pid}` });
  try {
    const model = modelOf(1000, 10);
    const full = await proxy.sync(model);
    console.log(
      `full sync, 1,000 Services x 10 endpoints: ${(full.renderMs + full.applyMs).toFixed(0)} ms ` +
        `(render ${full.renderMs.toFixed(0)} ms, nft ${full.applyMs.toFixed(0)} ms, ${full.chainsWritten} chains, ${(full.bytes / 1024).toFixed(0)} KiB)`,
    );
    const slices = model.endpointSlices.slice();
    const s0 = slices[500];
    slices[500] = { ...s0, endpoints: s0.endpoints.slice(1) };
    const inc = await proxy.sync({ ...model, endpointSlices: slices });
    console.log(
      `incremental sync after one endpoint change: ${(inc.renderMs + inc.applyMs).toFixed(0)} ms ` +
        `(render ${inc.renderMs.toFixed(0)} ms, nft ${inc.applyMs.toFixed(0)} ms, ${inc.chainsWritten} chains written, ${inc.chainsDeleted} deleted, ${inc.bytes} bytes)`,
    );
    const none = await proxy.sync({ ...model, endpointSlices: slices });
    console.log(`no-op sync: ${(none.renderMs + none.applyMs).toFixed(0)} ms`);
  } finally {
    await proxy.close();
  }
}

async function benchDns(): Promise<void> {
  const dns = await startDnsServer({ host: '127.0.0.1', port: 0 });
  const sock = dgram.createSocket('udp4');
  try {
    const m = modelOf(1000, 10);
    dns.update({ services: m.services, endpointSlices: m.endpointSlices });
    const queries = Array.from({ length: 1000 }, (_, i) =>
      dnsPacket.encode({
        type: 'query',
        id: i,
        questions: [{ type: 'A', name: `svc-${i}.bench.svc.cluster.local` }],
      }),
    );
    let answered = 0;
    let sent = 0;
    const window = 64;
    const ms = 2000;
    const end = performance.now() + ms;
    await new Promise<void>((resolve) => {
      sock.bind(0, '127.0.0.1', () => {
        const send = () => {
          if (performance.now() >= end) return;
          sock.send(queries[sent++ % queries.length], dns.port, dns.host);
        };
        sock.on('message', () => {
          answered++;
          send();
        });
        for (let i = 0; i < window; i++) send();
        setTimeout(resolve, ms + 200);
      });
    });
    console.log(
      `DNS over UDP: ${(answered / (ms / 1000)).toFixed(0)} queries/s (${answered} answered of ${sent})`,
    );
  } finally {
    sock.close();
    await dns.close();
  }
}

await benchDataPath();
await benchSync();
await benchDns();
