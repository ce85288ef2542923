import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtinRegistry, defaultTokenRequest, validateTokenRequest } from '../index.ts';
import type { KubeObject } from '../resource.ts';

const reg = builtinRegistry();
const messages = (causes: { field?: string; message?: string }[] = []) =>
  causes.map((c) => `${c.field}: ${c.message}`);

test('create-only kinds are virtual, create-only and found by resource and kind', () => {
  const defs = reg.definitions();
  const virtual = reg.all().filter((d) => d.virtual);
  assert.deepEqual(virtual.map((d) => `${d.group}/${d.plural}`).sort(), [
    'authentication.k8s.io/selfsubjectreviews',
    'authentication.k8s.io/tokenreviews',
    'authorization.k8s.io/localsubjectaccessreviews',
    'authorization.k8s.io/selfsubjectaccessreviews',
    'authorization.k8s.io/selfsubjectrulesreviews',
    'authorization.k8s.io/subjectaccessreviews',
  ]);
  for (const d of virtual) {
    assert.deepEqual(d.verbs, ['create'], d.kind);
    assert.equal(reg.byKind(d.group, 'v1', d.kind), d);
    assert.ok(defs[d.schemaName], d.schemaName);
  }
  assert.equal(reg.byResource('authorization.k8s.io', 'v1', 'localsubjectaccessreviews')?.namespaced, true);
  assert.equal(reg.byResource('', 'v1', 'pods')?.virtual, undefined);
  assert.ok(defs['io.k8s.api.authentication.v1.TokenRequest']);
  assert.deepEqual(defs['io.k8s.api.authentication.v1.TokenRequestSpec'].required, ['audiences']);
});

test('access review validation messages', () => {
  const ssar = reg.byKind('authorization.k8s.io', 'v1', 'SelfSubjectAccessReview');
  const sar = reg.byKind('authorization.k8s.io', 'v1', 'SubjectAccessReview');
  const lsar = reg.byKind('authorization.k8s.io', 'v1', 'LocalSubjectAccessReview');
  const review = (spec: Record<string, unknown>, namespace?: string): KubeObject => ({
    metadata: namespace ? { namespace } : {},
    spec,
  });
  const ra = { verb: 'get', resource: 'pods', namespace: 'default' };
  const cases: [typeof ssar, KubeObject, string[]][] = [
    [ssar, review({ resourceAttributes: ra }), []],
    [ssar, review({ nonResourceAttributes: { path: '/healthz', verb: 'get' } }), []],
    [
      ssar,
      review({}),
      [
        'spec.resourceAttributes: Invalid value: null: exactly one of nonResourceAttributes or resourceAttributes must be specified',
      ],
    ],
    [
      ssar,
      review({ resourceAttributes: ra, nonResourceAttributes: { path: '/' } }),
      [
        'spec.nonResourceAttributes: Invalid value: map[string]string{"path":"/"}: cannot be specified in combination with resourceAttributes',
      ],
    ],
    [
      sar,
      review({ resourceAttributes: ra }),
      ['spec.user: Invalid value: "": at least one of user or group must be specified'],
    ],
    [sar, review({ resourceAttributes: ra, groups: ['system:masters'] }), []],
    [lsar, review({ resourceAttributes: ra, user: 'alice' }, 'default'), []],
    [
      lsar,
      review({ resourceAttributes: ra, user: 'alice' }, 'other'),
      ['spec.resourceAttributes.namespace: Invalid value: "default": must match metadata.namespace'],
    ],
  ];
  for (const [d, o, want] of cases)
    assert.deepEqual(messages(d?.validate?.(o)), want, `${d?.kind} ${JSON.stringify(o)}`);
  const ttr = reg.byKind('authentication.k8s.io', 'v1', 'TokenReview');
  assert.deepEqual(messages(ttr?.validate?.({ spec: {} })), ['spec.token: Required value']);
  assert.deepEqual(ttr?.validate?.({ spec: { token: 'abc' } }), []);
});

test('token request defaults to an hour and bounds the expiry', () => {
  const tr: KubeObject = { spec: { audiences: ['api'] } };
  defaultTokenRequest(tr);
  assert.equal((tr.spec as any).expirationSeconds, 3600);
  assert.deepEqual(validateTokenRequest(tr), []);
  assert.deepEqual(messages(validateTokenRequest({ spec: { expirationSeconds: 60 } })), [
    'spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes',
  ]);
  assert.deepEqual(messages(validateTokenRequest({ spec: { expirationSeconds: 2 ** 33 } })), [
    'spec.expirationSeconds: Invalid value: 8589934592: may not specify a duration larger than 2^32 seconds',
  ]);
});
