import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isReason } from '../api/errors.ts';
import { builtinRegistry, type KubeObject } from '../api/index.ts';
import { PODS, RestClient } from '../client/index.ts';
import { MemoryBackend } from '../store/index.ts';
import { startApiServer } from './start.ts';

const pod = (name: string, image = 'registry.k8s.io/pause:3.10') => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default' },
  spec: { containers: [{ name: 'c', image }] },
});

test('in-process connections take the HTTPS request path: auth, validation, watch', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-loopback-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const backend = new MemoryBackend();
  t.after(() => backend.close());
  const server = await startApiServer({ dataDir: dir, port: 0, backend, registry: builtinRegistry() });
  let closed = false;
  const close = async () => {
    if (!closed) await server.close();
    closed = true;
  };
  t.after(close);
  const client = new RestClient({ server: server.url, connect: server.connect });
  t.after(() => client.close());

  // who the connection is: upstream's loopback identity
  const review = await client.request('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
  });
  assert.equal(review.status.userInfo.username, 'system:apiserver');
  assert.ok(review.status.userInfo.groups.includes('system:masters'));

  // defaulting and validation as over HTTPS
  const created = await client.create(PODS, pod('a') as KubeObject);
  assert.ok(created.metadata?.uid);
  assert.equal((created.spec as { restartPolicy?: string }).restartPolicy, 'Always');
  await assert.rejects(client.create(PODS, pod('b', '') as KubeObject), (e) => isReason(e, 'Invalid'));
  await assert.rejects(client.get(PODS, 'missing', { namespace: 'default' }), (e) => isReason(e, 'NotFound'));

  // authorization: an impersonated user without roles is refused
  const refused = await new Promise<number>((resolve, reject) => {
    const req = http.request(
      {
        path: '/api/v1/namespaces/default/pods',
        headers: { 'impersonate-user': 'nobody' },
        createConnection: server.connect as never,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end();
  });
  assert.equal(refused, 403);

  // a watch streams events, and closing the server ends it
  const list = await client.list(PODS, { namespace: 'default' });
  const seen: string[] = [];
  const watching = (async () => {
    for await (const ev of client.watch(PODS, {
      namespace: 'default',
      resourceVersion: list.metadata.resourceVersion,
    })) {
      seen.push(`${ev.type} ${ev.object.metadata?.name}`);
      if (seen.length === 1) await close();
    }
  })();
  await client.create(PODS, pod('c') as KubeObject);
  await watching;
  assert.deepEqual(seen, ['ADDED c']);
});
