/**
 * kubectl port-forward's SPDY session, carried on to the node agent's port-forward WebSocket.
 *
 * For every local connection kubectl opens two SPDY streams with one `requestid`: an error
 * stream (`streamtype: error`, which kubectl half-closes at once and reads to the end) and a
 * data stream (`streamtype: data`), both naming the pod's `port`. Each pair becomes one
 * WebSocket to the agent's `/portForward/{namespace}/{pod}?port=N` speaking
 * `v4.channel.k8s.io`: channel 0 carries the data and channel 1 the error text, each led by
 * the port as two little-endian bytes, which are dropped here. When the agent's side closes
 * (the pod closed the connection), both streams get FIN, so kubectl ends that connection and
 * keeps listening; error text makes kubectl report it.
 */
import type { WebSocket } from 'ws';
import { RST_PROTOCOL_ERROR } from './spdy-frames.ts';
import { SpdySession, type SpdyStream, type SpdyTransport } from './spdy-session.ts';

/** The sub-protocol kubectl names in its upgrade (`X-Stream-Protocol-Version`). */
export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
/** kubectl's WebSocket sub-protocol for SPDY tunnelled in binary messages. */
export const TUNNELED_PORT_FORWARD_PROTOCOL = `SPDY/3.1+${PORT_FORWARD_PROTOCOL}`;
/** The agent's channel protocol for one forwarded port. */
export const CHANNEL_PROTOCOL = 'v4.channel.k8s.io';

/** Opens the agent's port-forward WebSocket for one port, offering CHANNEL_PROTOCOL. */
export type DialPort = (port: number) => WebSocket;

interface Pair {
  port: number;
  error?: SpdyStream;
  data?: SpdyStream;
  upstream?: WebSocket;
  /** client data that arrived before the agent's WebSocket opened */
  pending: Buffer[];
}

/**
 * Serves port-forward on `transport`: returns the session, which the caller feeds with
 * `receive(bytes)` and tells `closed()` when the transport goes.
 */
export function portForwardSession(transport: SpdyTransport, dial: DialPort): SpdySession {
  const pairs = new Map<string, Pair>();
  const session = new SpdySession(transport, (stream) => {
    const type = stream.headers.streamtype;
    const port = Number(stream.headers.port);
    const id = requestId(stream);
    if ((type !== 'error' && type !== 'data') || id === undefined) {
      stream.reset(RST_PROTOCOL_ERROR);
      return;
    }
    let pair = pairs.get(id);
    if (!pair) {
      pair = { port, pending: [] };
      pairs.set(id, pair);
    }
    if (pair[type] || pair.port !== port) {
      stream.reset(RST_PROTOCOL_ERROR);
      return;
    }
    pair[type] = stream;
    const p = pair;
    if (type === 'data') {
      stream.onData = (d) => {
        if (p.upstream?.readyState === p.upstream?.OPEN) p.upstream!.send(Buffer.concat([CH_DATA, d]));
        else p.pending.push(d);
      };
    }
    stream.onClose = () => {
      // a reset (or the session ending) drops the connection to the pod
      if (stream === p.data) p.upstream?.terminate();
      if (p.error?.closed && p.data?.closed) pairs.delete(id);
    };
    if (p.error && p.data) connect(p);
  });
  session.onEnd = () => {
    for (const p of pairs.values()) p.upstream?.terminate();
    pairs.clear();
  };

  function connect(p: Pair): void {
    const fail = (message: string) => {
      p.error?.write(Buffer.from(message));
      p.error?.end();
      p.data?.end();
    };
    if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) {
      fail(`invalid port: ${p.error?.headers.port}`);
      return;
    }
    let ws: WebSocket;
    try {
      ws = dial(p.port);
    } catch (e) {
      fail(`error forwarding port ${p.port}: ${(e as Error).message}`);
      return;
    }
    p.upstream = ws;
    // the first two bytes on each channel are the port, not payload
    const skip = [2, 2];
    let failed = false;
    ws.on('open', () => {
      for (const d of p.pending.splice(0)) ws.send(Buffer.concat([CH_DATA, d]));
    });
    ws.on('message', (raw: Buffer, binary: boolean) => {
      if (!binary || raw.length === 0) return;
      const channel = raw[0];
      if (channel > 1) return;
      let payload = raw.subarray(1);
      const drop = Math.min(skip[channel], payload.length);
      skip[channel] -= drop;
      payload = payload.subarray(drop);
      if (payload.length) (channel === 0 ? p.data : p.error)?.write(payload);
    });
    ws.on('unexpected-response', (_req, res) => {
      failed = true;
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c;
      });
      res.on('end', () => {
        fail(`error forwarding port ${p.port}: ${statusMessage(body, res.statusCode)}`);
        ws.terminate();
      });
    });
    ws.on('error', (e) => {
      if (!failed) {
        failed = true;
        fail(`error forwarding port ${p.port}: ${e.message}`);
      }
    });
    ws.on('close', () => {
      if (failed) return;
      p.error?.end();
      p.data?.end();
    });
  }

  return session;
}

const CH_DATA = Buffer.from([0]);

/**
 * The pair a stream belongs to: its `requestid`, or for clients that send none, Kubernetes'
 * fallback of the error stream's id (a data stream is opened right after its error stream).
 */
function requestId(stream: SpdyStream): string | undefined {
  const id = stream.headers.requestid;
  if (id) return id;
  if (stream.headers.streamtype === 'error') return String(stream.id);
  if (stream.headers.streamtype === 'data') return String(stream.id - 2);
  return undefined;
}

function statusMessage(body: string, code: number | undefined): string {
  try {
    const s = JSON.parse(body);
    if (typeof s?.message === 'string') return s.message;
  } catch {}
  return body.trim() || `the node answered ${code}`;
}
