/**
 * A client of the Kubernetes REST API for any group/version/resource, namespaced or not.
 *
 * Objects travel as plain JSON; answers that are not 2xx become `StatusError`s built from the
 * server's `Status` body (so `isReason(e, 'NotFound')` works as it does server-side). A watch
 * is an async iterable of events parsed line by line from the chunked response; aborting its
 * signal closes the connection.
 *
 *   const client = await RestClient.fromKubeconfig('/var/lib/skiff/admin.kubeconfig');
 *   const pod = await client.get(PODS, 'web', { namespace: 'default' });
 *   for await (const ev of client.watch(PODS, { resourceVersion: '0', signal })) ...
 */
import type { Agent as HttpAgent, IncomingMessage } from 'node:http';
import https from 'node:https';
import { StringDecoder } from 'node:string_decoder';
import { STATUS_CODES, StatusError, type StatusReason } from '../api/errors.ts';
import type { KubeObject } from '../api/resource.ts';
import { type Answer, InProcessTransport } from './in-process.ts';
import type { ListResult, ListWatcher, WatchEvent } from './informer.ts';
import { type RestConfig, restConfigFromKubeconfig } from './kubeconfig.ts';
import type { LeaseClient } from './leader-election.ts';

// Not `import http from 'node:http'`: Node 24 builds that import's namespace by reading every
// export, and its lazy WebSocket exports load undici (with http2 and zlib) into every process.
const http = process.getBuiltinModule('node:http');

/** A resource: `{group: 'apps', version: 'v1', resource: 'deployments'}`; group '' is core. */
export interface GroupVersionResource {
  group: string;
  version: string;
  resource: string;
}

export const PODS: GroupVersionResource = { group: '', version: 'v1', resource: 'pods' };
export const NODES: GroupVersionResource = { group: '', version: 'v1', resource: 'nodes' };
export const EVENTS: GroupVersionResource = { group: '', version: 'v1', resource: 'events' };
export const LEASES: GroupVersionResource = {
  group: 'coordination.k8s.io',
  version: 'v1',
  resource: 'leases',
};

export interface ObjectOptions {
  /** Omit for cluster-scoped resources; for create/update it defaults to the object's namespace. */
  namespace?: string;
  signal?: AbortSignal;
}

export interface WriteOptions extends ObjectOptions {
  fieldManager?: string;
  dryRun?: boolean;
}

export interface ListQuery extends ObjectOptions {
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  limit?: number;
  continue?: string;
}

export interface WatchQuery extends ObjectOptions {
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
}

export type PatchType = 'merge' | 'strategic' | 'json' | 'apply';

export interface PatchOptions extends WriteOptions {
  type: PatchType;
  /** Server-side apply only: take over conflicting fields. */
  force?: boolean;
  subresource?: string;
}

export interface DeleteOptions extends ObjectOptions {
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

const PATCH_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
};

interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
}

/** The path of a collection or, with `name`, of one object (and its `subresource`). */
export function resourcePath(
  gvr: GroupVersionResource,
  namespace?: string,
  name?: string,
  subresource?: string,
): string {
  let p = gvr.group ? `/apis/${gvr.group}/${gvr.version}` : `/api/${gvr.version}`;
  if (namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
  p += `/${gvr.resource}`;
  if (name !== undefined) p += `/${encodeURIComponent(name)}`;
  if (subresource) p += `/${subresource}`;
  return p;
}

function reasonForCode(code: number): StatusReason {
  for (const [r, c] of Object.entries(STATUS_CODES)) if (c === code) return r as StatusReason;
  return code >= 500 ? 'InternalError' : 'BadRequest';
}

/** A StatusError from a non-2xx answer: the Status body's reason and message when there is one. */
export function statusErrorFrom(code: number, body: string): StatusError {
  let status: any;
  try {
    status = JSON.parse(body);
  } catch {}
  if (status?.kind === 'Status') {
    const reason = (
      status.reason in STATUS_CODES ? status.reason : reasonForCode(status.code ?? code)
    ) as StatusReason;
    const err = new StatusError(reason, status.message ?? `the server answered ${code}`, status.details);
    // keep the code the server sent (e.g. a 410 Gone vs Expired both stay 410)
    if (err.code !== (status.code ?? code))
      Object.defineProperty(err, 'code', { value: status.code ?? code });
    return err;
  }
  return new StatusError(reasonForCode(code), body.trim() || `the server answered ${code}`);
}

/** A response's body as text (listeners, not an async iterator: cheaper per request). */
function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.once('error', reject);
    res.once('end', () =>
      resolve(chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8')),
    );
    res.once('close', () => {
      if (!res.complete) reject(new Error('aborted'));
    });
  });
}

/** A node:http answer as an Answer. */
function nodeAnswer(res: IncomingMessage): Answer {
  return { status: res.statusCode ?? 0, text: () => readAll(res), chunks: () => res };
}

