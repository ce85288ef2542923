import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { deleteBlob, getBlob } from './blobs.ts';
import { NAME_RE } from './distribution.ts';
import { RegistryError } from './errors.ts';
import { type Ctx, type Handler, send, sendError, sendJSON } from './http.ts';
import { listCatalog, listReferrers, listTags } from './listings.ts';
import { deleteManifest, getManifest, putManifest } from './manifests.ts';
import { Storage } from './storage.ts';
import { cancelUpload, getUpload, patchUpload, putUpload, startUpload } from './uploads.ts';

// Not `import http from 'node:http'`: Node 24 builds that import's namespace by reading every
// export, and its lazy WebSocket exports load undici (with http2 and zlib) into every process.
const { createServer } = process.getBuiltinModule('node:http');

/** Routes in match order: the repository name is everything before the route's own suffix. */
const ROUTES: { path: RegExp; methods: Record<string, Handler> }[] = [
  { path: /^(.+)\/blobs\/uploads\/?$/, methods: { POST: startUpload } },
  {
    path: /^(.+)\/blobs\/uploads\/([^/]+)$/,
    methods: { PATCH: patchUpload, PUT: putUpload, GET: getUpload, DELETE: cancelUpload },
  },
  { path: /^(.+)\/blobs\/([^/]+)$/, methods: { GET: getBlob, HEAD: getBlob, DELETE: deleteBlob } },
  {
    path: /^(.+)\/manifests\/([^/]+)$/,
    methods: { GET: getManifest, HEAD: getManifest, PUT: putManifest, DELETE: deleteManifest },
  },
  { path: /^(.+)\/tags\/list$/, methods: { GET: listTags } },
  { path: /^(.+)\/referrers\/([^/]+)$/, methods: { GET: listReferrers } },
];

async function handle(storage: Storage, req: IncomingMessage, res: ServerResponse): Promise<void> {
  res.setHeader('Docker-Distribution-API-Version', 'registry/2.0');
  const url = new URL(req.url ?? '/', 'http://registry');
  if (url.pathname === '/v2/' || url.pathname === '/v2') {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      throw new RegistryError('UNSUPPORTED', 'method not allowed', undefined, 405);
    sendJSON(res, 200, {});
    return;
  }
  if (url.pathname === '/v2/_catalog') {
    if (req.method !== 'GET') throw new RegistryError('UNSUPPORTED', 'method not allowed', undefined, 405);
    await listCatalog({ storage, req, res, url });
    return;
  }
  if (!url.pathname.startsWith('/v2/'))
    throw new RegistryError('UNSUPPORTED', `no such endpoint ${url.pathname}`, undefined, 404);
  const rest = url.pathname.slice(4);
  for (const route of ROUTES) {
    const m = route.path.exec(rest);
    if (!m) continue;
    const name = decodeURIComponent(m[1]);
    if (!NAME_RE.test(name) || name.length > 255) {
      throw new RegistryError('NAME_INVALID', `invalid repository name ${JSON.stringify(name)}`, { name });
    }
    const handler = route.methods[req.method ?? ''];
    if (!handler) {
      res.setHeader('Allow', Object.keys(route.methods).join(', '));
      throw new RegistryError('UNSUPPORTED', `${req.method} not allowed here`, undefined, 405);
    }
    const ctx: Ctx = { storage, req, res, url, name, ref: decodeURIComponent(m[2] ?? '') };
    await handler(ctx);
    return;
  }
  throw new RegistryError('UNSUPPORTED', `no such endpoint ${url.pathname}`, undefined, 404);
}

/**
 * The registry as a request listener over `storage`, for an HTTP or HTTPS server. `gate` runs
 * first and may refuse the request by throwing a RegistryError (the cluster registry's push rule).
 */
export function registryListener(
  storage: Storage,
  gate?: (req: IncomingMessage) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    (async () => {
      gate?.(req);
      await handle(storage, req, res);
    })().catch((e: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (e instanceof RegistryError) {
        sendError(res, e, req.method === 'HEAD');
        return;
      }
      const body = JSON.stringify({
        errors: [{ code: 'UNKNOWN', message: (e as Error)?.message ?? String(e) }],
      });
      send(res, 500, { 'Content-Type': 'application/json' }, body);
    });
  };
}

export interface RegistryOptions {
  /** Directory for blobs, manifests, tags and uploads; created if missing. */
  root: string;
  /** 0 (any free port) by default. */
  port?: number;
  /** 127.0.0.1 by default. */
  host?: string;
}

export interface RunningRegistry {
  /** `http://host:port`, for clients. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * An OCI distribution registry over plain HTTP, storing everything under `root`.
 *
 *   const reg = await startRegistry({ root: '/var/lib/skiff/registry' });
 *   // skopeo copy --dest-tls-verify=false oci:dir:tag docker://127.0.0.1:${reg.port}/app:tag
 *   await reg.close();
 */
export async function startRegistry(opts: RegistryOptions): Promise<RunningRegistry> {
  const storage = new Storage(opts.root);
  await storage.init();
  const server = createServer(registryListener(storage));
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
