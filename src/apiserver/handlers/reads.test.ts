/**
 * Gets, lists and watches through the API server on every store, with the watch cache keeping
 * objects (a remote store: etcd; memory when forced) or only events (SQLite, memory): the same
 * answers either way, and watches with no gap and no duplicate, resumed from memory or from the
 * store, and 410 once the store has compacted what the ring does not hold.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import { backendCases, startCaseServer, type TestServer } from '../../../test/apiserver/helpers.ts';
import { builtinRegistry, type KubeObject } from '../../api/index.ts';

interface Answer {
  status: number;
  body: Record<string, unknown> & KubeObject;
}

function request(s: TestServer, method: string, path: string, body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        method,
        path,
        createConnection: () => s.connect() as never,
        headers: { 'content-type': 'application/json', accept: 'application/json' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

interface WatchEventLine {
  type: string;
  object: KubeObject;
}

/** A watch stream: its events as they come, `until` waits for a condition on all so far. */
interface Watching {
  status: number;
  events: WatchEventLine[];
  until(check: (evs: WatchEventLine[]) => boolean, what: string): Promise<void>;
  close(): void;
}

function watch(s: TestServer, path: string): Promise<Watching> {
  return new Promise((resolve, reject) => {
    const events: WatchEventLine[] = [];
    let wake = () => {};
    const req = http.request({ path, createConnection: () => s.connect() as never }, (res) => {
      let tail = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        const lines = (tail + c).split('\n');
        tail = lines.pop()!;
        for (const l of lines) if (l) events.push(JSON.parse(l));
        wake();
      });
      resolve({
        status: res.statusCode!,
        events,
        async until(check, what) {
          const deadline = Date.now() + 10_000;
          while (!check(events)) {
            if (Date.now() > deadline)
              throw new Error(`watch ${path}: no ${what} after 10 s; got ${JSON.stringify(events)}`);
            await new Promise<void>((r) => {
              wake = r;
              setTimeout(r, 100);
            });
          }
        },
        close: () => req.destroy(),
      });
    });
    req.on('error', (e) => {
      if (!req.destroyed) reject(e);
    });
    req.end();
  });
}

const cm = (name: string, labels: Record<string, string> = {}, data: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, labels },
  data,
});

const CMS = '/api/v1/namespaces/default/configmaps';
const rvOf = (o: KubeObject) => Number(o.metadata?.resourceVersion);
const names = (evs: WatchEventLine[]) => evs.map((e) => `${e.type} ${e.object.metadata?.name}`);

const cases = [
  ...(await backendCases()).map((c) => ({ store: c, objects: undefined as boolean | undefined })),
  { store: (await backendCases())[0], objects: true },
];

