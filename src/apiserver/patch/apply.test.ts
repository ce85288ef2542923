import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StatusError } from '../../api/errors.ts';
import type { KubeObject } from '../../api/resource.ts';
import { deploymentContext } from './fixtures.ts';
import {
  fieldManagerFor,
  type ManagedFieldsEntry,
  serverSideApply,
  strategicMergePatch,
  updateManagedFields,
} from './index.ts';

const ctx = deploymentContext();
const T0 = new Date('2024-05-01T10:00:00.123Z');
const T1 = new Date('2024-05-01T11:00:00Z');
const T2 = new Date('2024-05-01T12:00:00Z');
const apiVersion = 'apps/v1';

/** The manifest a user applies. */
function manifest(): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'web', image: 'nginx:1.25', ports: [{ containerPort: 80 }] }] },
      },
    },
  };
}

function apply(
  live: KubeObject | undefined,
  applied: KubeObject,
  manager = 'kubectl',
  force = false,
  now = T1,
) {
  return serverSideApply({ live, applied, manager, force, ctx, now, apiVersion });
}

/** As the API server stores a new object: identity fields added after apply or create. */
function stored(o: KubeObject): KubeObject {
  return {
    ...o,
    metadata: { ...o.metadata, uid: 'u-1', resourceVersion: '1', creationTimestamp: '2024-05-01T10:00:00Z' },
  };
}

function entry(o: KubeObject, manager: string): ManagedFieldsEntry | undefined {
  return (o.metadata?.managedFields as ManagedFieldsEntry[] | undefined)?.find((e) => e.manager === manager);
}

/** The fieldsV1 of a manager's entry ({} when it has none). */
function fv(o: KubeObject, manager: string): any {
  return entry(o, manager)?.fieldsV1 ?? {};
}

function conflictOf(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof StatusError, String(e));
    return e;
  }
  assert.fail('expected a conflict');
}

