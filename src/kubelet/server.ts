/**
 * The kubelet's own HTTP(S) endpoint, which the API server proxies `pods/log` to:
 *
 *   GET /healthz                                    → ok
 *   GET /pods                                       → the PodList of pods bound to this node
 *   GET /containerLogs/{namespace}/{pod}/{container}?follow=true&previous=true&tailLines=N
 *        &sinceSeconds=N&sinceTime=RFC3339&timestamps=true&limitBytes=N
 *                                                  → the container's log as text/plain
 *
 *   GET /exec/{namespace}/{pod}/{container}?command=..&stdin=1&stdout=1&stderr=1&tty=1
 *   GET /attach/{namespace}/{pod}/{container}?stdin=1&stdout=1&stderr=1&tty=1
 *   GET /portForward/{namespace}/{pod}?port=N&port=M
 *                                                  → WebSocket upgrades proxied to the runtime's
 *                                                    streaming server (see streaming.ts for the
 *                                                    sub-protocols and framing)
 *
 * Errors are Kubernetes `Status` objects (404 for an unknown pod or container, 400 for a
 * malformed query, 401 when authentication is required and missing).
 *
 * Authentication (`auth`): when set, every path but /healthz needs either
 * `Authorization: Bearer <one of auth.tokens>` or a client certificate signed by `tls.ca`
 * (TLS only), optionally restricted to the common names in `auth.clientNames` (e.g.
 * `kube-apiserver-kubelet-client`). Without `auth` anyone who can reach the address is trusted,
 * which is why the default address is 127.0.0.1.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { WebSocket } from 'ws';
import type { CriClient } from '../cri/index.ts';
import { CONTAINER_NAME, POD_UID } from './labels.ts';
import { type LogOptions, streamLog } from './logs.ts';
import { proxyStream, runtimeStreamUrl, StreamError, streamingWebSocketServer } from './streaming.ts';

// Not `import http from 'node:http'`: Node 24 builds that import's namespace by reading every
// export, and its lazy WebSocket exports load undici (with http2 and zlib) into every process.
const http = process.getBuiltinModule('node:http');

type Json = Record<string, any>;

export interface KubeletServerOptions {
  cri: CriClient;
  /** the pod as the agent knows it */
  getPod(namespace: string, name: string): Json | undefined;
  listPods(): Json[];
  /** default 127.0.0.1; the CLI passes 0.0.0.0 */
  host?: string;
  /** 0 picks a free port (default 10250) */
  port?: number;
  /** serve HTTPS with this certificate and key (PEM); `ca` verifies client certificates */
  tls?: { cert: string; key: string; ca?: string };
  /** require authentication (see above) */
  auth?: KubeletAuth;
}

/** Who may use the kubelet server: bearer tokens, or client certificates signed by `tls.ca`. */
export interface KubeletAuth {
  tokens?: string[];
  /** accept only client certificates with these subject common names (default: any `tls.ca` signed) */
  clientNames?: string[];
}

/** Whether the request carries an accepted token or client certificate. */
function authenticated(o: KubeletServerOptions, req: IncomingMessage): boolean {
  const auth = o.auth;
  if (!auth) return true;
  const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  if (m && (auth.tokens ?? []).includes(m[1])) return true;
  const sock = req.socket as TLSSocket;
  if (o.tls?.ca && sock.encrypted && sock.authorized) {
    const cn = sock.getPeerCertificate()?.subject?.CN;
    const name = Array.isArray(cn) ? cn[0] : cn;
    return !auth.clientNames || (!!name && auth.clientNames.includes(name));
  }
  return false;
}

export interface KubeletServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

function statusBody(code: number, reason: string, message: string): string {
  return JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
  });
}

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(statusBody(code, reason, message));
}

/** An HTTP error on a socket that asked for an upgrade. */
function refuseUpgrade(socket: Duplex, code: number, reason: string, message: string): void {
  const body = statusBody(code, reason, message);
  socket.end(
    `HTTP/1.1 ${code} ${http.STATUS_CODES[code] ?? 'Error'}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name}: must be a non-negative integer`);
  return n;
}

const STREAM_VERBS = new Set(['exec', 'attach', 'portForward']);

const truthy = (v: string | null) => v !== null && v !== 'false' && v !== '0';

