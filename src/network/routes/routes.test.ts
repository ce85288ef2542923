import assert from 'node:assert/strict';
import { test } from 'node:test';
import { desiredRoutes } from './index.ts';

const node = (name: string, ip: string | undefined, podCIDR?: string, deleting = false) => ({
  metadata: { name, ...(deleting ? { deletionTimestamp: '2025-01-01T00:00:00Z' } : {}) },
  spec: podCIDR ? { podCIDR, podCIDRs: [podCIDR] } : {},
  status: { addresses: ip ? [{ type: 'InternalIP', address: ip }] : [] },
});

test('desiredRoutes: other nodes pod CIDRs via on-link InternalIPs only', () => {
  const logs: string[] = [];
  const routes = desiredRoutes(
    [
      node('self', '172.31.9.2', '10.42.0.0/24'),
      node('b', '172.31.9.3', '10.42.1.0/24'),
      node('c', '172.31.9.4', '10.42.2.0/24'),
      node('far', '192.0.2.7', '10.42.3.0/24'),
      node('nocidr', '172.31.9.5'),
      node('noip', undefined, '10.42.4.0/24'),
      node('going', '172.31.9.6', '10.42.5.0/24', true),
    ],
    'self',
    (ip) => ip.startsWith('172.31.9.'),
    (m) => logs.push(m),
  );
  assert.deepEqual(routes, [
    { dst: '10.42.1.0/24', via: '172.31.9.3', node: 'b' },
    { dst: '10.42.2.0/24', via: '172.31.9.4', node: 'c' },
  ]);
  assert.equal(logs.length, 1);
  assert.match(logs[0], /far.*not on a directly connected subnet/);
});
