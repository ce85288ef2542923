/**
 * GET with `watch=1`: a chunked stream of `{"type","object"}` JSON lines. Without a
 * resourceVersion (or with "0") the stream starts with an ADDED event per existing object;
 * with one it resumes after it (410 as an ERROR event once compacted). Selectors turn
 * objects that start or stop matching into ADDED / DELETED, as Kubernetes does.
 */
import { badRequest, gone, StatusError } from '../../api/errors.ts';
import type { KubeObject } from '../../api/resource.ts';
import type { CachedEvent, CacheWatcher } from '../cache/resource-cache.ts';
import type { Ctx } from '../context.ts';
import { resourcePrefix } from '../keys.ts';
import type { Matcher } from '../selectors.ts';
import { toTable } from '../table.ts';
import { selectorOf } from './list.ts';
import { apiVersionOf } from './prepare.ts';

export async function watch(ctx: Ctx): Promise<void> {
  const form = ctx.form();
  const match = selectorOf(ctx);
  const rvParam = ctx.query.get('resourceVersion');
  const sendInitial = ctx.query.get('sendInitialEvents');
  const bookmarks = ctx.query.get('allowWatchBookmarks') === 'true';
  const timeout = Number(ctx.query.get('timeoutSeconds') ?? 0);
  if (rvParam && rvParam !== '0' && !/^\d+$/.test(rvParam))
    throw badRequest(`invalid resource version: ${rvParam}`);
  if (ctx.info.name) {
    // Watching one object: a field selector on its name.
    const name = ctx.info.name;
    const prior = match;
    const byName = (o: KubeObject) => o.metadata?.name === name && (!prior || prior(o));
    return run(ctx, form.table, byName, rvParam, sendInitial, bookmarks, timeout);
  }
  return run(ctx, form.table, match, rvParam, sendInitial, bookmarks, timeout);
}

