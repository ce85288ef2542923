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

/** One object of a list page: its key and the JSON text served for it. */
interface Entry {
  key: string;
  json: string;
}

/** Where a list reads its pages from, at one revision, in key order. */
interface Pages {
  /** The revision the list reads at (known once the first page is read). */
  revision: number;
  /** Up to `want` entries (0: all) after the previous page. */
  next(want: number): Promise<{ items: Entry[]; more: boolean; remaining: number }>;
}

/**
 * Pages from the watch cache's objects, or undefined when it cannot answer (it keeps no
 * objects, Exact, a continue token from another revision, a cache that could not catch up).
 */
async function cachePages(
  ctx: Ctx,
  cont: ContinueToken | undefined,
  rvParam: string | null,
  rvMatch: string | null,
): Promise<Pages | undefined> {
  const cache = ctx.parts.objects.cache;
  if (!cache || rvMatch === 'Exact') return undefined;
  if (cont && cont.rv !== cache.observed) return undefined;
  const freshness: Freshness = cont || rvParam === '0' ? 'any' : rvParam ? Number(rvParam) : 'consistent';
  const rc = await ctx.parts.objects.cached(ctx.def, freshness);
  if (!rc) return undefined;
  const keys = rc.keys(resourcePrefix(ctx.def, ctx.namespace), cont?.start);
  let at = 0;
  return {
    revision: cache.observed,
    async next(want) {
      const end = want ? Math.min(keys.length, at + want) : keys.length;
      const items: Entry[] = [];
      for (; at < end; at++) items.push({ key: keys[at], json: rc.get(keys[at])!.json });
      return { items, more: at < keys.length, remaining: keys.length - at };
    },
  };
}

/** Pages from the store, at `revision` (0: now, then the revision of the first page). */
function storePages(ctx: Ctx, revision: number, startKey: string | undefined): Pages {
  const pages: Pages = {
    revision,
    async next(want) {
      const page = await ctx.parts.objects.listJson(ctx.def, ctx.namespace, {
        revision: pages.revision,
        limit: want,
        startKey,
      });
      pages.revision = page.revision;
      if (page.items.length) startKey = `${page.items.at(-1)!.key}\u0000`;
      return page;
    },
  };
  return pages;
}

export async function listObjects(ctx: Ctx, wantJson = false): Promise<KubeObject | string> {
  const match = selectorOf(ctx);
  const limit = Math.max(0, Number(ctx.query.get('limit') ?? 0) || 0);
  const contParam = ctx.query.get('continue');
  const rvParam = ctx.query.get('resourceVersion');
  const rvMatch = ctx.query.get('resourceVersionMatch');
  let revision = 0;
  let cont: ContinueToken | undefined;
  if (contParam) {
    if (rvParam) throw badRequest('specifying resource version is not allowed when using continue');
    cont = parseContinue(contParam);
    revision = cont.rv;
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
  const pages = (await cachePages(ctx, cont, rvParam, rvMatch)) ?? storePages(ctx, revision, cont?.start);
  // Whole pages are read until `limit` objects match; the texts go out as they are when no
  // selector and no other form needs the parsed objects.
  const texts: string[] = [];
  const items: KubeObject[] = [];
  let more = false;
  let remaining = 0;
  let lastKey: string | undefined;
  for (;;) {
    const want = limit ? limit - texts.length - items.length : 0;
    let page: Awaited<ReturnType<Pages['next']>>;
    try {
      page = await pages.next(want);
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
    for (const e of page.items) {
      if (!match && wantJson) {
        texts.push(e.json);
        continue;
      }
      const obj = JSON.parse(e.json) as KubeObject;
      if (match && !match(obj)) continue;
      if (wantJson) texts.push(e.json);
      else items.push(obj);
    }
    more = page.more;
    remaining = page.remaining;
    if (page.items.length) lastKey = page.items.at(-1)!.key;
    if (!more || !limit || texts.length + items.length >= limit) break;
  }
  const metadata: Record<string, unknown> = { resourceVersion: String(pages.revision) };
  if (more && lastKey) {
    metadata.continue = Buffer.from(
      JSON.stringify({ v: 'meta.k8s.io/v1', rv: pages.revision, start: `${lastKey}\u0000` }),
    ).toString('base64url');
    if (!match) metadata.remainingItemCount = remaining;
  }
  const head = { kind: ctx.def.listKind, apiVersion: apiVersionOf(ctx.def), metadata };
  if (!wantJson) return { ...head, items };
  const h = JSON.stringify(head);
  return `${h.slice(0, -1)},"items":[${texts.join(',')}]}`;
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
