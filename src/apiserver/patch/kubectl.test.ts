// What the real kubectl sends: a tiny HTTP server on 127.0.0.1 answers discovery and GET of
// one Deployment, records kubectl's PATCH bodies, and we apply them with our functions.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import YAML from 'yaml';
import type { KubeObject } from '../../api/resource.ts';
import { deployment, deploymentContext } from './fixtures.ts';
import { applyPatch, fieldManagerFor, serverSideApply, updateManagedFields } from './index.ts';

const run = promisify(execFile);
const ctx = deploymentContext();
const now = new Date('2024-05-01T10:00:00Z');

interface Recorded {
  url: URL;
  contentType: string;
  userAgent: string;
  body: string;
}

/** A live Deployment as client-side apply of the fixture would have left it. */
function live(): KubeObject {
  const d = deployment();
  const { uid: _u, resourceVersion: _r, generation: _g, finalizers: _f, ...meta } = d.metadata;
  const lastApplied = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta, spec: d.spec };
  d.metadata.annotations = {
    'kubectl.kubernetes.io/last-applied-configuration': `${JSON.stringify(lastApplied)}\n`,
  };
  return updateManagedFields({
    old: undefined,
    updated: d,
    manager: 'kubectl-client-side-apply',
    ctx,
    now,
    apiVersion: 'apps/v1',
  }).object;
}

