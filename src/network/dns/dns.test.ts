import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import { test } from 'node:test';
import { promisify } from 'node:util';
import * as dnsPacket from 'dns-packet';
import { type DnsModel, podResolvConf, startDnsServer } from './index.ts';

const run = promisify(execFile);

/** A decoded answer; dns-packet decodes the rcode, its types do not declare it. */
type Reply = dnsPacket.DecodedPacket & { rcode?: string };

const model: DnsModel = {
  services: [
    {
      metadata: { name: 'web', namespace: 'shop' },
      spec: { clusterIP: '10.96.3.4', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
    },
    {
      metadata: { name: 'db', namespace: 'shop' },
      spec: { clusterIP: 'None', ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] },
    },
  ],
  endpointSlices: [
    {
      metadata: { name: 'db-1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'db' } },
      addressType: 'IPv4',
      ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
      endpoints: [
        { addresses: ['10.244.1.5'], hostname: 'db-0', conditions: { ready: true } },
        { addresses: ['10.244.2.6'], conditions: { ready: true } },
        { addresses: ['10.244.2.7'], hostname: 'db-2', conditions: { ready: false } },
      ],
    },
  ],
};

function udpQuery(port: number, host: string, name: string, type: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error('no answer'));
    }, 2000);
    sock.on('message', (m) => {
      clearTimeout(timer);
      sock.close();
      resolve(dnsPacket.decode(m) as Reply);
    });
    const id = randomBytes(2).readUInt16BE();
    sock.send(
      dnsPacket.encode({
        type: 'query',
        id,
        flags: dnsPacket.RECURSION_DESIRED,
        questions: [{ name, type } as dnsPacket.Question],
      }),
      port,
      host,
    );
  });
}

function tcpQuery(port: number, host: string, name: string, type: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, host);
    const msg = dnsPacket.encode({ type: 'query', id: 7, questions: [{ name, type } as dnsPacket.Question] });
    const framed = Buffer.alloc(msg.length + 2);
    framed.writeUInt16BE(msg.length);
    msg.copy(framed, 2);
    sock.on('connect', () => sock.write(framed));
    let buf = Buffer.alloc(0);
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        sock.destroy();
        resolve(dnsPacket.decode(buf.subarray(2)) as Reply);
      }
    });
    sock.on('error', reject);
  });
}

test('cluster DNS answers A, SRV, PTR, NXDOMAIN and REFUSED over UDP and TCP', async (t) => {
  const dns = await startDnsServer({ host: '127.0.0.1', port: 0 });
  t.after(() => dns.close());
  dns.update(model);
  const q = (name: string, type = 'A') => udpQuery(dns.port, dns.host, name, type);
  const data = (p: Reply) => (p.answers ?? []).map((a) => (a as { data: unknown }).data);

  let r = await q('web.shop.svc.cluster.local');
  assert.equal(r.rcode, 'NOERROR');
  assert.equal(r.flag_aa, true);
  assert.deepEqual(data(r), ['10.96.3.4']);
  r = await q('WEB.Shop.svc.cluster.local.');
  assert.deepEqual(data(r), ['10.96.3.4'], 'names are case-insensitive');

  r = await q('db.shop.svc.cluster.local');
  assert.deepEqual(data(r), ['10.244.1.5', '10.244.2.6'], 'headless: the ready endpoints');
  r = await q('db-0.db.shop.svc.cluster.local');
  assert.deepEqual(data(r), ['10.244.1.5']);
  r = await q('10-244-2-6.db.shop.svc.cluster.local');
  assert.deepEqual(data(r), ['10.244.2.6']);

  r = await q('_http._tcp.web.shop.svc.cluster.local', 'SRV');
  assert.deepEqual(data(r), [{ priority: 0, weight: 100, port: 80, target: 'web.shop.svc.cluster.local' }]);
  r = await q('_pg._tcp.db.shop.svc.cluster.local', 'SRV');
  assert.deepEqual(
    data(r)
      .map((d) => (d as { target: string }).target)
      .sort(),
    ['10-244-2-6.db.shop.svc.cluster.local', 'db-0.db.shop.svc.cluster.local'],
  );

  r = await q('4.3.96.10.in-addr.arpa', 'PTR');
  assert.deepEqual(data(r), ['web.shop.svc.cluster.local']);
  r = await q('10-1-2-3.shop.pod.cluster.local');
  assert.deepEqual(data(r), ['10.1.2.3']);

  r = await q('web.shop.svc.cluster.local', 'AAAA');
  assert.equal(r.rcode, 'NOERROR', 'the name exists: NODATA, not NXDOMAIN');
  assert.deepEqual(r.answers, []);
  assert.equal(r.authorities?.[0].type, 'SOA');
  r = await q('shop.svc.cluster.local');
  assert.equal(r.rcode, 'NOERROR', 'empty non-terminal');
  r = await q('nope.shop.svc.cluster.local');
  assert.equal(r.rcode, 'NXDOMAIN');
  assert.equal(r.authorities?.[0].type, 'SOA');
  r = await q('example.com');
  assert.equal(r.rcode, 'REFUSED');

  r = await tcpQuery(dns.port, dns.host, 'web.shop.svc.cluster.local', 'A');
  assert.deepEqual(data(r), ['10.96.3.4'], 'TCP');

  dns.update({ services: model.services.slice(1), endpointSlices: model.endpointSlices });
  r = await q('web.shop.svc.cluster.local');
  assert.equal(r.rcode, 'NXDOMAIN', 'a deleted Service goes away');
});

test('busybox nslookup resolves through the server', async (t) => {
  // A test-unique loopback address lets the server use port 53, which nslookup insists on.
  const b = randomBytes(3);
  const host = `127.${b[0] | 1}.${b[1]}.${(b[2] % 250) + 2}`;
  const dns = await startDnsServer({ host, port: 53 });
  t.after(() => dns.close());
  dns.update(model);
  const { stdout } = await run('timeout', ['5', 'busybox', 'nslookup', 'web.shop.svc.cluster.local', host]);
  assert.match(stdout, /Address:\s+10\.96\.3\.4/);
  const srv = await run('timeout', [
    '5',
    'busybox',
    'nslookup',
    '-type=srv',
    '_pg._tcp.db.shop.svc.cluster.local',
    host,
  ]);
  assert.match(srv.stdout, /5432 db-0\.db\.shop\.svc\.cluster\.local/);
  const nx = await run('timeout', ['5', 'busybox', 'nslookup', 'nope.shop.svc.cluster.local', host]).catch(
    (e) => e as { stdout: string },
  );
  assert.match(nx.stdout, /NXDOMAIN/);
});

test('podResolvConf writes what ClusterFirst pods get', () => {
  assert.equal(
    podResolvConf({ namespace: 'shop', clusterDNS: '10.96.0.10' }),
    'search shop.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n',
  );
  assert.equal(
    podResolvConf({
      namespace: 'a',
      clusterDNS: ['10.0.0.10'],
      clusterDomain: 'k.test',
      searches: ['corp'],
      options: ['ndots:2', 'timeout:1'],
    }),
    'search a.svc.k.test svc.k.test k.test corp\nnameserver 10.0.0.10\noptions ndots:2 timeout:1\n',
  );
});