async function run(
  ctx: Ctx,
  table: boolean,
  match: ((o: KubeObject) => boolean) | undefined,
  rvParam: string | null,
  sendInitial: string | null,
  bookmarks: boolean,
  timeout: number,
): Promise<void> {
  const { objects } = ctx.parts;
  const abort = new AbortController();
  const { signal } = abort;
  ctx.req.on('close', () => abort.abort());
  ctx.res.on('close', () => abort.abort());
  let timer: NodeJS.Timeout | undefined;
  if (timeout > 0) timer = setTimeout(() => abort.abort(), timeout * 1000);
  let firstTable = true;
  const line = (type: string, obj: unknown) => {
    let out = obj;
    if (table && type !== 'ERROR' && type !== 'BOOKMARK') {
      out = toTable(ctx.def, obj as KubeObject, ctx.query.get('includeObject'), new Date(), firstTable);
      firstTable = false;
    }
    return `${JSON.stringify({ type, object: out })}\n`;
  };
  // Lines wait for the end of this turn of the event loop and go out as one chunk: under load
  // one watcher's events from many requests cost one TLS record and one syscall, not one each.
  let pending = '';
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const s = pending;
    pending = '';
    if (s && !ctx.res.writableEnded && !ctx.res.destroyed) ctx.res.write(s);
  };
  const write = (s: string) => {
    pending += s;
    if (pending.length >= FLUSH_AT) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  const bookmark = (rv: number, initialEnd = false) =>
    line('BOOKMARK', {
      kind: ctx.def.kind,
      apiVersion: apiVersionOf(ctx.def),
      metadata: {
        resourceVersion: String(rv),
        annotations: initialEnd ? { 'k8s.io/initial-events-end': 'true' } : {},
      },
    });

  try {
    const wantInitial = sendInitial === 'true' || (sendInitial !== 'false' && (!rvParam || rvParam === '0'));
    const cache = objects.cache;
    // The resource's ring of events (taken before any list, so the ring reaches back to it).
    const rc = cache ? await cache.resource(resourcePrefix(ctx.def)) : undefined;
    let after: number;
    let initial: string[] = [];
    if (wantInitial) ({ revision: after, texts: initial } = await initialState(ctx, rvParam));
    else if (rvParam && rvParam !== '0') after = Number(rvParam);
    else after = await (cache ?? objects.backend).currentRevision();
    if (signal.aborted) {
      ctx.res.end();
      return;
    }
    // From the ring's replay to the subscription nothing awaits, so no event can slip between them.
    const replay = rc && !rc.dropped ? rc.eventsAfter(after) : undefined;
    if (!replay) {
      const compacted = await objects.backend.compactedRevision();
      if (after < compacted) throw gone(`too old resource version: ${after} (${compacted})`);
    }
    writeHead(ctx);
    for (const json of initial) {
      if (!match && !table) {
        write(`{"type":"ADDED","object":${json}}\n`);
        continue;
      }
      const obj = JSON.parse(json) as KubeObject;
      if (!match || match(obj)) write(line('ADDED', obj));
    }
    initial = [];
    if (bookmarks && sendInitial === 'true') write(bookmark(after, true));
    let last = after;
    const heartbeat = bookmarks
      ? setInterval(() => write(bookmark(Math.max(last, replay ? cache!.observed : 0))), 30_000)
      : undefined;
    try {
      if (replay) {
        // Each event serialized once for every watcher of the cache.
        const deliver = (ev: CachedEvent) => {
          last = ev.revision;
          const type = typeFor(
            match,
            ev.type,
            match ? ev.obj : (undefined as unknown as KubeObject),
            match ? ev.prev : undefined,
          );
          if (!type) return;
          write(table ? line(type, ev.obj) : ev.line(type));
          if (ctx.res.writableLength > MAX_BUFFERED) abort.abort();
        };
        const keyPrefix = resourcePrefix(ctx.def, ctx.namespace);
        for (const ev of replay) if (ev.key.startsWith(keyPrefix)) deliver(ev);
        const watcher: CacheWatcher = { keyPrefix, after, deliver, end: () => abort.abort() };
        rc!.watchers.add(watcher);
        try {
          if (!signal.aborted)
            await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        } finally {
          rc!.watchers.delete(watcher);
        }
      } else {
        // Older than the ring (or no cache): the store's own watch, decoded for this watcher.
        for await (const ev of objects.watch(ctx.def, ctx.namespace, after, signal)) {
          last = ev.revision;
          const type = typeFor(match, ev.type, ev.obj, ev.prev);
          if (type) write(line(type, ev.obj));
        }
      }
    } finally {
      if (heartbeat) clearInterval(heartbeat);
    }
  } catch (e) {
    if (!ctx.res.headersSent) throw e;
    const status =
      e instanceof StatusError ? e.toStatus() : new StatusError('InternalError', String(e)).toStatus();
    write(line('ERROR', status));
  } finally {
    if (timer) clearTimeout(timer);
    flush();
    // Before the head, an error goes up to be answered as a Status (a 410 for a compacted revision).
    if (ctx.res.headersSent && !ctx.res.writableEnded) ctx.res.end();
  }
}

/**
 * The objects a watch starts with, as JSON texts, and the revision they are at: from the watch
 * cache's objects when it keeps them (as they are for resourceVersion "0", else once it has
 * caught up with the store), otherwise one list from the store.
 */
async function initialState(
  ctx: Ctx,
  rvParam: string | null,
): Promise<{ revision: number; texts: string[] }> {
  const { objects } = ctx.parts;
  const rc = await objects.cached(ctx.def, rvParam === '0' ? 'any' : 'consistent');
  if (rc) {
    const texts = rc.keys(resourcePrefix(ctx.def, ctx.namespace)).map((k) => rc.get(k)!.json);
    return { revision: objects.cache!.observed, texts };
  }
  const page = await objects.listJson(ctx.def, ctx.namespace);
  return { revision: page.revision, texts: page.items.map((e) => e.json) };
}

/** Buffered watch output past this many UTF-16 units is written at once. */
const FLUSH_AT = 64 * 1024;

function writeHead(ctx: Ctx): void {
  ctx.res.writeHead(200, {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-cache, private',
    'Transfer-Encoding': 'chunked',
  });
  ctx.res.flushHeaders();
}

/** The event type a watcher with `match` sees, or undefined when it sees nothing. */
function typeFor(
  match: Matcher | undefined,
  type: string,
  obj: KubeObject,
  prev: KubeObject | undefined,
): string | undefined {
  if (!match) return type;
  const now = match(obj);
  if (type === 'MODIFIED') {
    const before = prev ? match(prev) : false;
    if (now && !before) return 'ADDED';
    if (!now && before) return 'DELETED';
    return now ? type : undefined;
  }
  return now ? type : undefined;
}

/** A watcher whose client reads slower than this much buffered output is cut off; it re-watches. */
const MAX_BUFFERED = 64 * 1024 * 1024;
