/**
 * The kubelet's streaming endpoints. Each is a WebSocket upgrade that the agent turns into a CRI
 * Exec, Attach or PortForward call, then proxies frame by frame to the URL the runtime answered
 * (Skiff's runtime or containerd), so the client talks to the runtime's streaming server through
 * the agent without either side knowing:
 *
 *   GET /exec/{namespace}/{pod}/{container}?command=sh&command=-c&command=...
 *        &stdin=1&stdout=1&stderr=1&tty=1              (also /exec/{ns}/{pod}/{uid}/{container})
 *   GET /attach/{namespace}/{pod}/{container}?stdin=1&stdout=1&stderr=1&tty=1
 *        sub-protocols: v5.channel.k8s.io, v4.channel.k8s.io, v3/v2/channel.k8s.io and the
 *        base64 forms; channel byte 0 stdin, 1 stdout, 2 stderr, 3 error/exit Status, 4 resize,
 *        255 close (v5)
 *   GET /portForward/{namespace}/{pod}?port=8080&port=9090   (also /portForward/{ns}/{pod}/{uid})
 *        sub-protocol v4.channel.k8s.io (or v4.base64.channel.k8s.io, or none): channels 2i
 *        (data) and 2i+1 (error) for the i-th port, each first carrying the port (uint16 LE)
 *
 * The agent offers the runtime exactly the sub-protocols the client offered and answers the
 * client with the one the runtime chose, so framing passes through untouched. A failure before
 * the upgrade (unknown pod or container, container not running, runtime refusal) is answered as
 * an HTTP error with a `Status` body.
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { CriClient } from '../cri/index.ts';
import { CONTAINER_NAME, POD_UID } from './labels.ts';

type Json = Record<string, any>;

export interface StreamingTargets {
  cri: CriClient;
  getPod(namespace: string, name: string): Json | undefined;
}

/** An expected failure before the upgrade: becomes an HTTP answer with a Status body. */
export class StreamError extends Error {
  code: number;
  reason: string;
  constructor(code: number, reason: string, message: string) {
    super(message);
    this.code = code;
    this.reason = reason;
  }
}

const truthy = (v: string | null) => v !== null && v !== 'false' && v !== '0' && v !== '';

function findPod(t: StreamingTargets, ns: string, name: string, uid?: string): Json {
  const pod = t.getPod(ns, name);
  if (!pod || (uid && pod.metadata.uid !== uid))
    throw new StreamError(404, 'NotFound', `pod "${name}" not found in namespace "${ns}"`);
  return pod;
}

async function runningContainer(t: StreamingTargets, pod: Json, container: string): Promise<string> {
  const known = [...(pod.spec.containers ?? []), ...(pod.spec.initContainers ?? [])].some(
    (c: Json) => c.name === container,
  );
  if (!known)
    throw new StreamError(
      400,
      'BadRequest',
      `container ${container} is not valid for pod ${pod.metadata.name}`,
    );
  const list = (
    await t.cri.listContainers({
      filter: {
        labelSelector: { [POD_UID]: pod.metadata.uid, [CONTAINER_NAME]: container },
        state: { state: 'CONTAINER_RUNNING' },
      },
    })
  ).containers;
  const c = list.sort((a, b) => b.createdAt - a.createdAt)[0];
  if (!c)
    throw new StreamError(
      400,
      'BadRequest',
      `container ${container} is not running in pod ${pod.metadata.name}`,
    );
  return c.id;
}

async function readySandbox(t: StreamingTargets, pod: Json): Promise<string> {
  const s = (
    await t.cri.listPodSandbox({
      filter: { labelSelector: { [POD_UID]: pod.metadata.uid }, state: { state: 'SANDBOX_READY' } },
    })
  ).items.sort((a, b) => b.createdAt - a.createdAt)[0];
  if (!s) throw new StreamError(400, 'BadRequest', `pod ${pod.metadata.name} has no running sandbox`);
  return s.id;
}

/** Parses `?port=80&port=443` (or `ports=80,443`); at least one port in 1..65535. */
export function forwardedPorts(q: URLSearchParams, headers: http.IncomingHttpHeaders): number[] {
  const raw = [...q.getAll('port'), ...q.getAll('ports')];
  const header = headers.port;
  if (header) raw.push(...(Array.isArray(header) ? header : [header]));
  const ports = raw.flatMap((p) => p.split(',')).map((p) => Number(p.trim()));
  if (!ports.length) throw new StreamError(400, 'BadRequest', 'query parameter "port" is required');
  for (const p of ports)
    if (!Number.isInteger(p) || p < 1 || p > 65535)
      throw new StreamError(400, 'BadRequest', `invalid port: ${p}`);
  return ports;
}

/**
 * Resolves a streaming request to the runtime's URL. `parts` are the path segments after the
 * verb (`exec`, `attach`, `portForward`).
 */
