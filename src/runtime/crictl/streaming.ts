/**
 * crictl's streaming commands. `exec -s` is the ExecSync RPC; `exec` and `attach` ask the runtime
 * for a URL (Exec, Attach) and speak the channel protocol over a WebSocket (`v5.channel.k8s.io`,
 * else `v4`): channel 0 stdin, 1 stdout, 2 stderr, 3 the final Status, 4 terminal size;
 * `[255, 0]` closes stdin (v5 only). `port-forward` listens locally and opens one PortForward
 * URL per accepted connection (`v4.channel.k8s.io`: channel 0 data, 1 errors, each first
 * carrying the port as a little-endian uint16).
 */
import net from 'node:net';
import { WebSocket } from 'ws';
import { type CrictlCommand, type CrictlContext, needArgs } from './context.ts';
import { parseFlags } from './flags.ts';
import { CrictlError, usageError } from './output.ts';

const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];

/** The streaming server answers absolute URLs; http(s) becomes ws(s). */
function wsUrl(url: string): string {
  if (!/^https?:\/\//.test(url))
    throw new CrictlError(`the runtime answered a streaming URL crictl cannot use: ${url}`);
  return url.replace(/^http/, 'ws');
}

/**
 * Opens the WebSocket. Frames can arrive in the same read as the upgrade answer, and `ws` emits
 * them right after 'open', before the caller could add a listener: they are held here and
 * replayed to the first `message` listener the caller adds (a port-forward's first frame on each
 * channel is the port, which the client must see to strip).
 */
function connect(url: string, protocols: string[]): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl(url), protocols);
    const early: Buffer[] = [];
    const hold = (d: Buffer) => early.push(d);
    ws.on('message', hold);
    ws.on('newListener', function replay(event: string, listener: (d: Buffer) => void) {
      if (event !== 'message' || listener === hold) return;
      ws.off('message', hold);
      ws.off('newListener', replay);
      queueMicrotask(() => {
        for (const d of early.splice(0)) listener(d);
      });
    });
    ws.once('open', () => resolve(ws));
    ws.once('error', (err) => reject(new CrictlError(`connect to the streaming server: ${err.message}`)));
    ws.once('unexpected-response', (_req, res) => {
      reject(new CrictlError(`streaming server answered HTTP ${res.statusCode}`));
      res.resume();
    });
  });
}

const frame = (channel: number, data: Buffer | string) =>
  Buffer.concat([Buffer.from([channel]), Buffer.from(data)]);

/** The exit code a channel-3 Status carries (v4+), or the message when the session failed. */
function statusExit(text: string): { code: number; message?: string } {
  let st: {
    status?: string;
    reason?: string;
    message?: string;
    details?: { causes?: { reason?: string; message?: string }[] };
  };
  try {
    st = JSON.parse(text);
  } catch {
    // v1-v3: a plain error message
    const m = /exit (?:status|code) (\d+)/.exec(text);
    return m ? { code: Number(m[1]) } : { code: 1, message: text };
  }
  if (st.status === 'Success') return { code: 0 };
  const cause = st.details?.causes?.find((c) => c.reason === 'ExitCode');
  if (st.reason === 'NonZeroExitCode' && cause) return { code: Number(cause.message) };
  return { code: 1, message: st.message ?? text };
}

/** Runs one exec or attach session over `url`, wiring this process's stdio; resolves with the exit code. */
export async function streamSession(
  url: string,
  opts: { stdin: boolean; tty: boolean },
  io: { stdin: NodeJS.ReadStream; stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream } = process,
): Promise<number> {
  const ws = await connect(url, EXEC_PROTOCOLS);
  const v5 = ws.protocol === 'v5.channel.k8s.io';
  let status = '';
  let raw = false;
  const sendSize = () => {
    if (io.stdout.isTTY)
      ws.send(frame(4, JSON.stringify({ Width: io.stdout.columns, Height: io.stdout.rows })));
  };
  const onData = (d: Buffer) => ws.send(frame(0, d));
  const onEnd = () => {
    if (v5 && ws.readyState === ws.OPEN) ws.send(Buffer.from([255, 0]));
  };
  if (opts.tty && io.stdin.isTTY) {
    io.stdin.setRawMode(true);
    raw = true;
  }
  if (opts.tty) {
    sendSize();
    io.stdout.on('resize', sendSize);
  }
  if (opts.stdin) {
    io.stdin.on('data', onData);
    io.stdin.on('end', onEnd);
    io.stdin.resume();
  }
  ws.on('message', (data: Buffer) => {
    if (data.length < 2) return;
    const body = data.subarray(1);
    if (data[0] === 1) io.stdout.write(body);
    else if (data[0] === 2) io.stderr.write(body);
    else if (data[0] === 3) status += body.toString();
  });
  await new Promise<void>((resolve) => {
    ws.on('close', () => resolve());
    ws.on('error', () => resolve());
  });
  if (opts.stdin) {
    io.stdin.off('data', onData);
    io.stdin.off('end', onEnd);
    io.stdin.pause();
  }
  if (opts.tty) io.stdout.off('resize', sendSize);
  if (raw) io.stdin.setRawMode(false);
  if (!status) return 0;
  const r = statusExit(status);
  if (r.message) throw new CrictlError(r.message);
  return r.code;
}

