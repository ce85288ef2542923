/**
 * A `fetch` for registries behind the cluster's own CA: Node's global fetch cannot be given a CA
 * or a client certificate per request, so this speaks HTTPS through `node:https` with them and
 * answers a standard `Response`. Plain `http:` URLs go through the same code without TLS.
 */
import https from 'node:https';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

// Not `import http from 'node:http'`: Node 24 builds that import's namespace by reading every
// export, and its lazy WebSocket exports load undici (with http2 and zlib) into every process.
const http = process.getBuiltinModule('node:http');

export interface TlsOptions {
  /** PEM of the CA(s) to trust instead of the system roots */
  ca?: string;
  /** PEM client certificate and key, for registries that want mTLS (pushes to the cluster registry) */
  cert?: string;
  key?: string;
}

export type FetchLike = (url: string | URL, init?: RequestInit & { duplex?: 'half' }) => Promise<Response>;

const NO_BODY = new Set([101, 204, 205, 304]);

/** A fetch-compatible function that trusts `tls.ca` and presents `tls.cert`/`tls.key`. */
export function tlsFetch(tls: TlsOptions): FetchLike {
  const agent = new https.Agent({ keepAlive: false, ca: tls.ca, cert: tls.cert, key: tls.key });
  return (input, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(String(input));
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((v, k) => {
        headers[k] = v;
      });
      const body = init.body;
      let payload: Buffer | Readable | undefined;
      if (typeof body === 'string' || Buffer.isBuffer(body) || body instanceof Uint8Array) {
        payload = Buffer.from(body as Uint8Array);
        headers['content-length'] ??= String(payload.length);
      } else if (body) {
        payload = Readable.fromWeb(body as WebReadableStream);
      } else if (init.method && init.method !== 'GET' && init.method !== 'HEAD') {
        headers['content-length'] ??= '0';
      }
      const mod = url.protocol === 'https:' ? https : http;
      const req = mod.request(
        url,
        { method: init.method ?? 'GET', headers, agent: url.protocol === 'https:' ? agent : undefined },
        (res) => {
          const status = res.statusCode ?? 500;
          const out = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            if (Array.isArray(v)) for (const x of v) out.append(k, x);
            else if (v !== undefined) out.set(k, v);
          }
          const empty = NO_BODY.has(status) || init.method === 'HEAD';
          if (empty) res.resume();
          resolve(
            new Response(empty ? null : (Readable.toWeb(res) as unknown as ReadableStream), {
              status,
              statusText: res.statusMessage,
              headers: out,
            }),
          );
        },
      );
      req.on('error', reject);
      init.signal?.addEventListener('abort', () => req.destroy(new Error('aborted')), { once: true });
      if (payload instanceof Readable) {
        payload.on('error', (e) => req.destroy(e));
        payload.pipe(req);
      } else req.end(payload);
    });
}
