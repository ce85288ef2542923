import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtinRegistry } from '../index.ts';
import type { KubeObject, ResourceDef } from '../resource.ts';

const reg = builtinRegistry();
const now = new Date('2024-01-01T12:00:00Z');
const ago = (s: number) => new Date(now.getTime() - s * 1000).toISOString();
const def = (plural: string): ResourceDef => {
  const d = reg.byResource('networking.k8s.io', 'v1', plural);
  assert.ok(d, plural);
  return d;
};
const messages = (d: ResourceDef, o: KubeObject) =>
  (d.validate?.(o) ?? []).map((c) => `${c.field}: ${c.message}`);

test('networking kinds are found by resource and kind, with their short names and schemas', () => {
  const defs = reg.definitions();
  for (const [plural, kind, short] of [
    ['networkpolicies', 'NetworkPolicy', 'netpol'],
    ['ingresses', 'Ingress', 'ing'],
    ['ingressclasses', 'IngressClass', undefined],
  ] as const) {
    const d = def(plural);
    assert.equal(reg.byKind('networking.k8s.io', 'v1', kind), d);
    assert.deepEqual(d.shortNames, short ? [short] : undefined);
    assert.ok(defs[d.schemaName], d.schemaName);
  }
  assert.equal(def('ingressclasses').namespaced, false);
  assert.equal(def('ingresses').hasStatus, true);
  const spec = defs['io.k8s.api.networking.v1.NetworkPolicySpec'].properties ?? {};
  assert.equal(spec.ingress['x-kubernetes-list-type'], 'atomic');
  assert.deepEqual(defs['io.k8s.api.networking.v1.NetworkPolicySpec'].required, ['podSelector']);
});

const policy = (spec: Record<string, unknown>): KubeObject => ({
  metadata: { name: 'p', namespace: 'default', creationTimestamp: ago(90) },
  spec,
});

test('network policy defaults: TCP ports, Ingress always, Egress with egress rules', () => {
  const np = def('networkpolicies');
  for (const [spec, types] of [
    [{}, ['Ingress']],
    [{ egress: [{}] }, ['Ingress', 'Egress']],
    [{ egress: [], ingress: [{}] }, ['Ingress']],
    [{ policyTypes: ['Egress'], egress: [{}] }, ['Egress']],
  ] as const) {
    const o = policy(structuredClone(spec) as Record<string, unknown>);
    np.defaults?.(o);
    assert.deepEqual((o.spec as any).policyTypes, types, JSON.stringify(spec));
    assert.deepEqual((o.spec as any).podSelector, {});
  }
  const o = policy({ ingress: [{ ports: [{ port: 80 }, { port: 53, protocol: 'UDP' }] }] });
  np.defaults?.(o);
  assert.deepEqual(
    (o.spec as any).ingress[0].ports.map((p: any) => p.protocol),
    ['TCP', 'UDP'],
  );
  assert.deepEqual(np.validate?.(o), []);
});

