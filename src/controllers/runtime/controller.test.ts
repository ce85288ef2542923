import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { builtinRegistry, type KubeObject } from '../../api/index.ts';
import { startApiServer } from '../../apiserver/index.ts';
import { RestClient } from '../../client/index.ts';
import { MemoryBackend } from '../../store/index.ts';
import { controllerFor } from './controller.ts';
import { InformerFactory } from './informers.ts';

const RS = { group: 'apps', version: 'v1', resource: 'replicasets' };
const CONFIGMAPS = { group: '', version: 'v1', resource: 'configmaps' };
const BATCH_MS = 2000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('batchPeriod: owned changes and status-only changes wait together; spec changes do not', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-controller-batch-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const backend = new MemoryBackend();
  t.after(() => backend.close());
  const server = await startApiServer({ dataDir: dir, port: 0, backend, registry: builtinRegistry() });
  t.after(() => server.close());
  const client = new RestClient({ server: server.url, connect: server.connect });
  t.after(() => client.close());

  const rs = (await client.create(RS, {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x' }] } },
    },
  } as KubeObject)) as KubeObject;
  const owned = async (i: number) =>
    client.create(CONFIGMAPS, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: `cm-${i}`,
        namespace: 'default',
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'ReplicaSet',
            name: 'web',
            uid: rs.metadata!.uid!,
            controller: true,
          },
        ],
      },
    } as KubeObject);

  const reconciled: number[] = [];
  const controller = controllerFor('apps/v1', 'replicasets')
    .owns('v1', 'configmaps')
    .named('batch-test')
    .batchPeriod(BATCH_MS)
    .complete(() => async () => {
      reconciled.push(Date.now());
      return undefined;
    });
  const ac = new AbortController();
  const informers = new InformerFactory(client);
  const running = controller.start({
    client,
    informers,
    now: Date.now,
    options: {},
    signal: ac.signal,
    log: () => {},
  });
  informers.start(ac.signal);
  t.after(async () => {
    ac.abort();
    await running;
    await informers.stopped();
  });
  const until = async (n: number) => {
    for (let i = 0; i < 200 && reconciled.length < n; i++) await sleep(25);
    assert.ok(reconciled.length >= n, `only ${reconciled.length} reconciles`);
  };
  await until(1); // the add

  // twenty owned objects and three status writes: one reconcile, a batch period later
  const t0 = Date.now();
  await Promise.all(Array.from({ length: 20 }, (_, i) => owned(i)));
  let cur = rs;
  for (let i = 0; i < 3; i++) {
    cur = await client.updateStatus(RS, {
      ...cur,
      status: { replicas: 0, observedGeneration: i },
    } as KubeObject);
  }
  await until(2);
  assert.ok(reconciled[1] - t0 >= BATCH_MS - 100, `reconciled after ${reconciled[1] - t0} ms`);
  await sleep(300);
  assert.equal(reconciled.length, 2);

  // a label change is reconciled at once
  const t1 = Date.now();
  await client.update(RS, { ...cur, metadata: { ...cur.metadata, labels: { tier: 'x' } } } as KubeObject);
  await until(3);
  assert.ok(reconciled[2] - t1 < BATCH_MS / 2, `label change reconciled after ${reconciled[2] - t1} ms`);
});

test('informers keep no managedFields, and a write of a cached object keeps the stored ones', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-controller-fields-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const backend = new MemoryBackend();
  t.after(() => backend.close());
  const server = await startApiServer({ dataDir: dir, port: 0, backend, registry: builtinRegistry() });
  t.after(() => server.close());
  const client = new RestClient({ server: server.url, connect: server.connect });
  t.after(() => client.close());
  await client.create(
    CONFIGMAPS,
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c', namespace: 'default' },
      data: { a: '1' },
    } as KubeObject,
    { fieldManager: 'creator' },
  );
  const ac = new AbortController();
  const informers = new InformerFactory(client);
  const inf = informers.informerFor(CONFIGMAPS);
  informers.start(ac.signal);
  t.after(async () => {
    ac.abort();
    await informers.stopped();
  });
  assert.ok(await informers.waitForSync(ac.signal));
  const cached = inf.store.get('default/c')!;
  assert.equal(cached.metadata?.managedFields, undefined);
  await client.update(CONFIGMAPS, { ...cached, data: { a: '1', b: '2' } } as KubeObject, {
    fieldManager: 'controller',
  });
  const stored = await client.get(CONFIGMAPS, 'c', { namespace: 'default' });
  const managers = ((stored.metadata?.managedFields ?? []) as { manager: string }[]).map((f) => f.manager);
  assert.deepEqual(managers.sort(), ['controller', 'creator']);
});
