/**
 * CRI streaming: Exec, Attach and PortForward answer a URL, and the client (the node agent's
 * proxy, or a tool) opens it as a WebSocket speaking Kubernetes' channel protocols:
 *
 *   exec, attach   `v5.channel.k8s.io`, `v4.channel.k8s.io`, `v3`/`v2`, `channel.k8s.io` and their
 *                  `.base64.` forms. Each message starts with a channel byte: 0 stdin, 1 stdout,
 *                  2 stderr, 3 error (v4+: a `Status` JSON, `Success` or `NonZeroExitCode` with
 *                  the code in `details.causes[{reason:"ExitCode"}]`), 4 resize
 *                  (`{"Width":80,"Height":24}`), 255 close (v5: `[255, 0]` closes stdin).
 *   portforward    `v4.channel.k8s.io` (or no sub-protocol), ports from `?ports=80,443`: channels
 *                  2i (data) and 2i+1 (error) for the i-th port, each opened by the port as a
 *                  little-endian uint16.
 *
 * A URL carries a one-time token that expires (a minute by default): the request it names is
 * remembered server side, so the URL needs no other parameters.
 *
 *   const streaming = await startStreamingServer({ exec, attach, portForward });
 *   return { url: streaming.url('exec', request) };
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex, Readable, Writable } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { AttachRequest, ExecRequest, PortForwardRequest } from './types.ts';

// Not `import http from 'node:http'`: Node 24 builds that import's namespace by reading every
// export, and its lazy WebSocket exports load undici (with http2 and zlib) into every process.
const http = process.getBuiltinModule('node:http');

/** The streams of one exec or attach session, as the runtime sees them. */
export interface StreamingIO {
  /** present when the request asked for stdin; ends when the client closes it */
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  /** terminal size changes (tty sessions) */
  onResize(fn: (size: { width: number; height: number }) => void): void;
  /** aborted when the client goes away */
  signal: AbortSignal;
}

/** What a runtime plugs into the streaming server. */
export interface StreamingRuntime {
  /** runs the command; resolves with its exit code */
  exec(req: ExecRequest, io: StreamingIO): Promise<number>;
  /** attaches to the container's main process until it exits or the client leaves */
  attach(req: AttachRequest, io: StreamingIO): Promise<void>;
  /** connects `stream` to `port` inside the sandbox's network namespace */
  portForward(podSandboxId: string, port: number, stream: Duplex, signal: AbortSignal): Promise<void>;
}

export interface StreamingServer {
  /** `http://127.0.0.1:<port>` */
  baseUrl: string;
  /** remembers a request and returns its one-time URL */
  url(kind: 'exec', req: ExecRequest): string;
  url(kind: 'attach', req: AttachRequest): string;
  url(kind: 'portforward', req: PortForwardRequest): string;
  close(): Promise<void>;
}

type Kind = 'exec' | 'attach' | 'portforward';

const EXEC_PROTOCOLS = [
  'v5.channel.k8s.io',
  'v4.channel.k8s.io',
  'v3.channel.k8s.io',
  'v2.channel.k8s.io',
  'channel.k8s.io',
];
const PORTFORWARD_PROTOCOLS = ['v4.channel.k8s.io'];

const withBase64 = (list: string[]) => [
  ...list,
  ...list.map((p) => p.replace(/channel\.k8s\.io$/, 'base64.channel.k8s.io')),
];

/** The Status an exec's error channel carries (v4 and later). */
export function exitStatus(exitCode: number, cmd: string[] = []): object {
  if (exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${cmd.join(' ')}], exit code ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

function errorStatus(message: string): object {
  return { metadata: {}, status: 'Failure', message, reason: 'InternalError', code: 500 };
}

/** Channel framing over one WebSocket, binary or base64 per the negotiated protocol. */
class ChannelSocket {
  readonly ws: WebSocket;
  readonly base64: boolean;
  constructor(ws: WebSocket) {
    this.ws = ws;
    this.base64 = ws.protocol.includes('base64');
  }
  send(channel: number, data: Buffer | string): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    if (this.base64) this.ws.send(String.fromCharCode(48 + channel) + buf.toString('base64'));
    else this.ws.send(Buffer.concat([Buffer.from([channel]), buf]));
  }
  onMessage(fn: (channel: number, data: Buffer) => void): void {
    this.ws.on('message', (raw: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      const msg = Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw as ArrayBuffer);
      if (msg.length === 0) return;
      if (this.base64 && !isBinary) {
        const text = msg.toString();
        fn(text.charCodeAt(0) - 48, Buffer.from(text.slice(1), 'base64'));
      } else fn(msg[0], msg.subarray(1));
    });
  }
}

/** A Writable that frames what is written onto a channel. */
async function channelWriter(sock: ChannelSocket, channel: number): Promise<Writable> {
  const { Writable } = await import('node:stream');
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      sock.send(channel, chunk);
      cb();
    },
  });
}

/**
 * Starts the streaming HTTP server on 127.0.0.1 (a random port unless `port` is given).
 * Tokens live `tokenTtlMs` (60 s) and serve one connection each.
 */