describe('serverSideApply', () => {
  test('apply creates the object and records exactly the applied fields', () => {
    const { object, managedFields } = apply(undefined, manifest());
    assert.deepEqual(
      { ...object, metadata: { ...object.metadata, managedFields: undefined } },
      {
        ...manifest(),
        metadata: { ...manifest().metadata, managedFields: undefined },
      },
    );
    assert.deepEqual(managedFields, [
      {
        manager: 'kubectl',
        operation: 'Apply',
        apiVersion: 'apps/v1',
        time: '2024-05-01T11:00:00Z',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': {
            'f:replicas': {},
            'f:selector': {},
            'f:template': {
              'f:metadata': { 'f:labels': { 'f:app': {} } },
              'f:spec': {
                'f:containers': {
                  'k:{"name":"web"}': {
                    '.': {},
                    'f:image': {},
                    'f:name': {},
                    'f:ports': {
                      'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} },
                    },
                  },
                },
              },
            },
          },
        },
      },
    ]);
    assert.deepEqual(object.metadata?.managedFields, managedFields);
  });

  test('changing a field another manager set conflicts, as Kubernetes words it', () => {
    const created = updateManagedFields({
      old: undefined,
      updated: manifest(),
      manager: 'kubectl-client-side-apply',
      ctx,
      now: T0,
      apiVersion,
    });
    const live = stored(created.object);
    const changed = manifest();
    (changed.spec as any).replicas = 3;
    const e = conflictOf(() => apply(live, changed));
    assert.equal(e.code, 409);
    assert.equal(e.reason, 'Conflict');
    assert.equal(
      e.message,
      'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas',
    );
    assert.deepEqual(e.details?.causes, [
      {
        reason: 'FieldManagerConflict',
        message: 'conflict with "kubectl-client-side-apply" using apps/v1',
        field: '.spec.replicas',
      },
    ]);
    assert.deepEqual(e.toStatus().details?.causes?.[0].field, '.spec.replicas');
  });

  test('several conflicts are listed by manager', () => {
    const live = stored(
      updateManagedFields({
        old: undefined,
        updated: manifest(),
        manager: 'kubectl-create',
        ctx,
        now: T0,
        apiVersion,
      }).object,
    );
    const changed = manifest();
    (changed.spec as any).replicas = 3;
    (changed.spec as any).template.spec.containers[0].image = 'nginx:2';
    const e = conflictOf(() => apply(live, changed));
    assert.equal(
      e.message,
      'Apply failed with 2 conflicts: conflicts with "kubectl-create" using apps/v1:\n- .spec.replicas\n- .spec.template.spec.containers[name="web"].image',
    );
    assert.deepEqual(
      e.details?.causes?.map((c) => c.field),
      ['.spec.replicas', '.spec.template.spec.containers[name="web"].image'],
    );
  });

  test('applying the same values shares ownership without conflict', () => {
    const live = stored(
      updateManagedFields({
        old: undefined,
        updated: manifest(),
        manager: 'kubectl-client-side-apply',
        ctx,
        now: T0,
        apiVersion,
      }).object,
    );
    const { object } = apply(live, manifest());
    assert.ok(entry(object, 'kubectl')?.fieldsV1);
    assert.deepEqual(fv(object, 'kubectl-client-side-apply')['f:spec']['f:replicas'], {});
    assert.deepEqual(fv(object, 'kubectl')['f:spec']['f:replicas'], {});
  });

  test('force takes ownership from the other manager', () => {
    const live = stored(
      updateManagedFields({
        old: undefined,
        updated: manifest(),
        manager: 'kubectl-client-side-apply',
        ctx,
        now: T0,
        apiVersion,
      }).object,
    );
    const changed = manifest();
    (changed.spec as any).replicas = 5;
    const { object } = apply(live, changed, 'kubectl', true);
    assert.equal((object.spec as any).replicas, 5);
    assert.equal(fv(object, 'kubectl-client-side-apply')['f:spec']['f:replicas'], undefined);
    assert.deepEqual(fv(object, 'kubectl')['f:spec']['f:replicas'], {});
  });

  test('fields a manager stops applying are removed, unless another manager owns them', () => {
    const first = manifest();
    (first.metadata as any).labels.tier = 'fe';
    (first.spec as any).template.spec.containers.push({ name: 'sidecar', image: 'busybox' });
    (first.spec as any).template.spec.containers.push({ name: 'log', image: 'fluent' });
    const v1 = stored(apply(undefined, first, 'kubectl', false, T0).object);
    // Someone edits the log container's image: they now own that field.
    const edited = structuredClone(v1);
    (edited.spec as any).template.spec.containers[2].image = 'fluent:2';
    const v2 = updateManagedFields({
      old: v1,
      updated: edited,
      manager: 'kubectl-edit',
      ctx,
      now: T1,
      apiVersion,
    }).object;
    const { object } = apply(v2, manifest(), 'kubectl', false, T2);
    const containers = (object.spec as any).template.spec.containers;
    assert.deepEqual(
      containers.map((c: any) => c.name),
      ['web', 'log'],
    );
    assert.deepEqual(containers[1], { name: 'log', image: 'fluent:2' });
    assert.deepEqual(object.metadata?.labels, { app: 'web' });
  });

  test('a field two appliers set stays when one of them drops it', () => {
    const a = manifest();
    (a.spec as any).minReadySeconds = 10;
    const v1 = stored(apply(undefined, a, 'alice').object);
    const v2 = apply(v1, a, 'bob').object;
    const { object } = apply(v2, manifest(), 'alice');
    assert.equal((object.spec as any).minReadySeconds, 10);
    const { object: after } = apply(object, manifest(), 'bob');
    assert.equal((after.spec as any).minReadySeconds, undefined);
  });

  test('merging keeps fields nobody applied and orders list elements sensibly', () => {
    const live = stored(apply(undefined, manifest()).object);
    (live.spec as any).template.spec.containers[0].env = [{ name: 'SERVER', value: 'set' }];
    const config = manifest();
    (config.spec as any).template.spec.containers.unshift({ name: 'init-like', image: 'x' });
    const { object } = apply(live, config);
    const cs = (object.spec as any).template.spec.containers;
    assert.deepEqual(
      cs.map((c: any) => c.name),
      ['init-like', 'web'],
    );
    assert.deepEqual(cs[1].env, [{ name: 'SERVER', value: 'set' }]);
  });

  test('an object with no managedFields is first owned by before-first-apply', () => {
    const live = stored(manifest());
    const changed = manifest();
    (changed.spec as any).replicas = 9;
    const e = conflictOf(() => apply(live, changed));
    assert.match(e.message, /conflict with "before-first-apply" using apps\/v1: \.spec\.replicas/);
  });

  test('set-lists are owned per value', () => {
    const m = manifest();
    (m.metadata as any).finalizers = ['example.com/a'];
    const { managedFields } = apply(undefined, m);
    assert.deepEqual((managedFields[0].fieldsV1 as any)['f:metadata']['f:finalizers'], {
      'v:"example.com/a"': {},
    });
  });

  test('kubectl server-side apply keeps the client-side annotation in sync', () => {
    const m = manifest();
    (m.metadata as any).annotations = { 'kubectl.kubernetes.io/last-applied-configuration': '{}' };
    const live = stored(apply(undefined, m, 'kubectl-client-side-apply').object);
    const changed = manifest();
    (changed.spec as any).minReadySeconds = 3;
    const { object } = apply(live, changed);
    const ann = JSON.parse(
      object.metadata?.annotations?.['kubectl.kubernetes.io/last-applied-configuration'] ?? '',
    );
    assert.equal(ann.spec.minReadySeconds, 3);
  });

  test('an element missing its key is a bad request', () => {
    const m = manifest();
    (m.spec as any).template.spec.containers = [{ image: 'x' }];
    const e = conflictOf(() => apply(undefined, m));
    assert.equal(e.code, 400);
    assert.equal(
      e.message,
      'failed to create typed patch object (apps/v1, Kind=Deployment): .spec.template.spec.containers: element 0: associative list with keys has an element that omits key field "name" (and doesn\'t have default value)',
    );
  });

  test('managedFields in the applied configuration are refused', () => {
    const m = manifest();
    (m.metadata as any).managedFields = [];
    assert.equal(conflictOf(() => apply(undefined, m)).code, 400);
  });

  test('resetFields: status written through the main resource is not owned', () => {
    const m = manifest();
    (m as any).status = { replicas: 1 };
    const { managedFields } = serverSideApply({
      live: undefined,
      applied: m,
      manager: 'kubectl',
      force: false,
      ctx,
      now: T1,
      apiVersion,
      resetFields: ['status'],
    });
    assert.equal((managedFields[0].fieldsV1 as any)['f:status'], undefined);
  });
});

