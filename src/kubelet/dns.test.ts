import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseResolvConf, sandboxDnsConfig } from './dns.ts';

const host =
  'nameserver 192.0.2.53\nnameserver 192.0.2.54 # second\nsearch corp.example.\noptions edns0 timeout:2\n';
const settings = { clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local', hostResolvConf: host };
const pod = (spec: object) => ({
  metadata: { name: 'p', namespace: 'shop' },
  spec: { containers: [], ...spec },
});

test('resolv.conf parsing: nameservers, the last search line, options, comments', () => {
  assert.deepEqual(parseResolvConf(`${host}search a b\n`), {
    servers: ['192.0.2.53', '192.0.2.54'],
    searches: ['a', 'b'],
    options: ['edns0', 'timeout:2'],
  });
});

test('ClusterFirst: cluster nameserver, namespace search path plus the host domains, ndots:5', () => {
  assert.deepEqual(sandboxDnsConfig(pod({}), settings), {
    servers: ['10.96.0.10'],
    searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example'],
    options: ['ndots:5'],
  });
  assert.deepEqual(
    sandboxDnsConfig(pod({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }), settings).servers,
    ['10.96.0.10'],
  );
});

test('Default, host network and missing cluster DNS give the host resolv.conf', () => {
  const hostCfg = parseResolvConf(host);
  assert.deepEqual(sandboxDnsConfig(pod({ dnsPolicy: 'Default' }), settings), hostCfg);
  assert.deepEqual(sandboxDnsConfig(pod({ hostNetwork: true }), settings), hostCfg);
  assert.deepEqual(sandboxDnsConfig(pod({}), { ...settings, clusterDNS: [] }), hostCfg);
});

test('None uses only dnsConfig; dnsConfig merges without duplicates, options by name', () => {
  const dnsConfig = {
    nameservers: ['1.1.1.1'],
    searches: ['x.example'],
    options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }],
  };
  assert.deepEqual(sandboxDnsConfig(pod({ dnsPolicy: 'None', dnsConfig }), settings), {
    servers: ['1.1.1.1'],
    searches: ['x.example'],
    options: ['ndots:2', 'edns0'],
  });
  assert.deepEqual(
    sandboxDnsConfig(pod({ dnsConfig: { ...dnsConfig, nameservers: ['10.96.0.10', '1.1.1.1'] } }), settings),
    {
      servers: ['10.96.0.10', '1.1.1.1'],
      searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example', 'x.example'],
      options: ['ndots:2', 'edns0'],
    },
  );
});
