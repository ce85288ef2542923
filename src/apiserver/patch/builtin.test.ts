// The patch functions on Skiff's real built-in schemas (src/api), not hand-written ones.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { builtinRegistry, type KubeObject, StatusError } from '../../api/index.ts';
import { deployment } from './fixtures.ts';
import { SchemaContext, serverSideApply, strategicMergePatch, updateManagedFields } from './index.ts';

const registry = builtinRegistry();
const deploymentCtx = SchemaContext.fromRegistry(
  registry,
  registry.byKind('apps', 'v1', 'Deployment') ?? assert.fail('no Deployment'),
);
const podCtx = SchemaContext.fromRegistry(
  registry,
  registry.byKind('', 'v1', 'Pod') ?? assert.fail('no Pod'),
);
const now = new Date('2024-05-01T10:00:00Z');

function pod(): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default', labels: { app: 'p' }, finalizers: ['a'] },
    spec: {
      containers: [
        {
          name: 'app',
          image: 'busybox',
          ports: [{ containerPort: 8080, protocol: 'TCP' }],
          env: [{ name: 'X', value: '1' }],
          volumeMounts: [{ name: 'v', mountPath: '/v' }],
        },
      ],
      volumes: [{ name: 'v', emptyDir: {} }],
      tolerations: [{ key: 'k', operator: 'Exists' }],
    },
  };
}

describe('built-in schemas', () => {
  test('both kinds take strategic merge patch', () => {
    assert.equal(deploymentCtx.strategic, true);
    assert.equal(podCtx.strategic, true);
  });

  test('Pod: strategic merge of containers, env, ports, volumes, finalizers', () => {
    const out = strategicMergePatch(
      pod(),
      {
        metadata: { finalizers: ['b'], '$deleteFromPrimitiveList/finalizers': ['a'] },
        spec: {
          containers: [
            {
              name: 'app',
              env: [{ name: 'Y', value: '2' }],
              ports: [{ containerPort: 9090, protocol: 'TCP' }],
            },
          ],
          volumes: [{ name: 'w', configMap: { name: 'cm' } }],
          tolerations: [{ key: 'other', operator: 'Exists' }],
        },
      },
      podCtx,
    ) as any;
    assert.deepEqual(out.metadata.finalizers, ['b']);
    const c = out.spec.containers[0];
    assert.deepEqual(c.env.map((e: any) => e.name).sort(), ['X', 'Y']);
    assert.deepEqual(c.ports.map((p: any) => p.containerPort).sort(), [8080, 9090]);
    assert.deepEqual(out.spec.volumes.map((v: any) => v.name).sort(), ['v', 'w']);
    assert.deepEqual(out.spec.tolerations, [{ key: 'other', operator: 'Exists' }]);
  });

  test('Deployment: kubectl client-side apply patch removes a container and switches strategy', () => {
    const out = strategicMergePatch(
      deployment(),
      {
        spec: {
          strategy: { $retainKeys: ['type'], rollingUpdate: null, type: 'Recreate' },
          template: {
            spec: {
              '$setElementOrder/containers': [{ name: 'web' }],
              containers: [{ $patch: 'delete', name: 'sidecar' }],
            },
          },
        },
      },
      deploymentCtx,
    ) as any;
    assert.deepEqual(out.spec.strategy, { type: 'Recreate' });
    assert.deepEqual(
      out.spec.template.spec.containers.map((c: any) => c.name),
      ['web'],
    );
  });

  test('Deployment: apply after client-side create conflicts on replicas; force wins', () => {
    const created = updateManagedFields({
      old: undefined,
      updated: deployment(),
      manager: 'kubectl-client-side-apply',
      ctx: deploymentCtx,
      now,
      apiVersion: 'apps/v1',
    }).object;
    const applied = deployment();
    delete applied.metadata.uid;
    delete applied.metadata.resourceVersion;
    delete applied.metadata.generation;
    applied.spec.replicas = 7;
    const run = (force: boolean) =>
      serverSideApply({
        live: created,
        applied,
        manager: 'kubectl',
        force,
        ctx: deploymentCtx,
        now,
        apiVersion: 'apps/v1',
      });
    assert.throws(
      () => run(false),
      (e: unknown) =>
        e instanceof StatusError &&
        e.code === 409 &&
        e.message ===
          'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas',
    );
    const { object, managedFields } = run(true);
    assert.equal((object.spec as any).replicas, 7);
    const mine = managedFields.find((e) => e.manager === 'kubectl') as any;
    assert.deepEqual(mine.fieldsV1['f:spec']['f:selector'], {}, 'LabelSelector is an atomic map');
    assert.ok(
      mine.fieldsV1['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"web"}']['f:ports'][
        'k:{"containerPort":80,"protocol":"TCP"}'
      ],
    );
  });

  test('Pod: apply removes a container port the manager stops applying', () => {
    const first = serverSideApply({
      live: undefined,
      applied: pod(),
      manager: 'm',
      force: false,
      ctx: podCtx,
      now,
      apiVersion: 'v1',
    }).object;
    const next = pod();
    (next.spec as any).containers[0].ports = [];
    const { object } = serverSideApply({
      live: first,
      applied: next,
      manager: 'm',
      force: false,
      ctx: podCtx,
      now,
      apiVersion: 'v1',
    });
    // Upstream owns no field for an empty list, and Go's omitempty drops it: no ports either way.
    assert.equal((object.spec as any).containers[0].ports, undefined);
    const dropped = pod();
    delete (dropped.spec as any).containers[0].ports;
    const { object: o2 } = serverSideApply({
      live: first,
      applied: dropped,
      manager: 'm',
      force: false,
      ctx: podCtx,
      now,
      apiVersion: 'v1',
    });
    assert.equal((o2.spec as any).containers[0].ports, undefined);
  });
});
