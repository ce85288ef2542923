/**
 * In-process connections to the API server, for the components `skiff server` runs in its own
 * process (controller manager, scheduler): HTTP/1.1 over a pair of in-memory streams instead of
 * TLS over loopback TCP. Requests take the same path as HTTPS ones (routing, authorization,
 * admission, validation, watch); only the encryption and the kernel are skipped, which are most
 * of a small request's cost. The connection's user is fixed, as a verified client certificate
 * fixes it: upstream's loopback identity, `system:apiserver` in `system:masters`.
 *
 *   const loopback = createLoopback(handler.handle, upgradeListener);
 *   new RestClient({ server: url, connect: loopback.connect });
 */
import type { IncomingMessage, RequestListener } from 'node:http';
import { type Duplex, duplexPair } from 'node:stream';
import type { User } from './context.ts';
import { authenticateConnection } from './server.ts';

// Not `import http from 'node:http'`: Node 24 builds that import's namespace by reading every
// export, and its lazy WebSocket exports load undici into the process (~4.6 MiB).
const http = process.getBuiltinModule('node:http');

export const LOOPBACK_USER: User = { name: 'system:apiserver', groups: ['system:masters'] };

export interface Loopback {
  /** A new connection; the API server serves its other end. */
  connect(): Duplex;
  /** End every connection. */
  close(): void;
}

/** Socket methods that HTTP clients and servers call and a stream pair lacks: nothing to tune. */
function asSocket(d: Duplex): Duplex {
  const s = d as Duplex & Record<string, unknown>;
  const self = () => s;
  s.setKeepAlive = self;
  s.setNoDelay = self;
  s.setTimeout = self;
  s.ref = self;
  s.unref = self;
  s.remoteAddress = '127.0.0.1';
  s.remotePort = 0;
  return s;
}

export function createLoopback(
  handle: RequestListener,
  upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void,
): Loopback {
  const server = http.createServer({ keepAliveTimeout: 0 }, handle);
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  if (upgrade) server.on('upgrade', upgrade);
  const open = new Set<Duplex>();
  return {
    connect() {
      const [client, served] = duplexPair();
      authenticateConnection(served, LOOPBACK_USER);
      open.add(client);
      client.once('close', () => open.delete(client));
      server.emit('connection', asSocket(served));
      return asSocket(client);
    },
    close() {
      for (const c of open) c.destroy();
      server.closeAllConnections();
    },
  };
}