export async function runtimeStreamUrl(
  t: StreamingTargets,
  verb: string,
  parts: string[],
  q: URLSearchParams,
  headers: http.IncomingHttpHeaders,
): Promise<string> {
  if (verb === 'portForward') {
    if (parts.length !== 2 && parts.length !== 3)
      throw new StreamError(404, 'NotFound', 'expected /portForward/{namespace}/{pod}');
    const [ns, name, uid] = parts;
    const pod = findPod(t, ns, name, uid);
    const ports = forwardedPorts(q, headers);
    const sandbox = await readySandbox(t, pod);
    const { url } = await t.cri.portForward({ podSandboxId: sandbox, port: ports });
    // Skiff's runtime remembers the ports with the token; other servers read them from the query
    const u = new URL(url);
    for (const p of ports) u.searchParams.append('port', String(p));
    return u.toString();
  }
  if (parts.length !== 3 && parts.length !== 4)
    throw new StreamError(404, 'NotFound', `expected /${verb}/{namespace}/{pod}/{container}`);
  const [ns, name] = parts;
  const uid = parts.length === 4 ? parts[2] : undefined;
  const container = parts[parts.length - 1];
  const pod = findPod(t, ns, name, uid);
  const tty = truthy(q.get('tty'));
  const io = {
    stdin: truthy(q.get('stdin')),
    stdout: truthy(q.get('stdout')),
    // a terminal merges stderr into stdout
    stderr: truthy(q.get('stderr')) && !tty,
    tty,
  };
  if (!io.stdin && !io.stdout && !io.stderr)
    throw new StreamError(400, 'BadRequest', 'you must specify at least one of stdin, stdout, stderr');
  const containerId = await runningContainer(t, pod, container);
  if (verb === 'exec') {
    const cmd = q.getAll('command');
    if (!cmd.length) throw new StreamError(400, 'BadRequest', 'you must specify a command');
    return (await t.cri.exec({ containerId, cmd, ...io })).url;
  }
  return (await t.cri.attach({ containerId, ...io })).url;
}

function offeredProtocols(req: http.IncomingMessage): string[] {
  return (req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
}

/** A close code that may be sent on the wire (1005/1006 are reserved for local use). */
const sendable = (code: number) =>
  (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
  (code >= 3000 && code <= 4999);

/**
 * Connects to the runtime's streaming URL with the client's sub-protocols, then upgrades the
 * client with the protocol the runtime chose and relays every frame both ways.
 */
export async function proxyStream(
  wss: WebSocketServer,
  req: http.IncomingMessage,
  socket: Duplex,
  head: Buffer,
  target: string,
  sockets: Set<WebSocket>,
): Promise<void> {
  const offered = offeredProtocols(req);
  const upstream = new WebSocket(target, offered, { perMessageDeflate: false });
  // The runtime may speak first (exec's empty frame, port-forward's port prefixes) before the
  // client is upgraded: hold those frames until then.
  let toClient: ((data: Buffer, isBinary: boolean) => void) | undefined;
  const early: [Buffer, boolean][] = [];
  upstream.on('message', (data: Buffer, isBinary: boolean) => {
    if (toClient) toClient(data, isBinary);
    else early.push([data, isBinary]);
  });
  await new Promise<void>((resolve, reject) => {
    upstream.once('open', () => resolve());
    upstream.once('error', reject);
    upstream.once('unexpected-response', (_r, res) => {
      res.resume();
      reject(new StreamError(502, 'InternalError', `runtime streaming server answered ${res.statusCode}`));
    });
  });
  const chosen = upstream.protocol;
  (req as http.IncomingMessage & { skiffProtocol?: string }).skiffProtocol = chosen;
  sockets.add(upstream);
  wss.handleUpgrade(req, socket, head, (client) => {
    sockets.add(client);
    toClient = (data, isBinary) => {
      if (client.readyState === client.OPEN) client.send(data, { binary: isBinary });
    };
    for (const [data, isBinary] of early.splice(0)) toClient(data, isBinary);
    client.on('message', (data: Buffer, isBinary: boolean) => {
      if (upstream.readyState === upstream.OPEN) upstream.send(data, { binary: isBinary });
    });
    const closeFrom = (from: WebSocket, to: WebSocket) => (code: number, reason: Buffer) => {
      sockets.delete(from);
      if (to.readyState === to.OPEN || to.readyState === to.CONNECTING) {
        if (sendable(code)) to.close(code, reason);
        else to.close();
      }
      // give the closing handshake a moment, then make sure nothing lingers
      setTimeout(() => to.terminate(), 2000).unref();
    };
    upstream.on('close', closeFrom(upstream, client));
    client.on('close', closeFrom(client, upstream));
    upstream.on('error', () => client.terminate());
    client.on('error', () => upstream.terminate());
  });
}

/** A WebSocket server (no listener of its own) that answers with the runtime's sub-protocol. */
export function streamingWebSocketServer(): WebSocketServer {
  return new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (_offered, req) =>
      (req as http.IncomingMessage & { skiffProtocol?: string }).skiffProtocol || false,
  });
}
