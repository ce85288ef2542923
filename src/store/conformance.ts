/**
 * The store's conformance suite: one set of behaviours every Backend must show. Each
 * implementation's test file runs it with a factory for a fresh, empty-looking store:
 *
 *   describeBackend('sqlite', async () => { ...; return { backend, cleanup } });
 *
 * Tests never assume the revision starts at 0 (an etcd shared by a test file keeps
 * counting), only how it moves.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StatusError } from '../api/errors.ts';
import type { Backend, KeyValue, Watch, WatchEvent } from './backend.ts';

export interface BackendUnderTest {
  backend: Backend;
  /** Runs after the backend is closed (remove files, stop servers). */
  cleanup?: () => Promise<void>;
}

export type BackendFactory = () => Promise<BackendUnderTest>;

type TestFn = (b: Backend) => Promise<void>;

/** How long any single wait on a watch may take before the test fails instead of hanging. */
const WAIT_MS = 10_000;

export function describeBackend(name: string, factory: BackendFactory): void {
  const it = (title: string, fn: TestFn): void => {
    test(title, async (t) => {
      const { backend, cleanup } = await factory();
      t.after(async () => {
        await backend.close();
        await cleanup?.();
      });
      await fn(backend);
    });
  };

  describe(`store conformance: ${name}`, () => {
    it('revisions increase by exactly one per successful write', async (b) => {
      const r0 = await b.currentRevision();
      const a = await b.create('/r/a', '"1"');
      assert.equal(a.modRevision, r0 + 1);
      assert.equal(a.createRevision, r0 + 1);
      const u = await b.update('/r/a', '"2"', a.modRevision);
      assert.equal(u.modRevision, r0 + 2);
      assert.equal(u.createRevision, r0 + 1);
      await assert.rejects(b.create('/r/a', '"x"'), reason('AlreadyExists', 409));
      await assert.rejects(b.update('/r/a', '"x"', a.modRevision), reason('Conflict', 409));
      assert.equal(await b.currentRevision(), r0 + 2, 'failed writes do not bump the revision');
      const d = await b.delete('/r/a');
      assert.equal(d.modRevision, r0 + 3);
      assert.equal(await b.currentRevision(), r0 + 3);
      const again = await b.create('/r/a', '"3"');
      assert.equal(again.createRevision, r0 + 4, 'a key created again starts a new life');
    });

    it('get returns the key now, undefined when absent, and the revision read at', async (b) => {
      const kv = await b.create('/g/a', '{"x":1}');
      const got = await b.get('/g/a');
      assert.deepEqual(got.kv, kv);
      assert.equal(got.revision, await b.currentRevision());
      const missing = await b.get('/g/none');
      assert.equal(missing.kv, undefined);
      assert.equal(missing.revision, kv.modRevision);
      assert.equal((await b.get('/g/')).kv, undefined, 'get is exact, not a prefix match');
    });

    it('get and list at a past revision see the past', async (b) => {
      const a1 = await b.create('/h/a', '"a1"');
      const b1 = await b.create('/h/b', '"b1"');
      const a2 = await b.update('/h/a', '"a2"', a1.modRevision);
      await b.delete('/h/b');
      await b.create('/h/c', '"c1"');
      assert.deepEqual((await b.get('/h/a', { revision: a1.modRevision })).kv, a1);
      assert.equal((await b.get('/h/a', { revision: a1.modRevision })).revision, a1.modRevision);
      assert.equal((await b.get('/h/b', { revision: a1.modRevision })).kv, undefined, 'not yet created');
      assert.deepEqual((await b.get('/h/b', { revision: a2.modRevision })).kv, b1);
      const past = await b.list('/h/', { revision: a2.modRevision });
      assert.deepEqual(past.items, [a2, b1]);
      assert.equal(past.revision, a2.modRevision);
      const now = await b.list('/h/');
      assert.deepEqual(
        now.items.map((kv) => kv.key),
        ['/h/a', '/h/c'],
      );
      assert.equal(now.revision, await b.currentRevision());
      await assert.rejects(b.get('/h/a', { revision: (await b.currentRevision()) + 100 }), StatusError);
    });

    it('list pages with limit and startKey, reporting more and remaining', async (b) => {
      for (const k of ['/p0', '/o/x', '/p/z/zz']) await b.create(k, '"outside or nested"');
      const keys: string[] = [];
      for (let i = 0; i < 10; i++) keys.push(`/p/k${String(i).padStart(2, '0')}`);
      for (const k of [...keys].reverse()) await b.create(k, JSON.stringify(k));
      const expected = [...keys, '/p/z/zz'];
      assert.equal(await b.count('/p/'), 11);
      const rev = await b.currentRevision();
      await b.create('/p/k00a', '"written after the first page"');
      const seen: string[] = [];
      let startKey: string | undefined;
      let pages = 0;
      for (;;) {
        const page = await b.list('/p/', { limit: 4, startKey, revision: pages === 0 ? 0 : rev });
        if (pages === 0) {
          assert.equal(page.revision, rev + 1);
        } else {
          assert.equal(page.revision, rev);
        }
        pages++;
        seen.push(...page.items.map((kv) => kv.key));
        if (pages === 1) {
          assert.equal(page.more, true);
          assert.equal(page.remaining, 12 - 4);
          // Continue at the revision before the extra write: the first page is rebuilt at it.
          seen.length = 0;
          const first = await b.list('/p/', { limit: 4, revision: rev });
          assert.equal(first.remaining, 11 - 4);
          seen.push(...first.items.map((kv) => kv.key));
          startKey = `${first.items[first.items.length - 1].key}\u0000`;
          continue;
        }
        if (!page.more) {
          assert.equal(page.remaining, 0);
          break;
        }
        assert.equal(page.items.length, 4);
        startKey = `${page.items[page.items.length - 1].key}\u0000`;
      }
      assert.deepEqual(seen, expected);
      const all = await b.list('/p/');
      assert.equal(all.more, false);
      assert.equal(all.items.length, 12);
      const exact = await b.list('/p/', { limit: 12 });
      assert.equal(exact.more, false, 'a limit that fits everything leaves nothing more');
      const fromKey = await b.list('/p/', { startKey: '/p/k05' });
      assert.deepEqual(
        fromKey.items.map((kv) => kv.key),
        ['/p/k05', '/p/k06', '/p/k07', '/p/k08', '/p/k09', '/p/z/zz'],
      );
    });

    it('create fails with AlreadyExists, update and delete with NotFound and Conflict', async (b) => {
      const kv = await b.create('/c/a', '"v"');
      await assert.rejects(b.create('/c/a', '"w"'), reason('AlreadyExists', 409));
      await assert.rejects(b.update('/c/none', '"w"', 1), reason('NotFound', 404));
      await assert.rejects(b.delete('/c/none'), reason('NotFound', 404));
      await assert.rejects(b.update('/c/a', '"w"', kv.modRevision + 1), reason('Conflict', 409));
      await assert.rejects(b.delete('/c/a', kv.modRevision - 1), reason('Conflict', 409));
      assert.deepEqual((await b.get('/c/a')).kv, kv, 'failed writes change nothing');
      const u = await b.update('/c/a', '"w"', kv.modRevision);
      assert.equal(u.value, '"w"');
    });

    it('delete returns the value before with the revision of the delete', async (b) => {
      const kv = await b.create('/d/a', '{"spec":1}');
      const u = await b.update('/d/a', '{"spec":2}', kv.modRevision);
      const d = await b.delete('/d/a', u.modRevision);
      assert.deepEqual(d, {
        key: '/d/a',
        value: '{"spec":2}',
        createRevision: kv.createRevision,
        modRevision: u.modRevision + 1,
      });
      assert.equal((await b.get('/d/a')).kv, undefined);
      assert.equal(await b.count('/d/'), 0);
    });

    it('values are opaque text, byte for byte', async (b) => {
      const value = '{"s":"ünïcödé \\u0000 \\n","emoji":"🚢","big":"' + 'x'.repeat(100_000) + '"}';
      await b.create('/v/a', value);
      assert.equal((await b.get('/v/a')).kv?.value, value);
      await b.create('/v/empty', '');
      assert.equal((await b.get('/v/empty')).kv?.value, '');
    });

    it('watch from a past revision replays every change in order, with prev', async (b) => {
      const a1 = await b.create('/w/a', '"a1"');
      const start = a1.modRevision;
      const a2 = await b.update('/w/a', '"a2"', a1.modRevision);
      await b.create('/x/other', '"not under the prefix"');
      const c1 = await b.create('/w/c', '"c1"');
      const del = await b.delete('/w/a');
      const ctl = new AbortController();
      const events = await take(b.watch('/w/', { afterRevision: start, signal: ctl.signal }), 3, ctl);
      assert.deepEqual(events, [
        { type: 'MODIFIED', kv: a2, prev: a1 },
        { type: 'ADDED', kv: c1 },
        { type: 'DELETED', kv: del, prev: a2 },
      ]);
    });

    it('watch hands over from history to live writes with no gap and no duplicate', async (b) => {
      const r0 = await b.currentRevision();
      const writers = 4;
      const perWriter = 60;
      const total = writers * perWriter;
      const write = async (w: number): Promise<void> => {
        let kv: KeyValue | undefined;
        for (let i = 0; i < perWriter; i++) {
          if (i % 3 === 0) kv = await b.create(`/cw/${w}/${i}`, `"${i}"`);
          else if (i % 3 === 1 && kv) kv = await b.update(kv.key, `"${i}"`, kv.modRevision);
          else if (kv) await b.delete(kv.key, kv.modRevision);
        }
      };
      const ctl = new AbortController();
      const early = take(b.watch('/cw/', { afterRevision: r0, signal: ctl.signal }), total, ctl);
      const running = Promise.all(Array.from({ length: writers }, (_, w) => write(w)));
      // Join while writes are under way, from a revision already in the past.
      while ((await b.currentRevision()) < r0 + total / 3) await new Promise((r) => setTimeout(r, 1));
      const late = take(b.watch('/cw/', { afterRevision: r0 + 10, signal: ctl.signal }), total - 10, ctl);
      await running;
      const all = await early;
      const joined = await late;
      assert.deepEqual(
        all.map((ev) => ev.kv.modRevision),
        Array.from({ length: total }, (_, i) => r0 + 1 + i),
      );
      assert.deepEqual(
        joined.map((ev) => ev.kv.modRevision),
        Array.from({ length: total - 10 }, (_, i) => r0 + 11 + i),
      );
      assert.deepEqual(joined, all.slice(10));
    });

    it('watch from now delivers only later changes, without gaps', async (b) => {
      await b.create('/n/before', '"old"');
      const r0 = await b.currentRevision();
      const ctl = new AbortController();
      const w = b.watch('/n/', { signal: ctl.signal })[Symbol.asyncIterator]();
      // A watch "from now" starts at some revision at or after the call: write until it hears one.
      let i = 0;
      const first = w.next();
      let got: IteratorResult<WatchEvent> | undefined;
      const timer = setTimeout(() => ctl.abort(), WAIT_MS);
      first.then((r) => {
        got = r;
      });
      while (!got && !ctl.signal.aborted) {
        await b.create(`/n/k${i++}`, '"v"');
        await new Promise((r) => setTimeout(r, 5));
      }
      await first;
      assert.ok(got && !got.done, 'heard a write');
      const firstRev = got.value.kv.modRevision;
      assert.ok(firstRev > r0, 'nothing from before the watch');
      await b.create('/n/last', '"v"');
      const last = await b.currentRevision();
      const rest: number[] = [];
      while (rest.length < last - firstRev) {
        const r = await w.next();
        assert.ok(!r.done, 'watch ended early');
        rest.push(r.value.kv.modRevision);
      }
      clearTimeout(timer);
      assert.deepEqual(
        rest,
        Array.from({ length: last - firstRev }, (_, k) => firstRev + 1 + k),
      );
      ctl.abort();
      assert.equal((await w.next()).done, true, 'abort ends the watch');
    });

    it('compaction makes older revisions Gone and keeps the rest readable', async (b) => {
      const a1 = await b.create('/k/a', '"a1"');
      const b1 = await b.create('/k/b', '"b1"');
      const a2 = await b.update('/k/a', '"a2"', a1.modRevision);
      await b.delete('/k/b');
      const c1 = await b.create('/k/c', '"c1"');
      const at = a2.modRevision;
      await b.compact(at);
      assert.equal(await b.compactedRevision(), at);
      const expired = reason('Expired', 410);
      await assert.rejects(b.get('/k/a', { revision: at - 1 }), expired);
      await assert.rejects(b.list('/k/', { revision: at - 1 }), expired);
      assert.deepEqual((await b.list('/k/', { revision: at })).items, [a2, b1]);
      assert.deepEqual((await b.get('/k/b', { revision: at })).kv, b1);
      assert.deepEqual((await b.list('/k/')).items, [a2, c1]);
      const ctl = new AbortController();
      const replay = await take(b.watch('/k/', { afterRevision: at - 1, signal: ctl.signal }), 3, ctl);
      assert.deepEqual(
        replay.map((ev) => [ev.type, ev.kv.key]),
        [
          ['MODIFIED', '/k/a'],
          ['DELETED', '/k/b'],
          ['ADDED', '/k/c'],
        ],
      );
      const old = b.watch('/k/', { afterRevision: at - 2 })[Symbol.asyncIterator]();
      await assert.rejects(old.next(), expired);
      await b.compact(at - 1); // compacting below the compaction point changes nothing
      assert.equal(await b.compactedRevision(), at);
      await b.compact(await b.currentRevision());
      assert.deepEqual((await b.list('/k/')).items, [a2, c1], 'compaction never loses the current state');
      await assert.rejects(b.get('/k/a', { revision: at }), expired);
    });

    it('many concurrent watchers each see every event', async (b) => {
      const r0 = await b.currentRevision();
      const ctl = new AbortController();
      const watchers = Array.from({ length: 50 }, (_, i) =>
        take(b.watch(i % 2 ? '/m/' : '/m/', { afterRevision: r0, signal: ctl.signal }), 20, ctl),
      );
      await Promise.all(Array.from({ length: 20 }, (_, i) => b.create(`/m/${i}`, `"${i}"`)));
      for (const events of await Promise.all(watchers)) {
        assert.deepEqual(
          events.map((ev) => ev.kv.modRevision),
          Array.from({ length: 20 }, (_, i) => r0 + 1 + i),
        );
      }
    });

    it('close ends every watch', async (b) => {
      await b.create('/e/0', '"so that the revision is not 0, which means now"');
      const r0 = await b.currentRevision();
      await b.create('/e/a', '"a"');
      const w = b.watch('/e/', { afterRevision: r0 })[Symbol.asyncIterator]();
      const first = await Promise.race([w.next(), rejectAfter(WAIT_MS)]);
      assert.equal(first.value?.kv.key, '/e/a');
      const pending = w.next();
      await b.close();
      const end = await Promise.race([pending, rejectAfter(WAIT_MS)]);
      assert.equal(end.done, true);
    });
  });
}

/** A predicate for assert.rejects: a StatusError with this reason and code. */
function reason(r: string, code: number): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof StatusError, `expected a StatusError, got ${e}`);
    assert.equal(e.reason, r);
    assert.equal(e.code, code);
    return true;
  };
}

/** A promise that fails after `ms`, for racing against one that might never settle. */
function rejectAfter(ms: number): Promise<never> {
  return new Promise((_, reject) =>
    setTimeout(() => reject(new Error(`nothing after ${ms} ms`)), ms).unref(),
  );
}

/** The first `n` events of a watch; fails rather than hangs if they do not come. */
async function take(watch: Watch, n: number, ctl: AbortController): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  const timer = setTimeout(() => ctl.abort(), WAIT_MS);
  try {
    for await (const ev of watch) {
      out.push(ev);
      if (out.length === n) break;
    }
  } finally {
    clearTimeout(timer);
  }
  assert.equal(out.length, n, `watch delivered ${out.length} of ${n} events`);
  return out;
}