/** `a=1&b=x` of the values given (undefined and empty ones left out). */
function queryString(query: RequestOptions['query']): string {
  if (!query) return '';
  const qs = new URLSearchParams();
  for (const k in query) {
    const v = query[k];
    if (v !== undefined && v !== '') qs.set(k, String(v));
  }
  return qs.toString();
}

export class RestClient {
  readonly config: RestConfig;
  #agent: HttpAgent | undefined;
  #inProcess: InProcessTransport | undefined;
  #url: URL;
  #hostname: string;
  #base: string;
  #mod: typeof https | typeof http;

  constructor(config: RestConfig) {
    this.config = config;
    this.#url = new URL(config.server);
    this.#hostname = this.#url.hostname.replace(/^\[|\]$/g, '');
    this.#base = this.#url.pathname.replace(/\/$/, '');
    const tls = this.#url.protocol === 'https:';
    this.#mod = tls ? https : http;
    // After a burst of requests at most 25 idle connections stay open (client-go's
    // MaxIdleConnsPerHost), not all of them: ~100 KB of TLS buffers each.
    const keep = { keepAlive: true, maxFreeSockets: 25 };
    if (config.connect) this.#inProcess = new InProcessTransport(config.connect, this.#url.host);
    else if (tls)
      this.#agent = new https.Agent({
        ...keep,
        ca: config.ca,
        cert: config.cert,
        key: config.key,
        rejectUnauthorized: !config.insecureSkipTLSVerify,
      });
    else this.#agent = new http.Agent(keep);
  }

  static async fromKubeconfig(path: string, context?: string): Promise<RestClient> {
    return new RestClient(await restConfigFromKubeconfig(path, context));
  }

  /** Close its connections. */
  close(): void {
    this.#agent?.destroy();
    this.#inProcess?.close();
  }

  #open(method: string, path: string, o: RequestOptions, accept = 'application/json'): Promise<Answer> {
    const q = queryString(o.query);
    const target = this.#base + path + (q ? `?${q}` : '');
    if (this.#inProcess) {
      let headers = `accept: ${accept}\r\n`;
      if (this.config.token) headers += `authorization: Bearer ${this.config.token}\r\n`;
      if (this.config.userAgent) headers += `user-agent: ${this.config.userAgent}\r\n`;
      let payload: Buffer | undefined;
      if (o.body !== undefined) {
        payload = Buffer.from(typeof o.body === 'string' ? o.body : JSON.stringify(o.body));
        headers += `content-type: ${o.contentType ?? 'application/json'}\r\n`;
      }
      return this.#inProcess.request(method, target, headers, payload, o.signal);
    }
    const headers: Record<string, string> = { accept };
    if (this.config.token) headers.authorization = `Bearer ${this.config.token}`;
    if (this.config.userAgent) headers['user-agent'] = this.config.userAgent;
    let payload: Buffer | undefined;
    if (o.body !== undefined) {
      payload = Buffer.from(typeof o.body === 'string' ? o.body : JSON.stringify(o.body));
      headers['content-type'] = o.contentType ?? 'application/json';
      headers['content-length'] = String(payload.length);
    }
    return new Promise((resolve, reject) => {
      const req = this.#mod.request(
        {
          protocol: this.#url.protocol,
          hostname: this.#hostname,
          port: this.#url.port,
          path: target,
          method,
          headers,
          agent: this.#agent,
          signal: o.signal,
        },
        (res) => resolve(nodeAnswer(res)),
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Send a request and decode the JSON answer; non-2xx throws StatusError. */
  async request<T = any>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const res = await this.#open(method, path, o);
    const text = await res.text();
    const code = res.status;
    if (code < 200 || code > 299) throw statusErrorFrom(code, text);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  get<T extends KubeObject = KubeObject>(
    gvr: GroupVersionResource,
    name: string,
    o: ObjectOptions = {},
  ): Promise<T> {
    return this.request('GET', resourcePath(gvr, o.namespace, name), { signal: o.signal });
  }

  list<T extends KubeObject = KubeObject>(
    gvr: GroupVersionResource,
    o: ListQuery = {},
  ): Promise<ListResult<T>> {
    return this.request('GET', resourcePath(gvr, o.namespace), {
      signal: o.signal,
      query: {
        labelSelector: o.labelSelector,
        fieldSelector: o.fieldSelector,
        resourceVersion: o.resourceVersion,
        limit: o.limit,
        continue: o.continue,
      },
    });
  }

  create<T extends KubeObject>(gvr: GroupVersionResource, obj: T, o: WriteOptions = {}): Promise<T> {
    return this.request('POST', resourcePath(gvr, o.namespace ?? obj.metadata?.namespace), {
      body: obj,
      signal: o.signal,
      query: writeQuery(o),
    });
  }

  update<T extends KubeObject>(gvr: GroupVersionResource, obj: T, o: WriteOptions = {}): Promise<T> {
    const path = resourcePath(gvr, o.namespace ?? obj.metadata?.namespace, obj.metadata?.name ?? '');
    return this.request('PUT', path, { body: obj, signal: o.signal, query: writeQuery(o) });
  }

  updateStatus<T extends KubeObject>(gvr: GroupVersionResource, obj: T, o: WriteOptions = {}): Promise<T> {
    const path = resourcePath(
      gvr,
      o.namespace ?? obj.metadata?.namespace,
      obj.metadata?.name ?? '',
      'status',
    );
    return this.request('PUT', path, { body: obj, signal: o.signal, query: writeQuery(o) });
  }

  /** Patch; `apply` (server-side apply) needs `fieldManager`. */
  patch<T extends KubeObject = KubeObject>(
    gvr: GroupVersionResource,
    name: string,
    patch: unknown,
    o: PatchOptions,
  ): Promise<T> {
    if (o.type === 'apply' && !o.fieldManager) throw new Error('server-side apply needs a fieldManager');
    return this.request('PATCH', resourcePath(gvr, o.namespace, name, o.subresource), {
      body: patch,
      contentType: PATCH_TYPES[o.type],
      signal: o.signal,
      query: { ...writeQuery(o), force: o.type === 'apply' && o.force ? true : undefined },
    });
  }

  /** Delete; resolves to the object (when it lingers for finalizers) or the success Status. */
  delete(gvr: GroupVersionResource, name: string, o: DeleteOptions = {}): Promise<KubeObject> {
    const body: Record<string, unknown> = { kind: 'DeleteOptions', apiVersion: 'v1' };
    if (o.propagationPolicy) body.propagationPolicy = o.propagationPolicy;
    if (o.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = o.gracePeriodSeconds;
    if (o.preconditions) body.preconditions = o.preconditions;
    if (o.dryRun) body.dryRun = ['All'];
    return this.request('DELETE', resourcePath(gvr, o.namespace, name), { body, signal: o.signal });
  }

  /** Watch a collection; ends when the server closes the stream, throws StatusError on a non-2xx answer. */
  async *watch(gvr: GroupVersionResource, o: WatchQuery = {}): AsyncIterable<WatchEvent> {
    const ac = new AbortController();
    const onAbort = () => ac.abort();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      let res: Answer;
      try {
        res = await this.#open('GET', resourcePath(gvr, o.namespace), {
          signal: ac.signal,
          query: {
            watch: 1,
            resourceVersion: o.resourceVersion,
            allowWatchBookmarks: o.allowWatchBookmarks ? true : undefined,
            labelSelector: o.labelSelector,
            fieldSelector: o.fieldSelector,
            timeoutSeconds: o.timeoutSeconds,
          },
        });
      } catch (e) {
        if (o.signal?.aborted) return;
        throw e;
      }
      const code = res.status;
      if (code < 200 || code > 299) throw statusErrorFrom(code, await res.text());
      // a character may be split between chunks
      const utf8 = new StringDecoder('utf8');
      let buf = '';
      try {
        for await (const chunk of res.chunks()) {
          buf += utf8.write(chunk as Buffer);
          let nl = buf.indexOf('\n');
          while (nl >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (line) yield JSON.parse(line) as WatchEvent;
            nl = buf.indexOf('\n');
          }
        }
      } catch (e) {
        if (o.signal?.aborted) return;
        // a connection cut mid-stream is a dropped watch: the caller resumes from its resourceVersion
        if ((e as NodeJS.ErrnoException).code === 'ECONNRESET' || (e as Error).message === 'aborted') return;
        throw e;
      }
      if (buf.trim()) yield JSON.parse(buf) as WatchEvent;
    } finally {
      o.signal?.removeEventListener('abort', onAbort);
      ac.abort();
    }
  }
}