test('network policy validation messages', () => {
  const np = def('networkpolicies');
  const cases: [Record<string, unknown>, string[]][] = [
    [
      { ingress: [{ ports: [{ protocol: 'ICMP', port: 80 }] }] },
      [
        'spec.ingress[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"',
      ],
    ],
    [
      { ingress: [{ ports: [{ port: 70000 }] }] },
      ['spec.ingress[0].ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive'],
    ],
    [
      { egress: [{ ports: [{ port: 100, endPort: 90 }] }] },
      ['spec.egress[0].ports[0].endPort: Invalid value: 100: must be greater than or equal to `port`'],
    ],
    [
      { egress: [{ ports: [{ port: 'http', endPort: 90 }] }] },
      ['spec.egress[0].ports[0].endPort: Invalid value: 90: may not be specified when `port` is non-numeric'],
    ],
    [
      { egress: [{ ports: [{ endPort: 90 }] }] },
      [
        'spec.egress[0].ports[0].endPort: Invalid value: 90: may not be specified when `port` is not specified',
      ],
    ],
    [{ ingress: [{ from: [{}] }] }, ['spec.ingress[0].from[0]: Required value: must specify a peer']],
    [
      { ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8' }, podSelector: {} }] }] },
      ['spec.ingress[0].from[0]: Forbidden: may not specify both ipBlock and another peer'],
    ],
    [
      { egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/33' } }] }] },
      [
        'spec.egress[0].to[0].ipBlock.cidr: Invalid value: "10.0.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
      ],
    ],
    [{ egress: [{ to: [{ ipBlock: {} }] }] }, ['spec.egress[0].to[0].ipBlock.cidr: Required value']],
    [
      {
        egress: [
          {
            to: [
              { ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16', '11.0.0.0/16', '10.0.0.0/8', 'x'] } },
            ],
          },
        ],
      },
      [
        'spec.egress[0].to[0].ipBlock.except[1]: Invalid value: "11.0.0.0/16": must be a strict subset of `cidr`',
        'spec.egress[0].to[0].ipBlock.except[2]: Invalid value: "10.0.0.0/8": must be a strict subset of `cidr`',
        'spec.egress[0].to[0].ipBlock.except[3]: Invalid value: "x": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
      ],
    ],
    [
      { egress: [{ to: [{ ipBlock: { cidr: 'fd00::/64', except: ['fd00::/96', '10.0.0.0/24'] } }] }] },
      [
        'spec.egress[0].to[0].ipBlock.except[1]: Invalid value: "10.0.0.0/24": must be a strict subset of `cidr`',
      ],
    ],
    [
      { policyTypes: ['Ingress', 'Sideways'] },
      ['spec.policyTypes[1]: Unsupported value: "Sideways": supported values: "Ingress", "Egress"'],
    ],
  ];
  for (const [spec, want] of cases) assert.deepEqual(messages(np, policy(spec)), want, JSON.stringify(spec));
});

test('network policy table row', () => {
  const np = def('networkpolicies');
  assert.deepEqual(
    np.table?.columns.map((c) => c.name),
    ['Name', 'Pod-Selector', 'Age'],
  );
  assert.deepEqual(np.table?.row(policy({ podSelector: { matchLabels: { app: 'web' } } }), now), [
    'p',
    'app=web',
    '90s',
  ]);
  assert.deepEqual(np.table?.row(policy({ podSelector: {} }), now), ['p', '<none>', '90s']);
});

const ing = (spec: Record<string, unknown>, status?: Record<string, unknown>): KubeObject => ({
  metadata: { name: 'web', namespace: 'default', creationTimestamp: ago(600) },
  spec,
  ...(status ? { status } : {}),
});
const backend = { service: { name: 'web', port: { number: 80 } } };

test('ingress validation messages', () => {
  const d = def('ingresses');
  const cases: [Record<string, unknown>, string[]][] = [
    [
      { rules: [{ host: 'a.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend }] } }] },
      [],
    ],
    [{ defaultBackend: backend }, []],
    [
      {},
      [
        'spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be specified',
      ],
    ],
    [
      {
        rules: [
          {
            host: '*.example.com',
            http: { paths: [{ path: 'x', pathType: 'ImplementationSpecific', backend }] },
          },
        ],
      },
      [],
    ],
    [
      { rules: [{ host: '10.0.0.1', http: { paths: [{ path: 'x', pathType: 'Exact', backend }] } }] },
      [
        'spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address',
        'spec.rules[0].http.paths[0].path: Invalid value: "x": must be an absolute path',
      ],
    ],
    [
      { rules: [{ http: { paths: [{ path: '/', backend }] } }] },
      ['spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified'],
    ],
    [
      { defaultBackend: {} },
      ['spec.defaultBackend: Invalid value: "": resource or service backend is required'],
    ],
    [
      { defaultBackend: { service: { name: 'web', port: {} } } },
      ['spec.defaultBackend.service.port: Required value: port name or number is required'],
    ],
    [
      { defaultBackend: { service: { name: 'web', port: { name: 'http', number: 80 } } } },
      ['spec.defaultBackend.service.port: Invalid value: "": cannot set both port name & port number'],
    ],
    [
      { defaultBackend: { ...backend, resource: { kind: 'Bucket', name: 'b' } } },
      ['spec.defaultBackend: Invalid value: "": cannot set both resource and service backends'],
    ],
  ];
  for (const [spec, want] of cases) assert.deepEqual(messages(d, ing(spec)), want, JSON.stringify(spec));
});

test('ingress table rows: class, hosts, address, ports', () => {
  const d = def('ingresses');
  assert.deepEqual(
    d.table?.columns.map((c) => c.name),
    ['Name', 'Class', 'Hosts', 'Address', 'Ports', 'Age'],
  );
  const rule = (host?: string) => ({ ...(host ? { host } : {}), http: { paths: [] } });
  assert.deepEqual(d.table?.row(ing({ defaultBackend: backend }), now), [
    'web',
    '<none>',
    '*',
    '',
    '80',
    '10m',
  ]);
  assert.deepEqual(
    d.table?.row(
      ing(
        {
          ingressClassName: 'nginx',
          rules: [rule('a'), rule('b'), rule('c'), rule('d'), rule('e')],
          tls: [{}],
        },
        { loadBalancer: { ingress: [{ ip: '192.168.100.100' }, { hostname: 'lb.example.com' }] } },
      ),
      now,
    ),
    ['web', 'nginx', 'a,b,c + 2 more...', '192.168.100.1...', '80, 443', '10m'],
  );
  assert.deepEqual(
    d.table?.row(
      ing({ rules: [rule(), rule('x')] }, { loadBalancer: { ingress: [{ ip: '10.0.0.1' }] } }),
      now,
    ),
    ['web', '<none>', 'x', '10.0.0.1', '80', '10m'],
  );
});

test('ingress class: controller required and immutable, parameters printed', () => {
  const d = def('ingressclasses');
  const ic = (spec: Record<string, unknown>): KubeObject => ({
    metadata: { name: 'nginx', creationTimestamp: ago(30) },
    spec,
  });
  assert.deepEqual(messages(d, ic({})), ['spec.controller: Required value']);
  const a = ic({
    controller: 'example.com/ingress',
    parameters: { apiGroup: 'k8s.example.com', kind: 'Params', name: 'p' },
  });
  assert.deepEqual(d.validate?.(a), []);
  assert.deepEqual(
    (d.validateUpdate?.(ic({ controller: 'other.com/x' }), a) ?? []).map((c) => `${c.field}: ${c.message}`),
    ['spec.controller: Invalid value: "other.com/x": field is immutable'],
  );
  assert.deepEqual(d.table?.row(a, now), ['nginx', 'example.com/ingress', 'Params.k8s.example.com/p', '30s']);
  assert.deepEqual(d.table?.row(ic({ controller: 'c' }), now), ['nginx', 'c', '<none>', '30s']);
});
