/**
 * GET a collection: selectors, pagination with continue tokens, and resourceVersion semantics
 * (unset or NotOlderThan: the current state; Exact: the state at that revision, 410 once compacted).
 */
import { badRequest, StatusError } from '../../api/errors.ts';
import type { KubeObject } from '../../api/resource.ts';
import { type Ctx, writeBody } from '../context.ts';
import { resourcePrefix } from '../keys.ts';
import type { Freshness } from '../objects.ts';
import { and, type Matcher, parseFieldSelector, parseLabelSelector } from '../selectors.ts';
import { apiVersionOf } from './prepare.ts';

interface ContinueToken {
  v: 'meta.k8s.io/v1';
  rv: number;
  start: string;
}

export function selectorOf(ctx: Ctx): Matcher | undefined {
  return and(
    parseLabelSelector(ctx.query.get('labelSelector')),
    parseFieldSelector(ctx.query.get('fieldSelector'), ctx.def),
  );
}

function parseContinue(token: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as ContinueToken;
    if (t.v === 'meta.k8s.io/v1' && typeof t.rv === 'number' && typeof t.start === 'string') return t;
  } catch {}
  throw badRequest(
    'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)',
  );
}

/**
 * A list from the watch cache, or undefined when the cache cannot answer (no cache, Exact,
 * a continue token from an older revision, a cache that could not catch up in time).
 * `json` is set when the answer can go out as the cached texts joined, without a parse.
 */
async function listFromCache(
  ctx: Ctx,
  match: Matcher | undefined,
  limit: number,
  cont: string | null,
  rvParam: string | null,
  rvMatch: string | null,
  wantJson: boolean,
): Promise<{ obj?: KubeObject; json?: string } | undefined> {
  const { objects } = ctx.parts;
  if (!objects.cache || rvMatch === 'Exact') return undefined;
  let startKey: string | undefined;
  let freshness: Freshness = rvParam === '0' ? 'any' : rvParam ? Number(rvParam) : 'consistent';
  if (cont) {
    const t = parseContinue(cont);
    if (t.rv !== objects.cache.observed) return undefined;
    startKey = t.start;
    freshness = 'any';
  }
  const rc = await objects.cached(ctx.def, freshness);
  if (!rc) return undefined;
  const revision = objects.cache.observed;
  const keys = rc.keys(resourcePrefix(ctx.def, ctx.namespace), startKey);
  const texts: string[] = [];
  const items: KubeObject[] = [];
  let i = 0;
  for (; i < keys.length && (!limit || texts.length + items.length < limit); i++) {
    const e = rc.get(keys[i])!;
    if (!match && wantJson) {
      texts.push(e.json);
      continue;
    }
    const obj = JSON.parse(e.json) as KubeObject;
    if (match && !match(obj)) continue;
    if (wantJson) texts.push(e.json);
    else items.push(obj);
  }
  const metadata: Record<string, unknown> = { resourceVersion: String(revision) };
  if (i < keys.length) {
    metadata.continue = Buffer.from(
      JSON.stringify({ v: 'meta.k8s.io/v1', rv: revision, start: `${keys[i - 1]}\u0000` }),
    ).toString('base64url');
    if (!match) metadata.remainingItemCount = keys.length - i;
  }
  const head = { kind: ctx.def.listKind, apiVersion: apiVersionOf(ctx.def), metadata };
  if (wantJson) {
    const h = JSON.stringify(head);
    return { json: `${h.slice(0, -1)},"items":[${texts.join(',')}]}` };
  }
  return { obj: { ...head, items } };
}

export async function listObjects(ctx: Ctx, wantJson = false): Promise<KubeObject | string> {
  const match = selectorOf(ctx);
  const limit = Math.max(0, Number(ctx.query.get('limit') ?? 0) || 0);
  const cont = ctx.query.get('continue');
  const rvParam = ctx.query.get('resourceVersion');
  const rvMatch = ctx.query.get('resourceVersionMatch');
  let revision: number | undefined;
  let startKey: string | undefined;
  if (cont) {
    if (rvParam) throw badRequest('specifying resource version is not allowed when using continue');
    const t = parseContinue(cont);
    revision = t.rv;
    startKey = t.start;
  } else if (rvMatch === 'Exact') {
    if (!rvParam || rvParam === '0')
      throw badRequest('resourceVersionMatch "Exact" requires a non-zero resourceVersion');
    revision = Number(rvParam);
    if (!Number.isInteger(revision)) throw badRequest(`invalid resource version: ${rvParam}`);
  } else if (rvMatch && rvMatch !== 'NotOlderThan') {
    throw badRequest(`unsupported resourceVersionMatch: ${rvMatch}`);
  } else if (rvParam && rvParam !== '0' && !/^\d+$/.test(rvParam)) {
    throw badRequest(`invalid resource version: ${rvParam}`);
  }
  const fromCache = await listFromCache(ctx, match, limit, cont, rvParam, rvMatch, wantJson);
  if (fromCache) return fromCache.json ?? fromCache.obj!;
  const items: KubeObject[] = [];
  let more = false;
  let remaining = 0;
  let nextStart: string | undefined;
  let listRevision = 0;
  for (;;) {
    const want = limit ? limit - items.length : 0;
    let page: Awaited<ReturnType<typeof ctx.parts.objects.list>>;
    try {
      page = await ctx.parts.objects.list(ctx.def, ctx.namespace, { revision, limit: want, startKey });
    } catch (e) {
      if (e instanceof StatusError && e.code === 410) {
        throw new StatusError(
          'Expired',
          cont
            ? 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.'
            : `The resourceVersion for the provided list is too old.`,
        );
      }
      throw e;
    }
    listRevision = page.revision;
    revision = page.revision;
    for (const { obj } of page.items) if (!match || match(obj)) items.push(obj);
    more = page.more;
    remaining = page.remaining;
    if (page.lastKey) nextStart = `${page.lastKey}\u0000`;
    if (!more || !limit || items.length >= limit) break;
    startKey = nextStart;
  }
  const metadata: Record<string, unknown> = { resourceVersion: String(listRevision) };
  if (more && nextStart) {
    metadata.continue = Buffer.from(
      JSON.stringify({ v: 'meta.k8s.io/v1', rv: listRevision, start: nextStart }),
    ).toString('base64url');
    if (!match) metadata.remainingItemCount = remaining;
  }
  return { kind: ctx.def.listKind, apiVersion: apiVersionOf(ctx.def), metadata, items };
}

export async function list(ctx: Ctx): Promise<void> {
  const form = ctx.form();
  const plain = form.codec === 'json' && !form.table && !form.partial;
  const out = await listObjects(ctx, plain);
  if (typeof out === 'string') {
    writeBody(ctx.res, 200, 'application/json', out, ctx.warnings);
    return;
  }
  ctx.send(200, out);
}
