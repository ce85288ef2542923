import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { builtinRegistry, type KubeObject } from '../api/index.ts';
import { type RunningServer, startApiServer } from '../apiserver/index.ts';
import { MemoryBackend } from '../store/index.ts';
import { eventRecorder } from './events.ts';
import { EVENTS, RestClient } from './rest.ts';

type Json = Record<string, any>;

describe('event recorder', () => {
  let dir: string;
  let backend: MemoryBackend;
  let server: RunningServer;
  let client: RestClient;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-events-'));
    backend = new MemoryBackend();
    server = await startApiServer({ dataDir: dir, port: 0, backend, registry: builtinRegistry() });
    client = new RestClient({ server: server.url, connect: server.connect });
  });
  after(async () => {
    client?.close();
    await server?.close();
    await backend?.close();
    await rm(dir, { recursive: true, force: true });
  });

  let n = 0;
  const object = (): KubeObject => {
    n++;
    return {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `cm-${n}`, namespace: 'default', uid: `u-${n}` },
    };
  };
  const eventsOf = async (o: KubeObject) =>
    (
      await client.list(EVENTS, {
        namespace: 'default',
        fieldSelector: `involvedObject.name=${o.metadata?.name}`,
      })
    ).items as Json[];

  it('counts repeats on one Event, with the source and object', async () => {
    const cm = object();
    const rec = eventRecorder(client, 'test-controller');
    for (let i = 0; i < 3; i++) rec.record(cm, 'Warning', 'Again', 'the same thing');
    rec.record(cm, 'Normal', 'Other', 'something else', { action: 'Checking' });
    await rec.flush();
    const evs = await eventsOf(cm);
    assert.equal(evs.length, 2);
    const again = evs.find((e) => e.reason === 'Again')!;
    assert.equal(again.count, 3);
    assert.equal(again.source.component, 'test-controller');
    assert.deepEqual(
      { kind: again.involvedObject.kind, name: again.involvedObject.name, uid: again.involvedObject.uid },
      { kind: 'ConfigMap', name: cm.metadata?.name, uid: cm.metadata?.uid },
    );
    assert.match(again.metadata.name, new RegExp(`^${cm.metadata?.name}\\.[0-9a-f]+$`));
    assert.equal(evs.find((e) => e.reason === 'Other')!.action, 'Checking');
  });

  it('combines the 10th and later different messages of one reason into one Event', async () => {
    const cm = object();
    const rec = eventRecorder(client, 'test-controller');
    for (let i = 0; i < 15; i++) {
      rec.record(cm, 'Normal', 'SuccessfulCreate', `Created pod: p-${i}`);
      await rec.flush();
    }
    const evs = await eventsOf(cm);
    assert.equal(evs.length, 10);
    const combined = evs.filter((e) => e.message.startsWith('(combined from similar events): '));
    assert.equal(combined.length, 1);
    assert.equal(combined[0].message, '(combined from similar events): Created pod: p-14');
    assert.equal(combined[0].count, 6);
    assert.equal(evs.filter((e) => e.count === 1).length, 9);
  });

  it('writes at most `burst` events per object, then one per refill; counts include the skipped', async () => {
    let t = Date.parse('2030-01-01T00:00:00Z');
    const a = object();
    const b = object();
    const rec = eventRecorder(client, 'test-controller', {
      now: () => t,
      burst: 3,
      refillPerSecond: 1 / 300,
    });
    for (let i = 0; i < 5; i++) rec.record(a, 'Normal', `Reason${i}`, 'x');
    rec.record(b, 'Normal', 'Reason0', 'x');
    await rec.flush();
    assert.equal(rec.throttled, 2);
    assert.equal((await eventsOf(a)).length, 3);
    assert.equal((await eventsOf(b)).length, 1, 'another object has its own bucket');

    rec.record(a, 'Normal', 'Reason0', 'x'); // no token left: counted, not written
    t += 299_000;
    rec.record(a, 'Normal', 'Reason0', 'x'); // still none
    t += 1000;
    rec.record(a, 'Normal', 'Reason0', 'x'); // a token again
    await rec.flush();
    assert.equal(rec.throttled, 4);
    const r0 = (await eventsOf(a)).find((e) => e.reason === 'Reason0')!;
    assert.equal(r0.count, 4);
    assert.equal(r0.lastTimestamp, '2030-01-01T00:05:00Z');
    assert.equal(r0.firstTimestamp, '2030-01-01T00:00:00Z');

    // Reason4 was never written (throttled twice): its Event is created with the count so far
    rec.record(a, 'Normal', 'Reason4', 'x');
    t += 300_000;
    rec.record(a, 'Normal', 'Reason4', 'x');
    await rec.flush();
    const r4 = (await eventsOf(a)).find((e) => e.reason === 'Reason4')!;
    assert.equal(r4.count, 3);
  });

  it('drops events beyond maxQueued waiting writes, and flush waits for the rest', async () => {
    const rec = eventRecorder(client, 'test-controller', { concurrency: 1, maxQueued: 2 });
    const objs = [object(), object(), object(), object()];
    for (const o of objs) rec.record(o, 'Normal', 'Made', 'made');
    await rec.flush();
    assert.equal(rec.dropped, 2);
    const written = await Promise.all(objs.map(eventsOf));
    assert.deepEqual(
      written.map((w) => w.length),
      [1, 1, 0, 0],
    );
  });
});