describe('updateManagedFields', () => {
  test('create records the creator; later writers take what they change', () => {
    const created = updateManagedFields({
      old: undefined,
      updated: manifest(),
      manager: 'kubectl-create',
      ctx,
      now: T0,
      apiVersion,
    }).object;
    const e = entry(created, 'kubectl-create');
    assert.equal(e?.operation, 'Update');
    assert.equal(e?.time, '2024-05-01T10:00:00Z');
    assert.deepEqual(fv(created, 'kubectl-create')['f:metadata'], { 'f:labels': { '.': {}, 'f:app': {} } });
    const live = stored(created);

    // kubectl label: a merge patch, manager kubectl-label.
    const labelled = strategicMergePatch(live, { metadata: { labels: { tier: 'fe' } } }, ctx) as KubeObject;
    const v2 = updateManagedFields({
      old: live,
      updated: labelled,
      manager: 'kubectl-label',
      ctx,
      now: T1,
      apiVersion,
    }).object;
    assert.deepEqual(entry(v2, 'kubectl-label')?.fieldsV1, {
      'f:metadata': { 'f:labels': { 'f:tier': {} } },
    });
    assert.equal(
      ((v2.metadata?.managedFields ?? []) as ManagedFieldsEntry[]).map((x) => x.manager).join(),
      'kubectl-create,kubectl-label',
    );

    // kubectl scale-like change moves replicas to the new manager.
    const scaled = structuredClone(v2);
    (scaled.spec as any).replicas = 4;
    const v3 = updateManagedFields({
      old: v2,
      updated: scaled,
      manager: 'kube-controller-manager',
      ctx,
      now: T2,
      apiVersion,
    }).object;
    assert.equal(fv(v3, 'kubectl-create')['f:spec']['f:replicas'], undefined);
    assert.deepEqual(entry(v3, 'kube-controller-manager')?.fieldsV1, { 'f:spec': { 'f:replicas': {} } });
  });

  test('a write that changes nothing leaves managedFields and times alone', () => {
    const live = stored(
      updateManagedFields({
        old: undefined,
        updated: manifest(),
        manager: 'kubectl-create',
        ctx,
        now: T0,
        apiVersion,
      }).object,
    );
    const same = updateManagedFields({
      old: live,
      updated: structuredClone(live),
      manager: 'kubectl-edit',
      ctx,
      now: T2,
      apiVersion,
    }).object;
    assert.deepEqual(same.metadata?.managedFields, live.metadata?.managedFields);
  });

  test('removed fields leave every owner', () => {
    const live = stored(
      updateManagedFields({
        old: undefined,
        updated: manifest(),
        manager: 'kubectl-create',
        ctx,
        now: T0,
        apiVersion,
      }).object,
    );
    const updated = structuredClone(live);
    delete (updated.metadata as any).labels;
    const out = updateManagedFields({
      old: live,
      updated,
      manager: 'kubectl-edit',
      ctx,
      now: T1,
      apiVersion,
    }).object;
    assert.equal(fv(out, 'kubectl-create')['f:metadata'], undefined);
    assert.equal(entry(out, 'kubectl-edit'), undefined);
  });

  test('managedFields: [{}] resets them', () => {
    const live = stored(
      updateManagedFields({
        old: undefined,
        updated: manifest(),
        manager: 'kubectl-create',
        ctx,
        now: T0,
        apiVersion,
      }).object,
    );
    const updated = structuredClone(live);
    (updated.metadata as any).managedFields = [{}];
    const out = updateManagedFields({
      old: live,
      updated,
      manager: 'kubectl-edit',
      ctx,
      now: T1,
      apiVersion,
    }).object;
    assert.equal(out.metadata?.managedFields, undefined);
  });

  test('a subresource write records the subresource', () => {
    const live = stored(
      updateManagedFields({
        old: undefined,
        updated: manifest(),
        manager: 'kubectl-create',
        ctx,
        now: T0,
        apiVersion,
      }).object,
    );
    const updated = structuredClone(live);
    (updated as any).status = { replicas: 2, readyReplicas: 2 };
    const out = updateManagedFields({
      old: live,
      updated,
      manager: 'kube-controller-manager',
      ctx,
      now: T1,
      apiVersion,
      subresource: 'status',
    }).object;
    const e = entry(out, 'kube-controller-manager');
    assert.equal(e?.subresource, 'status');
    assert.deepEqual(e?.fieldsV1, { 'f:status': { 'f:readyReplicas': {}, 'f:replicas': {} } });
  });
});

test('fieldManagerFor: query parameter, else User-Agent prefix', () => {
  assert.equal(
    fieldManagerFor('kubectl-client-side-apply', 'kubectl/v1.32.0 (linux/amd64) kubernetes/abc'),
    'kubectl-client-side-apply',
  );
  assert.equal(fieldManagerFor(undefined, 'kubectl/v1.32.0 (linux/amd64) kubernetes/abc'), 'kubectl');
  assert.equal(
    fieldManagerFor('', 'kube-controller-manager/v1.32.0 (linux/amd64)/leader-election'),
    'kube-controller-manager',
  );
  assert.equal(fieldManagerFor(undefined, undefined), '');
  assert.equal(fieldManagerFor(undefined, 'x'.repeat(200)).length, 128);
});
