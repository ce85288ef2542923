/**
 * The kubelet's own HTTP(S) endpoint, which the API server proxies `pods/log` to:
 *
 *   GET /healthz                                    → ok
 *   GET /pods                                       → the PodList of pods bound to this node
 *   GET /containerLogs/{namespace}/{pod}/{container}?follow=true&previous=true&tailLines=N
 *        &sinceSeconds=N&sinceTime=RFC3339&timestamps=true&limitBytes=N
 *                                                  → the container's log as text/plain
 *
 * Errors are Kubernetes `Status` objects (404 for an unknown pod or container, 400 for a
 * malformed query).
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { CriClient } from '../cri/index.ts';
import { CONTAINER_NAME, POD_UID } from './labels.ts';
import { type LogOptions, streamLog } from './logs.ts';

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
  /** serve HTTPS with this certificate and key (PEM) */
  tls?: { cert: string; key: string; ca?: string };
}

export interface KubeletServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

function status(res: http.ServerResponse, code: number, reason: string, message: string): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      code,
    }),
  );
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name}: must be a non-negative integer`);
  return n;
}

const truthy = (v: string | null) => v !== null && v !== 'false' && v !== '0';

async function containerLogs(
  o: KubeletServerOptions,
  req: http.IncomingMessage,
  res: http.ServerResponse,
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
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://kubelet');
    const parts = url.pathname.split('/').filter(Boolean);
    const done = (p: Promise<void> | void) =>
      Promise.resolve(p).catch((e) => {
        if (!res.headersSent) status(res, 500, 'InternalError', (e as Error).message);
        else res.end();
      });
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
    ? https.createServer({ cert: o.tls.cert, key: o.tls.key, ca: o.tls.ca }, handler)
    : http.createServer(handler);
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
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
