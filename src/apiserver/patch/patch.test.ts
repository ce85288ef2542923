import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StatusError } from '../../api/errors.ts';
import { deployment, deploymentContext } from './fixtures.ts';
import { acceptedPatchTypes, applyPatch, jsonPatch, mergePatch, SchemaContext } from './index.ts';

function rejects(fn: () => unknown, reason: string, code: number, message?: string | RegExp) {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof StatusError, `expected StatusError, got ${e}`);
    assert.equal(e.reason, reason);
    assert.equal(e.code, code);
    if (typeof message === 'string') assert.equal(e.message, message);
    else if (message) assert.match(e.message, message);
    return e;
  }
  assert.fail('expected an error');
}

describe('jsonPatch', () => {
  const cases: { name: string; ops: unknown[]; check: (d: any) => void }[] = [
    {
      name: 'replace replicas (kubectl scale-like)',
      ops: [{ op: 'replace', path: '/spec/replicas', value: 5 }],
      check: (d) => assert.equal(d.spec.replicas, 5),
    },
    {
      name: 'add a label with an escaped key',
      ops: [{ op: 'add', path: '/metadata/labels/app.kubernetes.io~1name', value: 'web' }],
      check: (d) => assert.equal(d.metadata.labels['app.kubernetes.io/name'], 'web'),
    },
    {
      name: 'append a container with -',
      ops: [{ op: 'add', path: '/spec/template/spec/containers/-', value: { name: 'c3', image: 'x' } }],
      check: (d) =>
        assert.deepEqual(
          d.spec.template.spec.containers.map((c: any) => c.name),
          ['web', 'sidecar', 'c3'],
        ),
    },
    {
      name: 'insert at index 0',
      ops: [{ op: 'add', path: '/metadata/finalizers/0', value: 'first' }],
      check: (d) => assert.deepEqual(d.metadata.finalizers, ['first', 'example.com/a']),
    },
    {
      name: 'remove a container by index',
      ops: [{ op: 'remove', path: '/spec/template/spec/containers/1' }],
      check: (d) => assert.equal(d.spec.template.spec.containers.length, 1),
    },
    {
      name: 'negative index counts from the end',
      ops: [{ op: 'replace', path: '/spec/template/spec/containers/-1/image', value: 'busybox:2' }],
      check: (d) => assert.equal(d.spec.template.spec.containers[1].image, 'busybox:2'),
    },
    {
      name: 'test then replace (optimistic)',
      ops: [
        { op: 'test', path: '/metadata/resourceVersion', value: '42' },
        { op: 'replace', path: '/spec/replicas', value: 1 },
      ],
      check: (d) => assert.equal(d.spec.replicas, 1),
    },
    {
      name: 'test a missing path against null',
      ops: [{ op: 'test', path: '/spec/paused', value: null }],
      check: (d) => assert.equal(d.spec.paused, undefined),
    },
    {
      name: 'move and copy',
      ops: [
        { op: 'copy', from: '/metadata/labels', path: '/metadata/annotations' },
        { op: 'move', from: '/metadata/labels/app', path: '/metadata/labels/name' },
      ],
      check: (d) => {
        assert.deepEqual(d.metadata.annotations, { app: 'web' });
        assert.deepEqual(d.metadata.labels, { name: 'web' });
      },
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const orig = deployment();
      const out = jsonPatch(orig, c.ops);
      c.check(out);
      assert.deepEqual(orig, deployment(), 'original untouched');
    });
  }

  const failures: { name: string; ops: unknown; reason: string; code: number; cause?: RegExp }[] = [
    {
      name: 'failing test',
      ops: [{ op: 'test', path: '/spec/replicas', value: 9 }],
      reason: 'Invalid',
      code: 422,
      cause: /testing value \/spec\/replicas failed/,
    },
    {
      name: 'replace a missing key',
      ops: [{ op: 'replace', path: '/spec/paused', value: true }],
      reason: 'Invalid',
      code: 422,
      cause: /missing/,
    },
    {
      name: 'remove a missing key',
      ops: [{ op: 'remove', path: '/metadata/annotations/x' }],
      reason: 'Invalid',
      code: 422,
    },
    {
      name: 'add below a missing parent',
      ops: [{ op: 'add', path: '/metadata/annotations/x', value: 'y' }],
      reason: 'Invalid',
      code: 422,
      cause: /doc is missing path/,
    },
    {
      name: 'index out of range',
      ops: [{ op: 'add', path: '/metadata/finalizers/5', value: 'z' }],
      reason: 'Invalid',
      code: 422,
    },
    {
      name: 'unknown op',
      ops: [{ op: 'frob', path: '/spec' }],
      reason: 'Invalid',
      code: 422,
      cause: /Unexpected kind: frob/,
    },
    { name: 'body is an object', ops: { op: 'add' }, reason: 'BadRequest', code: 400 },
  ];
  for (const f of failures) {
    test(`fails: ${f.name}`, () => {
      const e = rejects(() => jsonPatch(deployment(), f.ops), f.reason, f.code);
      if (f.code === 422) {
        assert.equal(e.message, 'the server rejected our request due to an error in our request');
        if (f.cause) assert.match(e.details?.causes?.[0]?.message ?? '', f.cause);
      }
    });
  }

  test('a failing op leaves nothing half-applied', () => {
    const orig = deployment();
    rejects(
      () =>
        jsonPatch(orig, [
          { op: 'replace', path: '/spec/replicas', value: 7 },
          { op: 'test', path: '/x', value: 1 },
        ]),
      'Invalid',
      422,
    );
    assert.equal(orig.spec.replicas, 2);
  });

  test('more than 10000 operations is 413', () => {
    const ops = Array.from({ length: 10001 }, () => ({ op: 'test', path: '/kind', value: 'Deployment' }));
    rejects(
      () => jsonPatch(deployment(), ops),
      'RequestEntityTooLarge',
      413,
      /maximum operations in a JSON patch is 10000, got 10001/,
    );
  });
});

