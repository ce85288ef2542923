/**
 * GET with `watch=1`: a chunked stream of `{"type","object"}` JSON lines. Without a
 * resourceVersion (or with "0") the stream starts with an ADDED event per existing object;
 * with one it resumes after it (410 as an ERROR event once compacted). Selectors turn
 * objects that start or stop matching into ADDED / DELETED, as Kubernetes does.
 */
import { badRequest, gone, StatusError } from '../../api/errors.ts';
import type { KubeObject } from '../../api/resource.ts';
import type { Ctx } from '../context.ts';
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
  const write = (s: string) => {
    if (!ctx.res.writableEnded && !ctx.res.destroyed) ctx.res.write(s);
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
    let after: number;
    const initial: KubeObject[] = [];
    const wantInitial = sendInitial === 'true' || (sendInitial !== 'false' && (!rvParam || rvParam === '0'));
    if (wantInitial) {
      const page = await objects.list(ctx.def, ctx.namespace);
      after = page.revision;
      for (const { obj } of page.items) if (!match || match(obj)) initial.push(obj);
    } else {
      after = rvParam && rvParam !== '0' ? Number(rvParam) : await objects.backend.currentRevision();
      const compacted = await objects.backend.compactedRevision();
      if (after < compacted) throw gone(`too old resource version: ${after} (${compacted})`);
    }
    ctx.res.writeHead(200, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-cache, private',
      'Transfer-Encoding': 'chunked',
    });
    ctx.res.flushHeaders();
    let last = after;
    for (const o of initial) write(line('ADDED', o));
    if (bookmarks && sendInitial === 'true') write(bookmark(after, true));
    const heartbeat = bookmarks ? setInterval(() => write(bookmark(last)), 30_000) : undefined;
    try {
      for await (const ev of objects.watch(ctx.def, ctx.namespace, after, signal)) {
        last = ev.revision;
        let type: string = ev.type;
        const now = !match || match(ev.obj);
        if (match) {
          const before = ev.prev ? match(ev.prev) : false;
          if (ev.type === 'MODIFIED') {
            if (now && !before) type = 'ADDED';
            else if (!now && before) type = 'DELETED';
            else if (!now) continue;
          } else if (!now) continue;
        }
        write(line(type, ev.obj));
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
    if (!ctx.res.writableEnded) ctx.res.end();
  }
}
