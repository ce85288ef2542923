/**
 * The client end of in-process connections (`RestConfig.connect`): HTTP/1.1 written and read
 * here, one request at a time per connection, connections kept for the next request. The
 * server end is the API server's own HTTP server, so requests take the path HTTPS ones take;
 * only node:http's client is left out, whose agent and parser cost more than the rest of a
 * request that never leaves the process.
 *
 * Answers carry a body of known length or a chunked one (a watch streams it); a connection is
 * reused unless the server says `Connection: close`.
 */
import type { Duplex } from 'node:stream';

export interface Answer {
  status: number;
  /** The whole body. */
  text(): Promise<string>;
  /** The body as it arrives. */
  chunks(): AsyncIterable<Buffer>;
}

const CRLF2 = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');
/** Chunks waiting for a slow reader beyond which the connection stops reading. */
const HIGH_WATER = 64;

function aborted(): Error {
  return Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
}

/** One answer being read: its chunks wait here for the reader. */
class Exchange implements Answer {
  status = 0;
  #queue: Buffer[] = [];
  #done = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;
  /** The connection while it still reads this answer (a slow reader pauses it). */
  #socket: Duplex | undefined;

  constructor(socket: Duplex) {
    this.#socket = socket;
  }

  push(chunk: Buffer): void {
    this.#queue.push(chunk);
    if (this.#queue.length > HIGH_WATER) this.#socket?.pause();
    this.#wake?.();
  }

  end(error?: Error): void {
    if (this.#done) return;
    this.#done = true;
    this.#error = error;
    this.#socket?.resume();
    this.#socket = undefined;
    this.#wake?.();
  }

  async *chunks(): AsyncIterable<Buffer> {
    for (;;) {
      const c = this.#queue.shift();
      if (c) {
        if (this.#queue.length === HIGH_WATER / 2) this.#socket?.resume();
        yield c;
      } else if (this.#error) throw this.#error;
      else if (this.#done) return;
      else {
        this.#socket?.resume();
        await new Promise<void>((r) => {
          this.#wake = r;
        });
        this.#wake = undefined;
      }
    }
  }

  async text(): Promise<string> {
    const parts: Buffer[] = [];
    for await (const c of this.chunks()) parts.push(c);
    return parts.length === 1 ? parts[0].toString('utf8') : Buffer.concat(parts).toString('utf8');
  }
}

type State = 'head' | 'length' | 'chunk-size' | 'chunk' | 'chunk-end' | 'trailer' | 'until-close';

/** One connection and the reading of the answer on it. */
class Conn {
  readonly socket: Duplex;
  #pool: InProcessTransport;
  #buf: Buffer = Buffer.alloc(0);
  #state: State = 'head';
  #left = 0;
  #keepAlive = true;
  #answer: Exchange | undefined;
  #answered: ((a: Exchange) => void) | undefined;
  #failed: ((e: Error) => void) | undefined;
  /** Undoes the current request's abort listener. */
  #unlisten: (() => void) | undefined;

  constructor(socket: Duplex, pool: InProcessTransport) {
    this.socket = socket;
    this.#pool = pool;
    socket.on('data', (d: Buffer) => this.#read(d));
    socket.on('error', () => {});
    // the server is done with the connection: so are we
    socket.on('end', () => socket.destroy());
    socket.on('close', () => this.#closed());
  }

  send(head: string, body: Buffer | undefined, signal?: AbortSignal): Promise<Answer> {
    this.#state = 'head';
    this.#keepAlive = true;
    if (signal) {
      // an abort ends the connection, and with it whatever is being read
      const stop = () => this.socket.destroy();
      signal.addEventListener('abort', stop, { once: true });
      this.#unlisten = () => signal.removeEventListener('abort', stop);
    }
    return new Promise((resolve, reject) => {
      this.#answered = resolve;
      this.#failed = reject;
      this.socket.write(body ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : head);
    });
  }

  #read(data: Buffer): void {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, data]) : data;
    try {
      while (this.#step());
    } catch (e) {
      this.socket.destroy(e as Error);
    }
  }

  /** Consume what it can of the buffer; true to go on. */
  #step(): boolean {
    const buf = this.#buf;
    switch (this.#state) {
      case 'head': {
        const end = buf.indexOf(CRLF2);
        if (end < 0) return false;
        this.#buf = buf.subarray(end + 4);
        this.#head(buf.toString('latin1', 0, end));
        return true;
      }
      case 'length': {
        if (!buf.length) return false;
        const n = Math.min(this.#left, buf.length);
        this.#answer!.push(buf.subarray(0, n));
        this.#buf = buf.subarray(n);
        this.#left -= n;
        if (this.#left === 0) this.#finish();
        return this.#buf.length > 0;
      }
      case 'chunk-size': {
        const end = buf.indexOf(CRLF);
        if (end < 0) return false;
        const size = Number.parseInt(buf.toString('latin1', 0, end), 16);
        if (!Number.isFinite(size)) throw new Error('bad chunk size in an answer');
        this.#buf = buf.subarray(end + 2);
        this.#left = size;
        this.#state = size === 0 ? 'trailer' : 'chunk';
        return true;
      }
      case 'chunk': {
        if (!buf.length) return false;
        const n = Math.min(this.#left, buf.length);
        this.#answer!.push(buf.subarray(0, n));
        this.#buf = buf.subarray(n);
        this.#left -= n;
        if (this.#left === 0) this.#state = 'chunk-end';
        return true;
      }
      case 'chunk-end': {
        if (buf.length < 2) return false;
        this.#buf = buf.subarray(2);
        this.#state = 'chunk-size';
        return true;
      }
      case 'trailer': {
        const end = buf.indexOf(CRLF);
        if (end < 0) return false;
        this.#buf = buf.subarray(end + 2);
        if (end === 0) this.#finish(); // trailers end with an empty line
        return true;
      }
      case 'until-close':
        if (buf.length) this.#answer!.push(buf);
        this.#buf = Buffer.alloc(0);
        return false;
    }
  }

  #head(text: string): void {
    const lines = text.split('\r\n');
    const status = Number(lines[0].split(' ')[1]);
    if (!(status >= 200)) throw new Error(`bad status line in an answer: ${lines[0]}`);
    let length: number | undefined;
    let chunked = false;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i];
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-length') length = Number(value);
      else if (name === 'transfer-encoding') chunked = value.toLowerCase().includes('chunked');
      else if (name === 'connection') this.#keepAlive = value.toLowerCase() !== 'close';
    }
    const answer = new Exchange(this.socket);
    answer.status = status;
    this.#answer = answer;
    this.#answered?.(answer);
    this.#answered = undefined;
    this.#failed = undefined;
    if (chunked) this.#state = 'chunk-size';
    else if (length !== undefined) {
      this.#left = length;
      this.#state = 'length';
      if (length === 0) this.#finish();
    } else if (status === 204 || status === 304) this.#finish();
    else {
      this.#keepAlive = false;
      this.#state = 'until-close';
    }
  }

  #finish(): void {
    const answer = this.#answer!;
    this.#answer = undefined;
    this.#state = 'head';
    this.#unlisten?.();
    this.#unlisten = undefined;
    answer.end();
    if (this.#buf.length) throw new Error('bytes after the end of an answer');
    if (this.#keepAlive) this.#pool.release(this);
    else this.socket.destroy();
  }

  #closed(): void {
    this.#pool.forget(this);
    this.#unlisten?.();
    this.#unlisten = undefined;
    const e = aborted();
    this.#failed?.(e);
    this.#failed = undefined;
    this.#answered = undefined;
    // an answer read until the connection closes ends well; any other is cut short
    this.#answer?.end(this.#state === 'until-close' ? undefined : e);
    this.#answer = undefined;
  }
}

export class InProcessTransport {
  #connect: () => Duplex;
  #host: string;
  #idle: Conn[] = [];
  #all = new Set<Conn>();

  /** `host`: the Host header (the server's address, as a dialing client would send). */
  constructor(connect: () => Duplex, host: string) {
    this.#connect = connect;
    this.#host = host;
  }

  /** `headers`: lines of `name: value\r\n`, without Host and Content-Length. */
  request(
    method: string,
    path: string,
    headers: string,
    body: Buffer | undefined,
    signal?: AbortSignal,
  ): Promise<Answer> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    let conn = this.#idle.pop();
    if (!conn) {
      conn = new Conn(this.#connect(), this);
      this.#all.add(conn);
    }
    const length = body ? `content-length: ${body.length}\r\n` : '';
    const head = `${method} ${path} HTTP/1.1\r\nhost: ${this.#host}\r\n${headers}${length}\r\n`;
    return conn.send(head, body, signal);
  }

  release(conn: Conn): void {
    if (this.#all.has(conn)) this.#idle.push(conn);
  }

  forget(conn: Conn): void {
    this.#all.delete(conn);
    const i = this.#idle.indexOf(conn);
    if (i >= 0) this.#idle.splice(i, 1);
  }

  /** End every connection, idle or busy. */
  close(): void {
    for (const c of [...this.#all]) c.socket.destroy();
  }
}