function writeQuery(o: WriteOptions): Record<string, string | undefined> {
  return { fieldManager: o.fieldManager, dryRun: o.dryRun ? 'All' : undefined };
}

export interface ListWatchSelector {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

/** A ListWatcher for a SharedInformer over one resource (optionally one namespace and selectors). */
export function listWatcherFor<T extends KubeObject = KubeObject>(
  client: RestClient,
  gvr: GroupVersionResource,
  sel: ListWatchSelector = {},
): ListWatcher<T> {
  return {
    list: (opts) => client.list<T>(gvr, { ...sel, ...opts }),
    watch: (opts) =>
      client.watch(gvr, {
        ...sel,
        resourceVersion: opts.resourceVersion,
        allowWatchBookmarks: opts.allowWatchBookmarks,
        signal: opts.signal,
      }),
  };
}

/** The LeaseClient leader election needs, over the REST API. */
export function leaseClientFor(client: RestClient): LeaseClient {
  return {
    async get(namespace, name) {
      try {
        return (await client.get(LEASES, name, { namespace })) as any;
      } catch (e) {
        if (e instanceof StatusError && e.reason === 'NotFound') return undefined;
        throw e;
      }
    },
    create: (lease) => client.create(LEASES, lease as KubeObject) as any,
    update: (lease) => client.update(LEASES, lease as KubeObject) as any,
  };
}
