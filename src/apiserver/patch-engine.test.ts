import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtinRegistry } from '../api/index.ts';
import type { KubeObject } from '../api/resource.ts';
import { SchemaContext, updateManagedFields } from './patch/index.ts';
import { patchEngine } from './patch-engine.ts';

const registry = builtinRegistry();

function pod(name: string, labels: Record<string, string>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      uid: crypto.randomUUID(),
      creationTimestamp: '2025-01-01T00:00:00Z',
      labels,
    },
    spec: {
      containers: [{ name: 'c', image: 'busybox', ports: [{ containerPort: 80, protocol: 'TCP' }] }],
    },
  };
}

/** JSON with the managedFields timestamps blanked (two calls may straddle a second). */
function text(obj: KubeObject): string {
  return JSON.stringify(obj).replace(/"time":"[^"]*"/g, '"time":""');
}

/** What updateManagedFields itself records, as the engine stores it. */
function reference(old: KubeObject | undefined, obj: KubeObject, resetFields?: string[]): KubeObject {
  const def = registry.byResource('', 'v1', obj.kind === 'Pod' ? 'pods' : 'configmaps')!;
  const { object, managedFields } = updateManagedFields({
    old,
    updated: structuredClone(obj),
    manager: 'bench',
    ctx: SchemaContext.fromRegistry(registry, def),
    now: new Date(),
    apiVersion: 'v1',
    resetFields,
  });
  object.metadata = { ...object.metadata, managedFields };
  return object;
}

test('creates record the same managedFields as the full computation, first time and memoized', () => {
  const def = registry.byResource('', 'v1', 'pods')!;
  const shapes = [
    pod('a', { app: 'x' }),
    pod('b', { app: 'x' }), // same shape, other name and uid: memoized
    pod('c', { app: 'y' }), // same keys, other label value
    pod('d', { app: 'x', tier: 'web' }), // another label key: another field set
    pod('e', { app: 'x', tier: 'web' }),
  ];
  for (const p of shapes) {
    const want = reference(undefined, p, ['status']);
    const got = patchEngine.recordUpdate!(undefined, structuredClone(p), { manager: 'bench', def, registry });
    assert.equal(text(got), text(want), p.metadata!.name);
  }
});

test('memoized creates share no field set between objects', () => {
  const def = registry.byResource('', 'v1', 'pods')!;
  const opts = { manager: 'bench', def, registry };
  const a = patchEngine.recordUpdate!(undefined, pod('s1', { app: 'z' }), opts);
  const b = patchEngine.recordUpdate!(undefined, pod('s2', { app: 'z' }), opts);
  const fa = (a.metadata!.managedFields as { fieldsV1: Record<string, unknown> }[])[0].fieldsV1;
  const fb = (b.metadata!.managedFields as { fieldsV1: Record<string, unknown> }[])[0].fieldsV1;
  assert.deepEqual(fa, fb);
  assert.notEqual(fa, fb);
});

test('a create that names managedFields, and an update, take the full computation', () => {
  const def = registry.byResource('', 'v1', 'configmaps')!;
  const opts = { manager: 'bench', def, registry };
  const cm: KubeObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'm', namespace: 'default', managedFields: [] },
    data: { a: '1' },
  };
  assert.equal(
    text(patchEngine.recordUpdate!(undefined, structuredClone(cm), opts)),
    text(reference(undefined, cm)),
  );
  const old: KubeObject = { ...structuredClone(cm), metadata: { name: 'm', namespace: 'default' } };
  const next: KubeObject = { ...structuredClone(old), data: { a: '1', b: '2' } };
  assert.equal(text(patchEngine.recordUpdate!(old, structuredClone(next), opts)), text(reference(old, next)));
});

test('creates that differ only in scalar values outside lists share a field set, and it is the full one', () => {
  const def = registry.byResource('', 'v1', 'events')!;
  const ctx = SchemaContext.fromRegistry(registry, def);
  const opts = { manager: 'sched', def, registry };
  const event = (i: number, extra: Record<string, unknown> = {}): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `p${i}.${i.toString(16)}`, namespace: 'default' },
    involvedObject: { kind: 'Pod', name: `p${i}`, uid: crypto.randomUUID(), resourceVersion: String(i) },
    reason: 'Scheduled',
    message: `assigned default/p${i} to node-${i}`,
    source: { component: 'sched' },
    firstTimestamp: `2025-01-01T00:00:0${i}Z`,
    count: i,
    eventTime: null,
    ...extra,
  });
  const cases = [
    event(1),
    event(2), // other values: memoized
    event(3, { series: { count: 2, lastObservedTime: '2025-01-01T00:00:00Z' } }), // another field: another set
    event(4, { series: { count: 3, lastObservedTime: '2025-01-01T00:00:01Z' } }),
    event(5, { eventTime: '2025-01-01T00:00:00.000000Z' }), // null to a value: another set
    event(6, { related: null }),
  ];
  for (const e of cases) {
    const { object, managedFields } = updateManagedFields({
      old: undefined,
      updated: structuredClone(e),
      manager: 'sched',
      ctx,
      now: new Date(),
      apiVersion: 'v1',
    });
    object.metadata = { ...object.metadata, managedFields };
    const got = patchEngine.recordUpdate!(undefined, structuredClone(e), opts);
    assert.equal(text(got), text(object), e.metadata!.name);
  }
  // list elements keep their values: containers of other names are other fields
  const pdef = registry.byResource('', 'v1', 'pods')!;
  const p1 = pod('l1', {});
  const p2 = pod('l2', {});
  (p2.spec as { containers: { name: string }[] }).containers[0].name = 'other';
  for (const p of [p1, p2]) {
    const got = patchEngine.recordUpdate!(undefined, structuredClone(p), {
      manager: 'bench',
      def: pdef,
      registry,
    });
    assert.equal(text(got), text(reference(undefined, p, ['status'])));
  }
});
