/**
 * The server's end of one SPDY/3.1 session over any byte transport (an upgraded socket, or
 * binary WebSocket messages when kubectl tunnels SPDY in a WebSocket). The client opens the
 * streams (odd ids); each is answered with a SYN_REPLY at once, as Kubernetes' servers do,
 * and handed to `onStream`. Either side half-closes a stream with FIN; RST_STREAM ends it both
 * ways; PINGs from the client are echoed; GOAWAY or the transport closing ends the session.
 *
 *   const session = new SpdySession({ write: (b) => socket.write(b), close: () => socket.end() },
 *     (stream) => { stream.onData = (d) => ...; stream.write(Buffer.from('hi')); stream.end(); });
 *   socket.on('data', (d) => session.receive(d));
 *   socket.on('close', () => session.closed());
 */
import {
  type Frame,
  FrameReader,
  FrameWriter,
  RST_CANCEL,
  RST_PROTOCOL_ERROR,
  type SpdyHeaders,
} from './spdy-frames.ts';

export interface SpdyTransport {
  write(bytes: Buffer): void;
  /** Ends the transport; the session calls it once. */
  close(): void;
}

/** One client-opened stream. Set the callbacks in `onStream`; data is not buffered before. */
export class SpdyStream {
  readonly id: number;
  readonly headers: SpdyHeaders;
  /** data the client sent */
  onData: (data: Buffer) => void = () => {};
  /** the client half-closed the stream (FIN) */
  onEnd: () => void = () => {};
  /** the stream is gone both ways: reset by either side, or the session ended */
  onClose: () => void = () => {};
  #session: SpdySession;
  #localEnded = false;
  #remoteEnded = false;
  #closed = false;

  constructor(session: SpdySession, id: number, headers: SpdyHeaders) {
    this.#session = session;
    this.id = id;
    this.headers = headers;
  }

  get closed(): boolean {
    return this.#closed;
  }

  write(data: Buffer): void {
    if (this.#localEnded || this.#closed || data.length === 0) return;
    this.#session.send(this.#session.writer.data(this.id, data));
  }

  /** Half-closes our side (DATA with FIN). */
  end(): void {
    if (this.#localEnded || this.#closed) return;
    this.#localEnded = true;
    this.#session.send(this.#session.writer.data(this.id, Buffer.alloc(0), true));
    if (this.#remoteEnded) this.#finish();
  }

  /** Ends the stream both ways with RST_STREAM. */
  reset(status = RST_CANCEL): void {
    if (this.#closed) return;
    this.#session.send(this.#session.writer.rstStream(this.id, status));
    this.#finish();
  }

  /** @internal frames from the session */
  received(frame: Frame): void {
    if (this.#closed) return;
    if (frame.kind === 'rst_stream') {
      this.#finish();
      return;
    }
    if (frame.kind !== 'data' || this.#remoteEnded) return;
    if (frame.data.length) this.onData(frame.data);
    if (frame.fin) {
      this.#remoteEnded = true;
      this.onEnd();
      if (this.#localEnded) this.#finish();
    }
  }

  /** @internal */
  sessionEnded(): void {
    this.#finish();
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#session.forget(this.id);
    this.onClose();
  }
}

export class SpdySession {
  readonly writer = new FrameWriter();
  #reader = new FrameReader();
  #transport: SpdyTransport;
  #onStream: (stream: SpdyStream) => void;
  #streams = new Map<number, SpdyStream>();
  #lastStreamId = 0;
  #ended = false;
  /** called once when the session ends, for whatever reason */
  onEnd: () => void = () => {};

  constructor(transport: SpdyTransport, onStream: (stream: SpdyStream) => void) {
    this.#transport = transport;
    this.#onStream = onStream;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Bytes from the transport. */
  receive(chunk: Buffer): void {
    if (this.#ended) return;
    let frames: Frame[];
    try {
      frames = this.#reader.push(chunk);
    } catch {
      // a malformed frame (SpdyProtocolError) or a header block zlib cannot inflate: the
      // session's compression state is lost, so it cannot go on
      this.close(1);
      return;
    }
    for (const f of frames) this.#frame(f);
  }

  /** The transport closed under us. */
  closed(): void {
    this.#end();
  }

  /** GOAWAY, then close the transport. */
  close(status = 0): void {
    if (this.#ended) return;
    this.send(this.writer.goAway(this.#lastStreamId, status));
    this.#end();
  }

  /** @internal */
  send(bytes: Buffer): void {
    if (!this.#ended) this.#transport.write(bytes);
  }

  /** @internal */
  forget(id: number): void {
    this.#streams.delete(id);
  }

  #frame(f: Frame): void {
    switch (f.kind) {
      case 'syn_stream': {
        if (f.streamId % 2 === 0 || f.streamId <= this.#lastStreamId) {
          this.send(this.writer.rstStream(f.streamId, RST_PROTOCOL_ERROR));
          return;
        }
        this.#lastStreamId = f.streamId;
        const stream = new SpdyStream(this, f.streamId, f.headers);
        this.#streams.set(f.streamId, stream);
        this.send(this.writer.synReply(f.streamId));
        this.#onStream(stream);
        if (f.fin) stream.received({ kind: 'data', streamId: f.streamId, fin: true, data: Buffer.alloc(0) });
        return;
      }
      case 'data':
      case 'rst_stream':
        this.#streams.get(f.streamId)?.received(f);
        return;
      case 'ping':
        // the client's pings have odd ids; echo them (a server never pings here)
        if (f.id % 2 === 1) this.send(this.writer.ping(f.id));
        return;
      case 'goaway':
        this.#end();
        return;
      default:
        return;
    }
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const s of [...this.#streams.values()]) s.sessionEnded();
    this.#streams.clear();
    this.#transport.close();
    this.onEnd();
  }
}
