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
    if (
      await fromCache(
        ctx,
        table,
        match,
        rvParam,
        wantInitial,
        sendInitial === 'true' && bookmarks,
        line,
        write,
        bookmark,
        signal,
        abort,
      )
    )
      return;
    let after: number;
    const initial: KubeObject[] = [];
    if (wantInitial) {
      const page = await objects.list(ctx.def, ctx.namespace);
      after = page.revision;
      for (const { obj } of page.items) if (!match || match(obj)) initial.push(obj);
    } else {
      after = rvParam && rvParam !== '0' ? Number(rvParam) : await objects.backend.currentRevision();
      const compacted = await objects.backend.compactedRevision();
      if (after < compacted) throw gone(`too old resource version: ${after} (${compacted})`);
    }
    writeHead(ctx);
    let last = after;
    for (const o of initial) write(line('ADDED', o));
    if (bookmarks && sendInitial === 'true') write(bookmark(after, true));
    const heartbeat = bookmarks ? setInterval(() => write(bookmark(last)), 30_000) : undefined;
    try {
      for await (const ev of objects.watch(ctx.def, ctx.namespace, after, signal)) {
        last = ev.revision;
        const type = typeFor(match, ev.type, ev.obj, ev.prev);
        if (type) write(line(type, ev.obj));
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
    if (!ctx.res.writableEnded) ctx.res.end();
  }
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

/**
 * Serve the watch from the watch cache: the initial state (or the ring's events after the
 * asked revision), then live events, each serialized once for all watchers. False when the
 * cache cannot serve it (no cache, or a revision older than the ring): the store serves it.
 */
async function fromCache(
  ctx: Ctx,
  table: boolean,
  match: Matcher | undefined,
  rvParam: string | null,
  wantInitial: boolean,
  initialBookmark: boolean,
  line: (type: string, obj: unknown) => string,
  write: (s: string) => void,
  bookmark: (rv: number, initialEnd?: boolean) => string,
  signal: AbortSignal,
  abort: AbortController,
): Promise<boolean> {
  const { objects } = ctx.parts;
  const cache = objects.cache;
  if (!cache) return false;
  const rv = rvParam && rvParam !== '0' ? Number(rvParam) : undefined;
  const rc = await objects.cached(ctx.def, rvParam === '0' ? 'any' : rv === undefined ? 'consistent' : 'any');
  if (!rc || signal.aborted) return false;
  // From here to the subscription nothing awaits, so no event can slip between them.
  const keyPrefix = resourcePrefix(ctx.def, ctx.namespace);
  let after = cache.observed;
  let replay: CachedEvent[] = [];
  if (!wantInitial && rv !== undefined) {
    const r = rc.eventsAfter(rv);
    if (!r) return false;
    after = rv;
    replay = r.filter((ev) => ev.key.startsWith(keyPrefix));
  }
  writeHead(ctx);
  if (wantInitial) {
    for (const key of rc.keys(keyPrefix)) {
      const e = rc.get(key)!;
      if (!match && !table) {
        write(`{"type":"ADDED","object":${e.json}}\n`);
        continue;
      }
      const obj = JSON.parse(e.json) as KubeObject;
      if (!match || match(obj)) write(line('ADDED', obj));
    }
    if (initialBookmark) write(bookmark(after, true));
  }
  let last = after;
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
  for (const ev of replay) deliver(ev);
  const watcher: CacheWatcher = { keyPrefix, after, deliver, end: () => abort.abort() };
  rc.watchers.add(watcher);
  const bookmarks = ctx.query.get('allowWatchBookmarks') === 'true';
  const heartbeat = bookmarks
    ? setInterval(() => write(bookmark(Math.max(last, cache.observed))), 30_000)
    : undefined;
  try {
    if (!signal.aborted)
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
  } finally {
    rc.watchers.delete(watcher);
    if (heartbeat) clearInterval(heartbeat);
  }
  return true;
}