describe('mergePatch', () => {
  const cases: { name: string; original: unknown; patch: unknown; want: unknown }[] = [
    {
      name: 'RFC 7386 example',
      original: { a: 'b', c: { d: 'e', f: 'g' } },
      patch: { a: 'z', c: { f: null } },
      want: { a: 'z', c: { d: 'e' } },
    },
    { name: 'lists replace', original: { l: [1, 2] }, patch: { l: [3] }, want: { l: [3] } },
    {
      name: 'null removes, nested add',
      original: { a: 1 },
      patch: { a: null, b: { c: null, d: 1 } },
      want: { b: { d: 1 } },
    },
    { name: 'non-object patch replaces', original: { a: 1 }, patch: ['x'], want: ['x'] },
    { name: 'object over scalar', original: { a: 1 }, patch: { a: { b: 1 } }, want: { a: { b: 1 } } },
  ];
  for (const c of cases) test(c.name, () => assert.deepEqual(mergePatch(c.original, c.patch), c.want));

  test('kubectl label --overwrite on a Deployment', () => {
    const out = mergePatch(deployment(), { metadata: { labels: { tier: 'frontend' } } }) as any;
    assert.deepEqual(out.metadata.labels, { app: 'web', tier: 'frontend' });
    assert.equal(out.spec.template.spec.containers.length, 2);
  });
});

describe('applyPatch', () => {
  test('dispatches by content type, ignoring parameters', () => {
    const ctx = deploymentContext();
    const out = applyPatch(
      'application/merge-patch+json; charset=utf-8',
      deployment(),
      { spec: { replicas: 3 } },
      ctx,
    ) as any;
    assert.equal(out.spec.replicas, 3);
    const smp = applyPatch(
      'application/strategic-merge-patch+json',
      deployment(),
      { spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:2' }] } } } },
      ctx,
    ) as any;
    assert.equal(smp.spec.template.spec.containers.length, 2);
  });

  test('custom resources: strategic merge patch is 415 unless falling back to merge', () => {
    const crd = new SchemaContext(
      {},
      {
        type: 'object',
        properties: {
          spec: { type: 'object', properties: { items: { type: 'array', items: { type: 'string' } } } },
        },
      },
    );
    assert.equal(crd.strategic, false);
    assert.deepEqual(acceptedPatchTypes(crd), [
      'application/json-patch+json',
      'application/merge-patch+json',
      'application/apply-patch+yaml',
    ]);
    rejects(
      () =>
        applyPatch(
          'application/strategic-merge-patch+json',
          { spec: { items: ['a'] } },
          { spec: { items: ['b'] } },
          crd,
        ),
      'UnsupportedMediaType',
      415,
      'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
    );
    const out = applyPatch(
      'application/strategic-merge-patch+json',
      { spec: { items: ['a'] } },
      { spec: { items: ['b'] } },
      crd,
      { strategicFallback: 'merge' },
    );
    assert.deepEqual(out, { spec: { items: ['b'] } });
    assert.equal(deploymentContext().strategic, true);
  });
});
