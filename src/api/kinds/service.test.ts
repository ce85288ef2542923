import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtinRegistry } from '../index.ts';
import type { KubeObject } from '../resource.ts';

const reg = builtinRegistry();
const services = reg.byResource('', 'v1', 'services');
const pods = reg.byResource('', 'v1', 'pods');
const messages = (causes: { field?: string; message?: string }[] = []) =>
  causes.map((c) => `${c.field}: ${c.message}`);

function svc(spec: Record<string, unknown>): KubeObject {
  const o: KubeObject = { metadata: { name: 'web', namespace: 'default' }, spec };
  services?.defaults?.(o);
  return o;
}
const port = (extra: Record<string, unknown> = {}) => ({ port: 80, ...extra });

test('service validation: types, node ports, headless, traffic policy, port names', () => {
  const cases: [Record<string, unknown>, string[]][] = [
    [{ ports: [port()] }, []],
    [{ type: 'NodePort', ports: [port({ nodePort: 30080 })] }, []],
    [
      { type: 'Cloud', ports: [port()] },
      [
        'spec.type: Unsupported value: "Cloud": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
      ],
    ],
    [
      { type: 'NodePort', ports: [port({ nodePort: 8080 })] },
      [
        'spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767',
      ],
    ],
    [
      { type: 'ClusterIP', ports: [port({ nodePort: 30080 })] },
      ["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"],
    ],
    [
      { type: 'NodePort', clusterIP: 'None', ports: [port()] },
      ['spec.clusterIPs[0]: Invalid value: "None": may not be set to \'None\' for NodePort services'],
    ],
    [
      { type: 'LoadBalancer', clusterIP: 'None', ports: [port()] },
      ['spec.clusterIPs[0]: Invalid value: "None": may not be set to \'None\' for LoadBalancer services'],
    ],
    [{ clusterIP: 'None' }, []],
    [
      { ports: [port()], externalTrafficPolicy: 'Local' },
      [
        'spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services',
      ],
    ],
    [{ ports: [port()], externalIPs: ['192.0.2.1'], externalTrafficPolicy: 'Local' }, []],
    [
      { type: 'NodePort', ports: [port()], externalTrafficPolicy: 'Nearby' },
      ['spec.externalTrafficPolicy: Unsupported value: "Nearby": supported values: "Cluster", "Local"'],
    ],
    [
      { ports: [port({ name: 'http' }), port({ name: 'http', port: 81 })] },
      ['spec.ports[1].name: Duplicate value: "http"'],
    ],
    [
      { ports: [port(), port({ port: 81 })] },
      ['spec.ports[0].name: Required value', 'spec.ports[1].name: Required value'],
    ],
  ];
  for (const [spec, want] of cases) {
    assert.deepEqual(messages(services?.validate?.(svc(structuredClone(spec)))), want, JSON.stringify(spec));
  }
  assert.equal((svc({ type: 'NodePort', ports: [port()] }).spec as any).externalTrafficPolicy, 'Cluster');
  assert.equal((svc({ ports: [port()] }).spec as any).externalTrafficPolicy, undefined);
  assert.equal(
    (svc({ ports: [port()], externalIPs: ['192.0.2.1'] }).spec as any).externalTrafficPolicy,
    'Cluster',
  );
});

test('a plain pod update may neither set nor change spec.nodeName (binding does that)', () => {
  const pod = (nodeName?: string): KubeObject => {
    const o: KubeObject = {
      metadata: { name: 'p', namespace: 'default' },
      spec: { containers: [{ name: 'a', image: 'nginx' }], ...(nodeName ? { nodeName } : {}) },
    };
    pods?.defaults?.(o);
    return o;
  };
  const forbidden = (next: KubeObject, old: KubeObject) =>
    (pods?.validateUpdate?.(next, old) ?? []).some(
      (c) => c.field === 'spec' && c.reason === 'FieldValueForbidden',
    );
  assert.equal(forbidden(pod('n1'), pod()), true);
  assert.equal(forbidden(pod('n2'), pod('n1')), true);
  assert.equal(forbidden(pod('n1'), pod('n1')), false);
});
