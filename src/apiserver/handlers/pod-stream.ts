/**
 * `pods/{name}/exec`, `attach` and `portforward` over WebSocket: the API server authenticates and
 * authorizes the upgrade, opens the same upgrade to the pod's node agent offering the client's
 * sub-protocols (`v5.channel.k8s.io`, `v4.channel.k8s.io`, `portforward.k8s.io`, ...), answers the
 * client with the one the agent chose and relays every frame both ways untouched, so stream
 * channels, the exit Status (channel 3) and the v5 close signal pass through.
 *
 * kubectl's port-forward speaks SPDY instead (tunnelled in a WebSocket, or a plain SPDY/3.1
 * upgrade): the API server ends that session itself and opens one agent WebSocket per forwarded
 * connection (see ../streaming/port-forward.ts).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { StatusError } from '../../api/errors.ts';
import type { ServerParts, User } from '../context.ts';
import { parseResourcePath } from '../request-info.ts';
import { CHANNEL_PROTOCOL } from '../streaming/port-forward.ts';
import { acceptPortForward, spdyUpgradeKind, tunnelWebSocketServer } from '../streaming/upgrade.ts';
import { STREAM_SUBRESOURCES } from './connect.ts';
import { kubeletTarget } from './kubelet.ts';

type Authenticate = (req: IncomingMessage) => User | undefined;

const KUBELET_PATH: Record<string, string> = { exec: 'exec', attach: 'attach', portforward: 'portForward' };

/** An `upgrade` listener for the API server's HTTPS server. */
export function podStreamUpgrade(parts: ServerParts, authenticate: Authenticate) {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const tunnel = tunnelWebSocketServer();
  return (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    upgrade(parts, authenticate, { wss, tunnel }, req, socket, head).catch((e) => refuse(socket, e));
  };
}

async function upgrade(
  parts: ServerParts,
  authenticate: Authenticate,
  { wss, tunnel }: { wss: WebSocketServer; tunnel: WebSocketServer },
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://localhost');
  const path = url.pathname.replace(/\/+$/, '');
  let user = authenticate(req) ?? (parts.auth && (await parts.auth.authenticateBearer(req)));
  if (!user) throw new StatusError('Unauthorized', 'Unauthorized');
  const info = parseResourcePath(path);
  if (info?.group !== '' || info.resource !== 'pods' || !info.name || !info.namespace) {
    throw new StatusError('NotFound', 'the server could not find the requested resource');
  }
  if (!STREAM_SUBRESOURCES.includes(info.subresource ?? '')) {
    throw new StatusError(
      'BadRequest',
      `upgrade is not supported for ${info.resource}/${info.subresource ?? ''}`,
    );
  }
  if (parts.auth) user = await parts.auth.admit(req, user, req.method ?? 'GET', path, url.searchParams);
  const opts = parts.kubelet ?? {};
  const sub = info.subresource!;
  const t = await kubeletTarget(
    parts.objects,
    parts.registry,
    info.namespace,
    info.name,
    sub === 'portforward' ? false : url.searchParams.get('container'),
    opts.https,
  );
  const q = new URLSearchParams(url.searchParams);
  q.delete('container');
  const segs = [info.namespace, info.name, ...(t.container ? [t.container] : [])].map(encodeURIComponent);
  const target = `${t.base.replace(/^http/, 'ws')}/${KUBELET_PATH[sub]}/${segs.join('/')}`;
  const dialOptions = {
    headers: opts.token ? { Authorization: `Bearer ${opts.token}` } : {},
    cert: opts.cert,
    key: opts.key,
    ca: opts.ca,
    perMessageDeflate: false,
  };
  const spdy = spdyUpgradeKind(req);
  if (spdy) {
    if (sub !== 'portforward') {
      throw new StatusError('BadRequest', `${sub} is served over WebSockets (v5.channel.k8s.io), not SPDY`);
    }
    acceptPortForward(spdy, tunnel, req, socket, head, (port) => {
      const pq = new URLSearchParams(q);
      pq.delete('port');
      pq.append('port', String(port));
      return new WebSocket(`${target}?${pq}`, [CHANNEL_PROTOCOL], dialOptions);
    });
    return;
  }
  const offered = (req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const upstream = new WebSocket(`${target}?${q}`, offered, dialOptions);
  // The agent may speak first (exec output, the exit Status) before the client's side is up: keep it.
  const early: [RawData, boolean][] = [];
  let upstreamClosed: [number, Buffer] | undefined;
  const hold = (data: RawData, binary: boolean) => early.push([data, binary]);
  const holdClose = (code: number, reason: Buffer) => {
    upstreamClosed = [code, reason];
  };
  upstream.on('message', hold);
  upstream.on('close', holdClose);
  await new Promise<void>((resolve, reject) => {
    upstream.once('open', () => resolve());
    upstream.once('unexpected-response', (_r, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        reject(new Relayed(res.statusCode ?? 502, res.headers['content-type'], Buffer.concat(chunks))),
      );
    });
    upstream.once('error', (e) =>
      reject(new StatusError('InternalError', `error dialing backend: ${e.message}`)),
    );
  });
  wss.options.handleProtocols = () => upstream.protocol || false;
  wss.handleUpgrade(req, socket, head, (client) => {
    upstream.off('message', hold);
    upstream.off('close', holdClose);
    for (const [data, binary] of early) client.send(data, { binary });
    relay(client, upstream, upstreamClosed);
  });
}

/** Frames both ways, binary stays binary; a close on one side closes the other with its code. */
function relay(client: WebSocket, upstream: WebSocket, closed?: [number, Buffer]): void {
  client.on(
    'message',
    (data, binary) => upstream.readyState === WebSocket.OPEN && upstream.send(data, { binary }),
  );
  upstream.on(
    'message',
    (data, binary) => client.readyState === WebSocket.OPEN && client.send(data, { binary }),
  );
  const closeCode = (c: number) => (c >= 1000 && c < 5000 && c !== 1005 && c !== 1006 ? c : 1000);
  client.on('close', (code, reason) => {
    if (upstream.readyState <= WebSocket.OPEN) upstream.close(closeCode(code), reason);
  });
  upstream.on('close', (code, reason) => {
    if (client.readyState <= WebSocket.OPEN) client.close(closeCode(code), reason);
  });
  if (closed) client.close(closeCode(closed[0]), closed[1]);
  client.on('error', () => upstream.terminate());
  upstream.on('error', () => client.terminate());
}

/** The agent's own HTTP answer to a refused upgrade, passed on as it was. */
class Relayed extends Error {
  readonly code: number;
  readonly type: string | undefined;
  readonly body: Buffer;
  constructor(code: number, type: string | undefined, body: Buffer) {
    super(`upstream answered ${code}`);
    this.code = code;
    this.type = type;
    this.body = body;
  }
}

function refuse(socket: Duplex, e: unknown): void {
  let code: number;
  let type: string;
  let body: Buffer;
  if (e instanceof Relayed) {
    code = e.code;
    type = e.type ?? 'text/plain';
    body = e.body;
  } else {
    const err =
      e instanceof StatusError
        ? e
        : new StatusError('InternalError', `Internal error occurred: ${(e as Error)?.message}`);
    code = err.code;
    type = 'application/json';
    body = Buffer.from(JSON.stringify(err.toStatus()));
  }
  if (!socket.writable) return;
  socket.end(
    `HTTP/1.1 ${code} ${code === 403 ? 'Forbidden' : code === 404 ? 'Not Found' : code === 400 ? 'Bad Request' : 'Error'}\r\n` +
      `Content-Type: ${type}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.toString()}`,
  );
}