export const exec: CrictlCommand = async (ctx, argv) => {
  const f = parseFlags(argv, {
    bool: { sync: ['s'], interactive: ['i'], tty: ['t'], 'ignore-errors': ['e'], all: ['a'], latest: ['l'] },
    value: { timeout: [], name: [], pod: [], namespace: [], image: [], state: [] },
    repeat: { label: [] },
    stopAtPositional: true,
  });
  needArgs(f.args, 2, 'CONTAINER-ID COMMAND [ARG...]');
  const [containerId, ...cmd] = f.args;
  if (f.bool('sync')) {
    const timeout = f.int('timeout', 0);
    const r = await ctx.runtime.execSync({ containerId, cmd, timeout });
    ctx.out(r.stdout.toString());
    ctx.err(r.stderr.toString());
    return r.exitCode;
  }
  const tty = f.bool('tty');
  const stdin = f.bool('interactive');
  const { url } = await ctx.runtime.exec({ containerId, cmd, tty, stdin, stdout: true, stderr: !tty });
  return streamSession(url, { stdin, tty });
};

export const attach: CrictlCommand = async (ctx, argv) => {
  const f = parseFlags(argv, { bool: { stdin: ['i'], tty: ['t'] } });
  needArgs(f.args, 1, 'CONTAINER-ID');
  const tty = f.bool('tty');
  const stdin = f.bool('stdin');
  const { status } = await ctx.runtime.containerStatus({ containerId: f.args[0] });
  if (status.state !== 'CONTAINER_RUNNING') throw usageError(`container ${f.args[0]} is not running`);
  const { url } = await ctx.runtime.attach({
    containerId: status.id,
    tty,
    stdin,
    stdout: true,
    stderr: !tty,
  });
  return streamSession(url, { stdin, tty });
};

/** `[LOCAL:]REMOTE`; LOCAL 0 or missing-but-colon (`:80`) picks a free port. */
function portSpec(spec: string): { local: number; remote: number } {
  const m = /^(?:(\d*):)?(\d+)$/.exec(spec);
  const remote = m ? Number(m[2]) : Number.NaN;
  const local = m ? (m[1] === undefined ? remote : m[1] === '' ? 0 : Number(m[1])) : Number.NaN;
  if (!(remote >= 1 && remote <= 65535 && local >= 0 && local <= 65535))
    throw usageError(`invalid port specification ${JSON.stringify(spec)}: want [LOCAL_PORT:]REMOTE_PORT`);
  return { local, remote };
}

/** One local connection ↔ one PortForward WebSocket. */
async function forwardConnection(ctx: CrictlContext, podSandboxId: string, remote: number, conn: net.Socket) {
  conn.pause();
  let ws: WebSocket;
  try {
    const { url } = await ctx.runtime.portForward({ podSandboxId, port: [remote] });
    ws = await connect(url, ['v4.channel.k8s.io']);
  } catch (err) {
    ctx.err(`port-forward ${remote}: ${(err as Error).message}\n`);
    conn.destroy();
    return;
  }
  // each channel's first two bytes are the port
  const skip = [2, 2];
  ws.on('message', (data: Buffer) => {
    const ch = data[0];
    if (ch > 1) return;
    let body = data.subarray(1);
    if (skip[ch] > 0) {
      const n = Math.min(skip[ch], body.length);
      skip[ch] -= n;
      body = body.subarray(n);
    }
    if (body.length === 0) return;
    if (ch === 0) conn.write(body);
    else ctx.err(`${body.toString().trimEnd()}\n`);
  });
  ws.on('close', () => conn.end());
  ws.on('error', () => conn.destroy());
  conn.on('data', (d: Buffer) => {
    if (ws.readyState === ws.OPEN) ws.send(frame(0, d));
  });
  conn.on('end', () => ws.close());
  conn.on('close', () => ws.terminate());
  conn.on('error', () => ws.terminate());
  conn.resume();
}

export const portForward: CrictlCommand = async (ctx, argv) => {
  const f = parseFlags(argv, { value: { address: [] } });
  needArgs(f.args, 2, 'POD-ID [LOCAL_PORT:]REMOTE_PORT');
  const [pod, ...specs] = f.args;
  const ports = specs.map(portSpec);
  const { status } = await ctx.runtime.podSandboxStatus({ podSandboxId: pod });
  const address = f.value('address') ?? '127.0.0.1';
  const servers: net.Server[] = [];
  const conns = new Set<net.Socket>();
  const stop = () => {
    for (const s of servers) s.close();
    for (const c of conns) c.destroy();
  };
  try {
    for (const { local, remote } of ports) {
      const server = net.createServer((conn) => {
        ctx.out(`Handling connection for ${remote}\n`);
        conns.add(conn);
        conn.on('close', () => conns.delete(conn));
        void forwardConnection(ctx, status.id, remote, conn);
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', (err) =>
          reject(new CrictlError(`listen on ${address}:${local}: ${err.message}`)),
        );
        server.listen(local, address, () => resolve());
      });
      servers.push(server);
      const bound = (server.address() as net.AddressInfo).port;
      ctx.out(`Forwarding from ${address}:${bound} -> ${remote}\n`);
    }
  } catch (err) {
    stop();
    throw err;
  }
  // runs until interrupted
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  stop();
  return 0;
};