for (const { store, objects } of cases) {
  const label = objects ? `${store.name} store, objects in the watch cache` : `${store.name} store`;
  describe(`gets, lists and watches (${label})`, { skip: store.skip }, () => {
    const withServer = (title: string, fn: (s: TestServer) => Promise<void>) =>
      it(title, async (t) => {
        const s = await startCaseServer(store, builtinRegistry(), { watchCacheObjects: objects });
        t.after(() => s.close());
        await fn(s);
      });

    withServer('get and list answer the stored objects, paged at one revision', async (s) => {
      const made: KubeObject[] = [];
      for (const n of ['a', 'b', 'c'])
        made.push((await request(s, 'POST', CMS, cm(n, { app: n === 'b' ? 'x' : 'y' }))).body);
      const got = await request(s, 'GET', `${CMS}/a`);
      assert.equal(got.status, 200);
      assert.deepEqual(got.body, made[0]);
      assert.equal(
        (await request(s, 'GET', `${CMS}/a?resourceVersion=0`)).body.metadata?.uid,
        made[0].metadata?.uid,
      );
      const missing = await request(s, 'GET', `${CMS}/nope`);
      assert.equal(missing.status, 404);
      assert.equal(missing.body.reason, 'NotFound');

      const all = await request(s, 'GET', CMS);
      assert.deepEqual(all.body.items, made);
      const selected = await request(s, 'GET', `${CMS}?labelSelector=app%3Dx`);
      assert.deepEqual(
        (selected.body.items as KubeObject[]).map((o) => o.metadata?.name),
        ['b'],
      );

      const first = await request(s, 'GET', `${CMS}?limit=2`);
      const meta = first.body.metadata as {
        continue?: string;
        remainingItemCount?: number;
        resourceVersion: string;
      };
      assert.deepEqual(
        (first.body.items as KubeObject[]).map((o) => o.metadata?.name),
        ['a', 'b'],
      );
      assert.equal(meta.remainingItemCount, 1);
      assert.ok(meta.continue);
      // a change after the first page: the next page still shows the list's revision
      const changed = await request(s, 'PUT', `${CMS}/c`, { ...made[2], data: { v: '2' } });
      assert.equal(changed.status, 200);
      const rest = await request(s, 'GET', `${CMS}?limit=2&continue=${meta.continue}`);
      assert.equal(rest.status, 200);
      assert.deepEqual(rest.body.items, [made[2]]);
      assert.equal((rest.body.metadata as { resourceVersion: string }).resourceVersion, meta.resourceVersion);
      assert.equal((rest.body.metadata as { continue?: string }).continue, undefined);
      const now = await request(s, 'GET', `${CMS}?limit=5`);
      assert.deepEqual((now.body.items as KubeObject[])[2], changed.body);
    });

    withServer('a watch resumes from a list with no gap and no duplicate', async (s) => {
      const a = (await request(s, 'POST', CMS, cm('a', { app: 'x' }))).body;
      await request(s, 'POST', CMS, cm('b', { app: 'x' }));
      const list = await request(s, 'GET', CMS);
      const rv = (list.body.metadata as { resourceVersion: string }).resourceVersion;
      // written before the watch opens: it must still see them, after the list's revision
      const a2 = (await request(s, 'PUT', `${CMS}/a`, { ...a, data: { v: '2' } })).body;
      await request(s, 'DELETE', `${CMS}/b`);
      const w = await watch(s, `${CMS}?watch=1&resourceVersion=${rv}`);
      try {
        assert.equal(w.status, 200);
        await request(s, 'POST', CMS, cm('c'));
        await w.until((evs) => evs.length >= 3, 'three events');
        assert.deepEqual(names(w.events), ['MODIFIED a', 'DELETED b', 'ADDED c']);
        assert.deepEqual(w.events[0].object, a2);
        const rvs = w.events.map((e) => rvOf(e.object));
        assert.ok(
          rvs.every((r, i) => r > Number(rv) && (i === 0 || r > rvs[i - 1])),
          `${rvs}`,
        );
      } finally {
        w.close();
      }
    });

    withServer(
      'a watch with initial events misses nothing written meanwhile, and sends it once',
      async (s) => {
        for (let i = 0; i < 20; i++) await request(s, 'POST', CMS, cm(`pre${i}`));
        const writes = (async () => {
          for (let i = 0; i < 40; i++) await request(s, 'POST', CMS, cm(`live${i}`));
        })();
        const w = await watch(s, `${CMS}?watch=1`);
        try {
          await writes;
          await w.until((evs) => evs.length >= 60, 'sixty objects');
          const seen = w.events.map((e) => e.object.metadata?.name);
          assert.equal(new Set(seen).size, seen.length, 'no object twice');
          assert.equal(seen.length, 60);
          assert.ok(w.events.every((e) => e.type === 'ADDED'));
        } finally {
          w.close();
        }
      },
    );

    withServer('selectors turn objects that start or stop matching into ADDED and DELETED', async (s) => {
      const a = (await request(s, 'POST', CMS, cm('a', { app: 'x' }))).body;
      await request(s, 'POST', CMS, cm('b', { app: 'y' }));
      const w = await watch(s, `${CMS}?watch=1&labelSelector=app%3Dx`);
      try {
        await w.until((evs) => evs.length >= 1, 'the initial object');
        const a2 = (
          await request(s, 'PUT', `${CMS}/a`, { ...a, metadata: { ...a.metadata, labels: { app: 'y' } } })
        ).body;
        await request(s, 'PUT', `${CMS}/a`, { ...a2, metadata: { ...a2.metadata, labels: { app: 'x' } } });
        await w.until((evs) => evs.length >= 3, 'three events');
        assert.deepEqual(names(w.events), ['ADDED a', 'DELETED a', 'ADDED a']);
      } finally {
        w.close();
      }
    });

    withServer('initial events end with a bookmark at the revision the stream continues from', async (s) => {
      await request(s, 'POST', CMS, cm('a'));
      const w = await watch(
        s,
        `${CMS}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true`,
      );
      try {
        await w.until((evs) => evs.some((e) => e.type === 'BOOKMARK'), 'bookmark');
        const b = (await request(s, 'POST', CMS, cm('b'))).body;
        await w.until((evs) => evs.length >= 3, 'the new object');
        assert.deepEqual(names(w.events).slice(0, 1), ['ADDED a']);
        const mark = w.events[1].object;
        assert.equal(mark.metadata?.annotations?.['k8s.io/initial-events-end'], 'true');
        assert.ok(rvOf(mark) < rvOf(b));
        assert.deepEqual(w.events[2], { type: 'ADDED', object: b });
      } finally {
        w.close();
      }
    });

    withServer('a watch older than the ring is served by the store, and 410 once compacted', async (s) => {
      // Nothing has watched or read pod templates yet: their ring starts after these writes.
      const PT = '/api/v1/namespaces/default/podtemplates';
      const template = (name: string) => ({
        apiVersion: 'v1',
        kind: 'PodTemplate',
        metadata: { name },
        template: { spec: { containers: [{ name: 'c', image: 'busybox' }] } },
      });
      const p1 = (await request(s, 'POST', PT, template('p1'))).body;
      const p2 = (await request(s, 'POST', PT, template('p2'))).body;
      assert.ok(await s.objects.cache!.fresh());
      const w = await watch(s, `${PT}?watch=1&resourceVersion=${rvOf(p1)}`);
      try {
        const p3 = (await request(s, 'POST', PT, template('p3'))).body;
        await w.until((evs) => evs.length >= 2, 'two events');
        assert.deepEqual(
          w.events.map((e) => e.object),
          [p2, p3],
        );
      } finally {
        w.close();
      }
      const revision = await s.objects.backend.currentRevision();
      await s.objects.backend.compact(revision);
      const expired = await request(s, 'GET', `${PT}?watch=1&resourceVersion=${rvOf(p1)}`);
      assert.equal(expired.status, 410);
      assert.equal(expired.body.reason, 'Expired');
      const exact = await request(s, 'GET', `${PT}?resourceVersion=${rvOf(p1)}&resourceVersionMatch=Exact`);
      assert.equal(exact.status, 410);
    });
  });
}