async function containerLogs(
  o: KubeletServerOptions,
  req: IncomingMessage,
  res: ServerResponse,
  parts: string[],
  q: URLSearchParams,
) {
  const [ns, name, container] = parts.map(decodeURIComponent);
  const pod = o.getPod(ns, name);
  if (!pod) return status(res, 404, 'NotFound', `pods "${name}" not found`);
  let opts: LogOptions;
  try {
    opts = {
      follow: truthy(q.get('follow')),
      timestamps: truthy(q.get('timestamps')),
      tailLines: intParam(q, 'tailLines'),
      sinceSeconds: intParam(q, 'sinceSeconds'),
      sinceTime: q.get('sinceTime') ?? undefined,
      limitBytes: intParam(q, 'limitBytes'),
    };
  } catch (e) {
    return status(res, 400, 'BadRequest', (e as Error).message);
  }
  const list = (
    await o.cri.listContainers({
      filter: { labelSelector: { [POD_UID]: pod.metadata.uid, [CONTAINER_NAME]: container } },
    })
  ).containers.sort(
    (a, b) => (b.metadata.attempt ?? 0) - (a.metadata.attempt ?? 0) || b.createdAt - a.createdAt,
  );
  const previous = truthy(q.get('previous'));
  const c = previous ? list[1] : list[0];
  if (!c) {
    const known = [...(pod.spec.containers ?? []), ...(pod.spec.initContainers ?? [])].some(
      (x: Json) => x.name === container,
    );
    if (!known) return status(res, 400, 'BadRequest', `container ${container} is not valid for pod ${name}`);
    if (previous)
      return status(
        res,
        400,
        'BadRequest',
        `previous terminated container "${container}" in pod "${name}" not found`,
      );
    return status(
      res,
      400,
      'BadRequest',
      `container "${container}" in pod "${name}" is waiting to start: ContainerCreating`,
    );
  }
  const st = (await o.cri.containerStatus({ containerId: c.id })).status;
  res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
  res.flushHeaders();
  const ac = new AbortController();
  req.on('close', () => ac.abort());
  res.on('close', () => ac.abort());
  const running = async () => {
    try {
      return (await o.cri.containerStatus({ containerId: c.id })).status.state === 'CONTAINER_RUNNING';
    } catch {
      return false;
    }
  };
  await streamLog(st.logPath, opts, (s) => res.write(s), running, ac.signal);
  res.end();
}

export async function serveKubelet(o: KubeletServerOptions): Promise<KubeletServer> {
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://kubelet');
    const parts = url.pathname.split('/').filter(Boolean);
    const done = (p: Promise<void> | void) =>
      Promise.resolve(p).catch((e) => {
        if (!res.headersSent) status(res, 500, 'InternalError', (e as Error).message);
        else res.end();
      });
    if (url.pathname !== '/healthz' && !authenticated(o, req))
      return status(res, 401, 'Unauthorized', 'Unauthorized');
    if (STREAM_VERBS.has(parts[0]))
      return status(res, 400, 'BadRequest', `${parts[0]} needs a WebSocket upgrade`);
    if (req.method !== 'GET') return status(res, 405, 'MethodNotAllowed', `${req.method} is not supported`);
    if (url.pathname === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end('ok');
    }
    if (url.pathname === '/pods') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(
        JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: o.listPods() }),
      );
    }
    if (parts[0] === 'containerLogs' && parts.length === 4)
      return void done(containerLogs(o, req, res, parts.slice(1), url.searchParams));
    status(res, 404, 'NotFound', `the server could not find the requested resource`);
  };
  const server = o.tls
    ? https.createServer(
        {
          cert: o.tls.cert,
          key: o.tls.key,
          ca: o.tls.ca,
          // ask for a client certificate; an unsigned one is refused by `authenticated`, not TLS
          requestCert: !!o.tls.ca,
          rejectUnauthorized: false,
        },
        handler,
      )
    : http.createServer(handler);
  const wss = streamingWebSocketServer();
  const sockets = new Set<WebSocket>();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    const url = new URL(req.url ?? '/', 'http://kubelet');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (!authenticated(o, req)) return refuseUpgrade(socket, 401, 'Unauthorized', 'Unauthorized');
    if (!STREAM_VERBS.has(parts[0]))
      return refuseUpgrade(socket, 404, 'NotFound', 'the server could not find the requested resource');
    void (async () => {
      try {
        const target = await runtimeStreamUrl(o, parts[0], parts.slice(1), url.searchParams, req.headers);
        await proxyStream(wss, req, socket, head, target, sockets);
      } catch (e) {
        if (e instanceof StreamError) refuseUpgrade(socket, e.code, e.reason, e.message);
        else refuseUpgrade(socket, 500, 'InternalError', (e as Error).message);
      }
    })();
  });
  const host = o.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 10250, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shown = host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    port,
    url: `${o.tls ? 'https' : 'http'}://${shown.includes(':') ? `[${shown}]` : shown}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of sockets) ws.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
