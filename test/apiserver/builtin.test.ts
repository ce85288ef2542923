/**
 * The API server with the built-in registry and the patch engine, driven by the real kubectl
 * and by @kubernetes/client-node: server-side apply, strategic merge patch, explain, secrets
 * (protobuf bodies), watches and bad input.
 */
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, before, describe, it } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { builtinRegistry } from '../../src/api/index.ts';
import { ensurePki } from '../../src/apiserver/index.ts';
import { runGarbageCollector } from '../../src/controllers/garbage-collector/index.ts';
import { runNamespaceController } from '../../src/controllers/namespace/index.ts';
import { backendCases, startCaseServer, type TestServer } from './helpers.ts';

const DEPLOY = `apiVersion: apps/v1
kind: Deployment
metadata: {name: api, labels: {app: api}}
spec:
  replicas: 1
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: c, image: busybox}]
`;

for (const store of await backendCases()) {
  describe(`built-in registry (${store.name} store)`, { skip: store.skip }, () => {
    let s: TestServer;
    before(async () => {
      s = await startCaseServer(store, builtinRegistry(), {
        controllers: [runGarbageCollector, runNamespaceController],
      });
    });
    after(async () => {
      await s?.close();
    });

    it('applies server-side, patches strategically and explains', async () => {
      let r = await s.kubectl(['apply', '--server-side', '-f', '-'], DEPLOY);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /serverside-applied/);
      r = await s.kubectl([
        'patch',
        'deploy',
        'api',
        '-p',
        '{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"nginx"}]}}}}',
      ]);
      assert.equal(r.code, 0, r.stderr);
      r = await s.kubectl(['get', 'deploy', 'api', '-o', 'json']);
      const d = JSON.parse(r.stdout);
      assert.equal(d.spec.template.spec.containers.length, 1);
      assert.equal(d.spec.template.spec.containers[0].image, 'nginx');
      r = await s.kubectl(['explain', 'deployment.spec.replicas']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /replicas\s+<integer>/);
    });

    it('keeps managedFields across patches and conflicts on apply after kubectl scale', async () => {
      const y = DEPLOY.replace('name: api,', 'name: mf,').replaceAll('app: api', 'app: mf');
      let r = await s.kubectl(['apply', '--server-side', '-f', '-'], y);
      assert.equal(r.code, 0, r.stderr);
      r = await s.kubectl(['patch', 'deploy', 'mf', '-p', '{"metadata":{"labels":{"extra":"x"}}}']);
      assert.equal(r.code, 0, r.stderr);
      r = await s.kubectl(['get', 'deploy', 'mf', '-o', 'json', '--show-managed-fields']);
      const managers = (JSON.parse(r.stdout).metadata.managedFields ?? []).map(
        (m: { manager: string; operation: string }) => `${m.manager}/${m.operation}`,
      );
      assert.ok(managers.includes('kubectl/Apply'), managers.join());
      assert.ok(
        managers.some((m: string) => m.endsWith('/Update')),
        managers.join(),
      );
      r = await s.kubectl(['scale', 'deploy', 'mf', '--replicas=3']);
      assert.equal(r.code, 0, r.stderr);
      r = await s.kubectl(['apply', '--server-side', '-f', '-'], y.replace('replicas: 1', 'replicas: 2'));
      assert.notEqual(r.code, 0, r.stdout);
      assert.match(r.stderr, /conflict/i);
      assert.match(r.stderr, /\.spec\.replicas/);
      r = await s.kubectl(['get', 'deploy', 'mf', '-o', 'jsonpath={.spec.replicas}']);
      assert.equal(r.stdout, '3');
      r = await s.kubectl(
        ['apply', '--server-side', '--force-conflicts', '-f', '-'],
        y.replace('replicas: 1', 'replicas: 2'),
      );
      assert.equal(r.code, 0, r.stderr);
      r = await s.kubectl(['get', 'deploy', 'mf', '-o', 'jsonpath={.spec.replicas}']);
      assert.equal(r.stdout, '2');
    });

    it('creates secrets (protobuf bodies) and rejects unknown fields under Strict', async () => {
      let r = await s.kubectl(['create', 'secret', 'generic', 'sec', '--from-literal=k=v']);
      assert.equal(r.code, 0, r.stderr);
      r = await s.kubectl(['get', 'secret', 'sec', '-o', 'jsonpath={.data.k}']);
      assert.equal(r.stdout, Buffer.from('v').toString('base64'));
      r = await s.kubectl(['apply', '-f', '-'], DEPLOY.replace('replicas: 1', 'replicas: 1\n  foo: bar'));
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /unknown field "spec.foo"/);
    });

    it('serves @kubernetes/client-node: CRUD and a watch', async () => {
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(s.kubeconfigPath);
      const core = kc.makeApiClient(k8s.CoreV1Api);
      await core.createNamespacedConfigMap({
        namespace: 'default',
        body: { metadata: { name: 'cn' }, data: { a: '1' } },
      });
      const got = await core.readNamespacedConfigMap({ name: 'cn', namespace: 'default' });
      assert.equal(got.data?.a, '1');
      const events: string[] = [];
      const w = new k8s.Watch(kc);
      const seen = new Promise<void>((resolve, reject) => {
        w.watch(
          '/api/v1/namespaces/default/configmaps',
          { resourceVersion: got.metadata!.resourceVersion },
          (type, obj) => {
            events.push(`${type} ${obj.metadata.name}`);
            if (type === 'DELETED') resolve();
          },
          (err) => (err ? reject(err) : undefined),
        ).then((req) => after(() => req.abort()), reject);
      });
      got.data = { a: '2' };
      await core.replaceNamespacedConfigMap({ name: 'cn', namespace: 'default', body: got });
      await core.deleteNamespacedConfigMap({ name: 'cn', namespace: 'default' });
      await seen;
      assert.deepEqual(events, ['MODIFIED cn', 'DELETED cn']);
      const list = await core.listNamespacedConfigMap({ namespace: 'default' });
      assert.ok(!list.items.some((c) => c.metadata?.name === 'cn'));
    });

    it('answers bad input with the right Status codes', async () => {
      const pki = await ensurePki(s.dir);
      const call = (
        method: string,
        path: string,
        body?: string | Buffer,
        type = 'application/json',
        auth = true,
      ) =>
        new Promise<{ code: number; body: { kind?: string; message?: string } }>((resolve, reject) => {
          const req = request(
            `${s.url}${path}`,
            {
              method,
              ca: pki.ca.cert,
              ...(auth ? { cert: pki.admin.cert, key: pki.admin.key } : {}),
              headers: body ? { 'Content-Type': type } : {},
            },
            (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c) => chunks.push(c));
              res.on('end', () =>
                resolve({
                  code: res.statusCode!,
                  body: JSON.parse(Buffer.concat(chunks).toString() || '{}'),
                }),
              );
            },
          );
          req.on('error', reject);
          req.end(body);
        });
      const cm = (o: object) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', ...o });
      const cases: [string, Awaited<ReturnType<typeof call>>, number][] = [
        [
          'unauthenticated',
          await call('GET', '/api/v1/namespaces', undefined, 'application/json', false),
          401,
        ],
        ['malformed JSON', await call('POST', '/api/v1/namespaces/default/configmaps', '{"a":'), 400],
        [
          'malformed YAML',
          await call('POST', '/api/v1/namespaces/default/configmaps', 'a: [b', 'application/yaml'),
          400,
        ],
        [
          'wrong kind',
          await call(
            'POST',
            '/api/v1/namespaces/default/configmaps',
            JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' } }),
          ),
          400,
        ],
        [
          'invalid name',
          await call('POST', '/api/v1/namespaces/default/configmaps', cm({ metadata: { name: 'Bad_Name' } })),
          422,
        ],
        [
          'missing name',
          await call('POST', '/api/v1/namespaces/default/configmaps', cm({ metadata: {} })),
          422,
        ],
        [
          'strict unknown field',
          await call(
            'POST',
            '/api/v1/namespaces/default/configmaps?fieldValidation=Strict',
            cm({ metadata: { name: 'u' }, foo: 1 }),
          ),
          400,
        ],
        [
          'too large',
          await call('POST', '/api/v1/namespaces/default/configmaps', Buffer.alloc(3 * 1024 * 1024 + 10, 32)),
          413,
        ],
        ['media type', await call('POST', '/api/v1/namespaces/default/configmaps', 'x', 'text/csv'), 415],
        ['unknown resource', await call('GET', '/api/v1/namespaces/default/widgets'), 404],
        [
          'missing namespace',
          await call('POST', '/api/v1/namespaces/nope/configmaps', cm({ metadata: { name: 'a' } })),
          404,
        ],
        ['wrong verb', await call('PUT', '/api/v1/namespaces/default/configmaps'), 405],
      ];
      for (const [what, res, code] of cases) {
        assert.equal(res.code, code, `${what}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.kind, 'Status', what);
        assert.ok(res.body.message, what);
      }
    });
  });
}