async function fakeServer(object: KubeObject, patches: Recorded[]): Promise<http.Server> {
  const send = (res: http.ServerResponse, code: number, o: unknown) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(o));
  };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      switch (url.pathname) {
        case '/api':
          return send(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
        case '/apis':
          return send(res, 200, {
            kind: 'APIGroupList',
            apiVersion: 'v1',
            groups: [
              {
                name: 'apps',
                versions: [{ groupVersion: 'apps/v1', version: 'v1' }],
                preferredVersion: { groupVersion: 'apps/v1', version: 'v1' },
              },
            ],
          });
        case '/api/v1':
          return send(res, 200, { kind: 'APIResourceList', groupVersion: 'v1', resources: [] });
        case '/apis/apps/v1':
          return send(res, 200, {
            kind: 'APIResourceList',
            apiVersion: 'v1',
            groupVersion: 'apps/v1',
            resources: [
              {
                name: 'deployments',
                singularName: 'deployment',
                namespaced: true,
                kind: 'Deployment',
                verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
              },
            ],
          });
        case '/apis/apps/v1/namespaces/default/deployments/web':
          if (req.method === 'PATCH') {
            patches.push({
              url,
              contentType: req.headers['content-type'] ?? '',
              userAgent: req.headers['user-agent'] ?? '',
              body,
            });
          }
          if (req.method === 'GET' || req.method === 'PATCH') return send(res, 200, object);
      }
      send(res, 404, {
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        reason: 'NotFound',
        code: 404,
        message: 'not found',
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

async function kubectlAvailable(): Promise<void> {
  try {
    await run('kubectl', ['version', '--client'], { timeout: 20000 });
  } catch (e) {
    assert.fail(`kubectl is needed for this test and could not run: ${e}`);
  }
}

test('kubectl apply, label, patch and apply --server-side: what kubectl sends applies correctly', async (t) => {
  await kubectlAvailable();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'skiff-patch-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const current = live();
  const patches: Recorded[] = [];
  const server = await fakeServer(current, patches);
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const { port } = server.address() as { port: number };
  const kubeconfig = path.join(dir, 'kubeconfig');
  await fs.writeFile(
    kubeconfig,
    YAML.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: `http://127.0.0.1:${port}` } }],
      users: [{ name: 'u', user: {} }],
      contexts: [{ name: 'c', context: { cluster: 'c', user: 'u', namespace: 'default' } }],
      'current-context': 'c',
    }),
  );
  const manifest = path.join(dir, 'web.yaml');
  await fs.writeFile(
    manifest,
    YAML.stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'default', labels: { app: 'web', tier: 'frontend' } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        strategy: { type: 'Recreate' },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              {
                name: 'web',
                image: 'nginx:1.26',
                ports: [{ containerPort: 80, protocol: 'TCP' }],
                env: [{ name: 'A', value: '1' }],
                volumeMounts: [{ name: 'data', mountPath: '/data' }],
              },
            ],
            volumes: [{ name: 'data', emptyDir: {} }],
          },
        },
      },
    }),
  );
  const kubectl = (...args: string[]) =>
    run('kubectl', ['--kubeconfig', kubeconfig, ...args], { timeout: 60000 });

  await kubectl('apply', '--validate=false', '-f', manifest);
  await kubectl('label', 'deployment', 'web', 'team=blue');
  await kubectl(
    'patch',
    'deployment',
    'web',
    '-p',
    '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox:2"}]}}}}',
  );
  await kubectl('apply', '--server-side', '--force-conflicts', '--validate=false', '-f', manifest);
  // --server-side also upgrades client-side apply ownership: an apply as kubectl-last-applied and
  // a JSON patch of metadata.managedFields follow (and, with our static server, a retry).
  assert.ok(patches.length >= 4, `${patches.length} PATCHes`);
  const [csa, label, smp, ssa] = patches;

  // Client-side apply: a strategic merge patch under kubectl-client-side-apply.
  assert.match(csa.contentType, /^application\/strategic-merge-patch\+json/);
  const manager = fieldManagerFor(csa.url.searchParams.get('fieldManager'), csa.userAgent);
  assert.equal(manager, 'kubectl-client-side-apply');
  const applied = applyPatch(csa.contentType, current, JSON.parse(csa.body), ctx) as any;
  assert.deepEqual(applied.metadata.labels, { app: 'web', tier: 'frontend' });
  assert.deepEqual(applied.spec.strategy, { type: 'Recreate' });
  assert.deepEqual(
    applied.spec.template.spec.containers.map((c: any) => c.name),
    ['web'],
  );
  assert.deepEqual(applied.spec.template.spec.containers[0].env, [{ name: 'A', value: '1' }]);
  assert.equal(applied.spec.template.spec.containers[0].image, 'nginx:1.26');
  assert.deepEqual(applied.metadata.finalizers, ['example.com/a'], 'fields outside the manifest survive');
  const recorded = updateManagedFields({
    old: current,
    updated: applied,
    manager,
    ctx,
    now,
    apiVersion: 'apps/v1',
  }).object;
  assert.ok(((recorded.metadata?.managedFields ?? []) as unknown[]).length >= 1);

  // kubectl label: a merge patch whose manager comes from the query (kubectl-label).
  assert.match(label.contentType, /^application\/merge-patch\+json/);
  assert.equal(fieldManagerFor(label.url.searchParams.get('fieldManager'), label.userAgent), 'kubectl-label');
  const labelled = applyPatch(label.contentType, applied, JSON.parse(label.body), ctx) as any;
  assert.deepEqual(labelled.metadata.labels, { app: 'web', tier: 'frontend', team: 'blue' });

  // kubectl patch defaults to a strategic merge patch: the container merges in by name.
  assert.match(smp.contentType, /^application\/strategic-merge-patch\+json/);
  assert.equal(fieldManagerFor(smp.url.searchParams.get('fieldManager'), smp.userAgent), 'kubectl-patch');
  const patched = applyPatch(smp.contentType, current, JSON.parse(smp.body), ctx) as any;
  assert.deepEqual(
    patched.spec.template.spec.containers.map((c: any) => [c.name, c.image]),
    [
      ['web', 'nginx:1.25'],
      ['sidecar', 'busybox:2'],
    ],
  );

  // Server-side apply: apply-patch+yaml, manager kubectl, force from the query.
  assert.match(ssa.contentType, /^application\/apply-patch\+yaml/);
  assert.equal(ssa.url.searchParams.get('fieldManager'), 'kubectl');
  assert.equal(ssa.url.searchParams.get('force'), 'true');
  const body = YAML.parse(ssa.body) as KubeObject;
  const { object } = serverSideApply({
    live: recorded,
    applied: body,
    manager: 'kubectl',
    force: true,
    ctx,
    now,
    apiVersion: 'apps/v1',
  });
  assert.equal((object.spec as any).template.spec.containers[0].image, 'nginx:1.26');
  assert.ok(
    ((object.metadata?.managedFields ?? []) as any[]).some(
      (e) => e.manager === 'kubectl' && e.operation === 'Apply',
    ),
  );

  // The ownership upgrade kubectl sends is a JSON patch our jsonPatch applies to what it read.
  const upgrade = patches.find((p) => p.contentType.startsWith('application/json-patch+json'));
  assert.ok(upgrade, 'kubectl sent the managedFields upgrade');
  const upgraded = applyPatch(upgrade.contentType, current, JSON.parse(upgrade.body), ctx) as KubeObject;
  const managers = ((upgraded.metadata?.managedFields ?? []) as any[]).map(
    (e) => `${e.manager}/${e.operation}`,
  );
  assert.ok(managers.includes('kubectl/Apply'), managers.join());
});
