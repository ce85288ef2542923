/**
 * Accepting kubectl's port-forward upgrade in either of its forms:
 *
 *   WebSocket, sub-protocol `SPDY/3.1+portforward.k8s.io`: the SPDY session's bytes travel in
 *     binary messages (kubectl 1.31 and later, the PortForwardWebsockets feature);
 *   `Upgrade: SPDY/3.1` with `X-Stream-Protocol-Version: portforward.k8s.io`: the socket itself
 *     carries SPDY after the 101 answer (older clients, and kubectl's fallback).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { StatusError } from '../../api/errors.ts';
import {
  type DialPort,
  PORT_FORWARD_PROTOCOL,
  portForwardSession,
  TUNNELED_PORT_FORWARD_PROTOCOL,
} from './port-forward.ts';

/** `websocket` for SPDY tunnelled in a WebSocket, `spdy` for a plain SPDY/3.1 upgrade. */
export function spdyUpgradeKind(req: IncomingMessage): 'websocket' | 'spdy' | undefined {
  const upgrade = (req.headers.upgrade ?? '').toLowerCase();
  if (upgrade === 'spdy/3.1') return 'spdy';
  if (upgrade !== 'websocket') return undefined;
  const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  return offered.includes(TUNNELED_PORT_FORWARD_PROTOCOL) ? 'websocket' : undefined;
}

/**
 * `ws` accepts only RFC 7230 tokens as sub-protocols, and `SPDY/3.1+portforward.k8s.io` has a
 * `/` in it: the request names this stand-in instead while `ws` does the handshake, and the
 * answer is given kubectl's own name back.
 */
const STAND_IN = 'skiff-spdy-portforward';

/** A WebSocket server (no listener of its own) that accepts only tunnelled port-forward. */
export function tunnelWebSocketServer(): WebSocketServer {
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (offered) => (offered.has(STAND_IN) ? STAND_IN : false),
  });
  wss.on('headers', (headers: string[]) => {
    for (const [i, h] of headers.entries()) {
      if (/^sec-websocket-protocol:/i.test(h))
        headers[i] = `Sec-WebSocket-Protocol: ${TUNNELED_PORT_FORWARD_PROTOCOL}`;
    }
  });
  return wss;
}

/** Completes the upgrade and serves port-forward on it, dialing the agent per connection. */
export function acceptPortForward(
  kind: 'websocket' | 'spdy',
  wss: WebSocketServer,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  dial: DialPort,
): void {
  if (kind === 'websocket') {
    req.headers['sec-websocket-protocol'] = STAND_IN;
    wss.handleUpgrade(req, socket, head, (ws) => {
      const session = portForwardSession(
        {
          write: (b) => ws.readyState === ws.OPEN && ws.send(b, { binary: true }),
          close: () => {
            ws.close(1000);
            setTimeout(() => ws.terminate(), 2000).unref();
          },
        },
        dial,
      );
      ws.on('message', (data: Buffer, binary: boolean) => {
        if (binary) session.receive(data);
        else session.close(1);
      });
      ws.on('close', () => session.closed());
      ws.on('error', () => session.closed());
    });
    return;
  }
  const offered = headerList(req.headers['x-stream-protocol-version']);
  if (offered.length && !offered.includes(PORT_FORWARD_PROTOCOL)) {
    throw new StatusError(
      'Forbidden',
      `unable to upgrade: unable to negotiate protocol: client supports ${offered.join(', ')}, server accepts ${PORT_FORWARD_PROTOCOL}`,
    );
  }
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n' +
      `X-Stream-Protocol-Version: ${PORT_FORWARD_PROTOCOL}\r\n\r\n`,
  );
  const session = portForwardSession(
    {
      write: (b) => {
        if (socket.writable) socket.write(b);
      },
      close: () => {
        socket.end();
        setTimeout(() => socket.destroy(), 2000).unref();
      },
    },
    dial,
  );
  socket.on('data', (d: Buffer) => session.receive(d));
  socket.on('close', () => session.closed());
  socket.on('error', () => session.closed());
  if (head.length) session.receive(head);
}

function headerList(v: string | string[] | undefined): string[] {
  return (Array.isArray(v) ? v : [v ?? ''])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
}