export async function startStreamingServer(
  runtime: StreamingRuntime,
  opts: { host?: string; port?: number; tokenTtlMs?: number } = {},
): Promise<StreamingServer> {
  const ttl = opts.tokenTtlMs ?? 60_000;
  const pending = new Map<string, { kind: Kind; req: unknown; timer: NodeJS.Timeout }>();
  const sockets = new Set<WebSocket>();
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered: Set<string>, req: IncomingMessage) => {
      const kind = (req as IncomingMessage & { skiffKind?: Kind }).skiffKind;
      const supported = withBase64(kind === 'portforward' ? PORTFORWARD_PROTOCOLS : EXEC_PROTOCOLS);
      for (const p of offered) if (supported.includes(p)) return p;
      return false;
    },
  });
  const server = http.createServer((_req, res) => {
    res.writeHead(400, { 'content-type': 'text/plain' }).end('only WebSocket streaming is supported\n');
  });
  server.on('upgrade', (req, socket, head) => {
    const m = /^\/(exec|attach|portforward)\/([A-Za-z0-9_-]+)(?:\?|$)/.exec(req.url ?? '');
    const entry = m ? pending.get(m[2]) : undefined;
    if (!m || !entry || entry.kind !== m[1]) {
      socket.end('HTTP/1.1 404 Not Found\r\ncontent-type: text/plain\r\n\r\nunknown or expired token\n');
      return;
    }
    pending.delete(m[2]);
    clearTimeout(entry.timer);
    (req as IncomingMessage & { skiffKind?: Kind }).skiffKind = entry.kind;
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      const done =
        entry.kind === 'portforward'
          ? servePortForward(runtime, entry.req as PortForwardRequest, ws, req)
          : serveExecOrAttach(runtime, entry.kind, entry.req as ExecRequest, ws);
      done.catch(() => {}).finally(() => ws.close(1000));
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve));
  const addr = server.address() as AddressInfo;
  const baseUrl = `http://${addr.address}:${addr.port}`;
  return {
    baseUrl,
    url(kind: Kind, req: unknown): string {
      const token = randomBytes(12).toString('base64url');
      const timer = setTimeout(() => pending.delete(token), ttl);
      timer.unref();
      pending.set(token, { kind, req, timer });
      return `${baseUrl}/${kind}/${token}`;
    },
    async close() {
      for (const { timer } of pending.values()) clearTimeout(timer);
      pending.clear();
      for (const ws of sockets) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  } as StreamingServer;
}

async function serveExecOrAttach(
  runtime: StreamingRuntime,
  kind: 'exec' | 'attach',
  req: ExecRequest & AttachRequest,
  ws: WebSocket,
): Promise<void> {
  const sock = new ChannelSocket(ws);
  const version = Number(/^v(\d)\./.exec(ws.protocol)?.[1] ?? 1);
  const abort = new AbortController();
  ws.on('close', () => abort.abort());
  const { PassThrough } = await import('node:stream');
  const stdin = req.stdin ? new PassThrough() : undefined;
  const resizeHandlers: ((s: { width: number; height: number }) => void)[] = [];
  sock.onMessage((channel, data) => {
    if (channel === 0) stdin?.write(data);
    else if (channel === 4) {
      try {
        const size = JSON.parse(data.toString()) as { Width?: number; Height?: number };
        for (const fn of resizeHandlers) fn({ width: size.Width ?? 0, height: size.Height ?? 0 });
      } catch {}
    } else if (channel === 255 && data[0] === 0) stdin?.end();
  });
  ws.on('close', () => stdin?.end());
  const io: StreamingIO = {
    stdin,
    stdout: req.stdout ? await channelWriter(sock, 1) : undefined,
    stderr: req.stderr && !req.tty ? await channelWriter(sock, 2) : undefined,
    onResize: (fn) => resizeHandlers.push(fn),
    signal: abort.signal,
  };
  // The lowest writable channel gets an empty message: the client knows the session is up.
  sock.send(req.stdout ? 1 : req.stderr ? 2 : 3, Buffer.alloc(0));
  const reportError = (message: string) =>
    sock.send(3, version >= 4 ? JSON.stringify(errorStatus(message)) : message);
  try {
    if (kind === 'exec') {
      const code = await runtime.exec(req, io);
      if (version >= 4) sock.send(3, JSON.stringify(exitStatus(code, req.cmd)));
      else if (code !== 0) sock.send(3, `command terminated with non-zero exit code: exit status ${code}`);
    } else {
      await runtime.attach(req, io);
      if (version >= 4) sock.send(3, JSON.stringify(exitStatus(0)));
    }
  } catch (err) {
    reportError((err as Error).message);
  }
}

async function servePortForward(
  runtime: StreamingRuntime,
  req: PortForwardRequest,
  ws: WebSocket,
  http: IncomingMessage,
): Promise<void> {
  const sock = new ChannelSocket(ws);
  const query = new URL(http.url ?? '/', 'http://x').searchParams.getAll('ports');
  const ports = query.length
    ? query.flatMap((p) => p.split(',')).map((p) => Number(p))
    : (req.port ?? []).map(Number);
  if (ports.length === 0 || ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) {
    ws.close(1008, 'bad ports');
    return;
  }
  const abort = new AbortController();
  ws.on('close', () => abort.abort());
  const { PassThrough, Duplex } = await import('node:stream');
  const inbound = ports.map(() => new PassThrough());
  sock.onMessage((channel, data) => {
    if (channel % 2 === 0 && channel / 2 < ports.length) inbound[channel / 2].write(data);
  });
  ws.on('close', () => {
    for (const s of inbound) s.end();
  });
  await Promise.all(
    ports.map(async (port, i) => {
      const le = Buffer.alloc(2);
      le.writeUInt16LE(port);
      sock.send(2 * i, le);
      sock.send(2 * i + 1, le);
      const stream = new Duplex({
        read() {},
        write(chunk: Buffer, _enc, cb) {
          sock.send(2 * i, chunk);
          cb();
        },
      });
      inbound[i].on('data', (d: Buffer) => stream.push(d));
      inbound[i].on('end', () => stream.push(null));
      try {
        await runtime.portForward(req.podSandboxId ?? '', port, stream, abort.signal);
      } catch (err) {
        sock.send(
          2 * i + 1,
          `error forwarding port ${port} to pod ${req.podSandboxId}: ${(err as Error).message}`,
        );
      }
    }),
  );
}
