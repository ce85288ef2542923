import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StatusError } from '../../api/errors.ts';
import { deployment, deploymentContext } from './fixtures.ts';
import { strategicMergePatch } from './index.ts';

const ctx = deploymentContext();
const podSpec = (o: any) => o.spec.template.spec;
const names = (l: any[]) => l.map((x) => x.name);

describe('strategicMergePatch', () => {
  const cases: { name: string; patch: unknown; check: (o: any) => void }[] = [
    {
      name: 'containers merge by name: change one image, keep the other',
      patch: { spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.26' }] } } } },
      check: (o) => {
        assert.deepEqual(names(podSpec(o).containers), ['web', 'sidecar']);
        assert.equal(podSpec(o).containers[0].image, 'nginx:1.26');
        assert.deepEqual(podSpec(o).containers[0].ports, [{ containerPort: 80, protocol: 'TCP' }]);
      },
    },
    {
      // Upstream orders patch items before server-only items the server cannot place.
      name: 'a new container goes before the untouched ones (upstream order)',
      patch: { spec: { template: { spec: { containers: [{ name: 'log', image: 'fluentbit' }] } } } },
      check: (o) => assert.deepEqual(names(podSpec(o).containers), ['log', 'web', 'sidecar']),
    },
    {
      name: 'env merges by name inside a merged container',
      patch: {
        spec: {
          template: {
            spec: {
              containers: [
                {
                  name: 'web',
                  env: [
                    { name: 'B', value: 'two' },
                    { name: 'C', value: '3' },
                  ],
                },
              ],
            },
          },
        },
      },
      check: (o) =>
        assert.deepEqual(podSpec(o).containers[0].env, [
          { name: 'A', value: '1' },
          { name: 'B', value: 'two' },
          { name: 'C', value: '3' },
        ]),
    },
    {
      name: 'ports merge by containerPort',
      patch: {
        spec: { template: { spec: { containers: [{ name: 'web', ports: [{ containerPort: 443 }] }] } } },
      },
      check: (o) =>
        assert.deepEqual(podSpec(o).containers[0].ports, [
          { containerPort: 443 },
          { containerPort: 80, protocol: 'TCP' },
        ]),
    },
    {
      name: 'volumeMounts merge by mountPath',
      patch: {
        spec: {
          template: {
            spec: {
              containers: [
                { name: 'web', volumeMounts: [{ name: 'data', mountPath: '/data', readOnly: true }] },
              ],
            },
          },
        },
      },
      check: (o) =>
        assert.deepEqual(podSpec(o).containers[0].volumeMounts, [
          { name: 'data', mountPath: '/data', readOnly: true },
        ]),
    },
    {
      name: '$patch: delete removes a list element by key',
      patch: { spec: { template: { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }] } } } },
      check: (o) => assert.deepEqual(names(podSpec(o).containers), ['web']),
    },
    {
      name: '$patch: replace replaces a whole merging list',
      patch: {
        spec: { template: { spec: { containers: [{ name: 'only', image: 'x' }, { $patch: 'replace' }] } } },
      },
      check: (o) => assert.deepEqual(podSpec(o).containers, [{ name: 'only', image: 'x' }]),
    },
    {
      name: '$patch: replace in a map replaces the map',
      patch: { spec: { strategy: { $patch: 'replace', type: 'Recreate' } } },
      check: (o) => assert.deepEqual(o.spec.strategy, { type: 'Recreate' }),
    },
    {
      name: '$patch: delete in a map empties it',
      patch: { metadata: { labels: { $patch: 'delete' } } },
      check: (o) => assert.deepEqual(o.metadata.labels, {}),
    },
    {
      name: 'null deletes a field',
      patch: { spec: { strategy: { rollingUpdate: null } }, metadata: { labels: { app: null } } },
      check: (o) => {
        assert.deepEqual(o.spec.strategy, { type: 'RollingUpdate' });
        assert.deepEqual(o.metadata.labels, {});
      },
    },
    {
      name: 'finalizers merge as a set',
      patch: { metadata: { finalizers: ['example.com/b', 'example.com/a'] } },
      check: (o) => assert.deepEqual(o.metadata.finalizers, ['example.com/b', 'example.com/a']),
    },
    {
      name: '$deleteFromPrimitiveList removes from a set',
      patch: {
        metadata: {
          $deleteFromPrimitiveList: undefined,
          '$deleteFromPrimitiveList/finalizers': ['example.com/a'],
        },
      },
      check: (o) => assert.deepEqual(o.metadata.finalizers, []),
    },
    {
      name: 'lists without a strategy are replaced (args, tolerations)',
      patch: {
        spec: {
          template: {
            spec: {
              tolerations: [{ key: 'b', operator: 'Exists' }],
              containers: [{ name: 'sidecar', args: ['sleep', '1'] }],
            },
          },
        },
      },
      check: (o) => {
        assert.deepEqual(podSpec(o).tolerations, [{ key: 'b', operator: 'Exists' }]);
        assert.deepEqual(podSpec(o).containers[1].args, ['sleep', '1']);
      },
    },
    {
      name: '$retainKeys drops the other keys (strategy switch to Recreate)',
      patch: { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } },
      check: (o) => assert.deepEqual(o.spec.strategy, { type: 'Recreate' }),
    },
    {
      name: 'volumes with retainKeys: change the volume source',
      patch: {
        spec: {
          template: {
            spec: {
              volumes: [{ name: 'data', $retainKeys: ['configMap', 'name'], configMap: { name: 'cfg' } }],
            },
          },
        },
      },
      check: (o) => assert.deepEqual(podSpec(o).volumes, [{ name: 'data', configMap: { name: 'cfg' } }]),
    },
    {
      name: '$setElementOrder reorders containers, new ones where the order says',
      patch: {
        spec: {
          template: {
            spec: {
              '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'new' }, { name: 'web' }],
              containers: [{ name: 'new', image: 'n' }],
            },
          },
        },
      },
      check: (o) => assert.deepEqual(names(podSpec(o).containers), ['sidecar', 'new', 'web']),
    },
    {
      name: 'a new subtree is taken without directives or nulls',
      patch: {
        spec: {
          template: {
            spec: {
              initContainers: [{ name: 'init', image: 'i', command: null }],
              nodeSelector: { disk: 'ssd' },
            },
          },
        },
      },
      check: (o) => {
        assert.deepEqual(podSpec(o).initContainers, [{ name: 'init', image: 'i' }]);
        assert.deepEqual(podSpec(o).nodeSelector, { disk: 'ssd' });
      },
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const orig = deployment();
      const patch = JSON.parse(JSON.stringify(c.patch));
      const out = strategicMergePatch(orig, patch, ctx);
      c.check(out);
      assert.deepEqual(orig, deployment(), 'original untouched');
    });
  }

  test("kubectl apply's three-way patch (client-side apply)", () => {
    // What kubectl 1.32 sends when the manifest drops the sidecar and env B, bumps the image,
    // switches to Recreate and adds a label; the live object also has a server-side field
    // (minReadySeconds) and a container env var set by someone else, which must survive.
    const live = deployment();
    live.spec.minReadySeconds = 5;
    const lastApplied = JSON.stringify({ kind: 'Deployment' });
    const patch = {
      metadata: {
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': lastApplied },
        labels: { tier: 'frontend' },
      },
      spec: {
        strategy: { $retainKeys: ['type'], rollingUpdate: null, type: 'Recreate' },
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'web' }],
            containers: [
              {
                '$setElementOrder/env': [{ name: 'A' }],
                env: [{ $patch: 'delete', name: 'B' }],
                image: 'nginx:1.26',
                name: 'web',
              },
              { $patch: 'delete', name: 'sidecar' },
            ],
          },
        },
      },
    };
    const out = strategicMergePatch(live, patch, ctx) as any;
    assert.deepEqual(out.metadata.labels, { app: 'web', tier: 'frontend' });
    assert.equal(out.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'], lastApplied);
    assert.deepEqual(out.spec.strategy, { type: 'Recreate' });
    assert.equal(out.spec.minReadySeconds, 5);
    assert.deepEqual(podSpec(out).containers, [
      {
        name: 'web',
        image: 'nginx:1.26',
        ports: [{ containerPort: 80, protocol: 'TCP' }],
        env: [{ name: 'A', value: '1' }],
        volumeMounts: [{ name: 'data', mountPath: '/data' }],
      },
    ]);
  });

  const failures: { name: string; patch: unknown; reason: string; code: number; message: string | RegExp }[] =
    [
      {
        name: 'not an object',
        patch: [1],
        reason: 'BadRequest',
        code: 400,
        message: /cannot unmarshal array/,
      },
      {
        name: 'bad $retainKeys',
        patch: { spec: { strategy: { $retainKeys: 'type' } } },
        reason: 'BadRequest',
        code: 400,
        message: 'invalid patch format of retainKeys',
      },
      {
        name: 'patch key outside $retainKeys',
        patch: { spec: { strategy: { $retainKeys: ['type'], rollingUpdate: { maxSurge: 1 } } } },
        reason: 'BadRequest',
        code: 400,
        message: 'invalid patch format of retainKeys',
      },
      {
        name: 'element without its merge key',
        patch: { spec: { template: { spec: { containers: [{ image: 'x' }] } } } },
        reason: 'BadRequest',
        code: 400,
        message: /does not contain declared merge key: name/,
      },
      {
        name: 'bad $deleteFromPrimitiveList',
        patch: { metadata: { '$deleteFromPrimitiveList/finalizers': 'a' } },
        reason: 'BadRequest',
        code: 400,
        message: 'invalid patch format of primitive list',
      },
      {
        name: 'unknown $patch',
        patch: { spec: { $patch: 'frob' } },
        reason: 'BadRequest',
        code: 400,
        message: /unknown patch type: frob/,
      },
    ];
  for (const f of failures) {
    test(`fails: ${f.name}`, () => {
      assert.throws(
        () => strategicMergePatch(deployment(), f.patch, ctx),
        (e: unknown) => {
          assert.ok(e instanceof StatusError);
          assert.equal(e.reason, f.reason);
          assert.equal(e.code, f.code);
          if (typeof f.message === 'string') assert.equal(e.message, f.message);
          else assert.match(e.message, f.message);
          return true;
        },
      );
    });
  }
});
