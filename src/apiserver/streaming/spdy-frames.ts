/**
 * SPDY/3.1 framing (draft 3.1), the part Kubernetes' streaming clients speak: kubectl's
 * port-forward (and exec/attach before WebSockets) opens one SPDY session over an upgraded
 * connection and one stream per channel, named by headers (`streamtype`, `port`, `requestid`).
 *
 *   control frame  |1| version=3 (15) | type (16) | flags (8) | length (24) | payload
 *   data frame     |0| stream id (31)              | flags (8) | length (24) | payload
 *
 * Header blocks (SYN_STREAM, SYN_REPLY, HEADERS) are a count and length-prefixed name/value
 * pairs, compressed with one zlib stream per direction for the whole session, primed with
 * SPDY3_DICTIONARY and sync-flushed after every block.
 *
 * Written by hand rather than with a package: the one SPDY/3.1 framing package on npm
 * (spdy-transport, unpublished since 2018) models sessions as HTTP requests and responses,
 * while Kubernetes' streams carry no HTTP pseudo-headers and no flow control (moby/spdystream,
 * which kubectl uses, neither sends nor honours WINDOW_UPDATE).
 */
import zlib from 'node:zlib';
import { SPDY3_DICTIONARY } from './spdy-dictionary.ts';

export const SPDY_VERSION = 3;

/** Control frame types. */
export const SYN_STREAM = 1;
export const SYN_REPLY = 2;
export const RST_STREAM = 3;
export const SETTINGS = 4;
export const PING = 6;
export const GOAWAY = 7;
export const HEADERS = 8;
export const WINDOW_UPDATE = 9;

export const FLAG_FIN = 0x01;

/** RST_STREAM status codes used here. */
export const RST_PROTOCOL_ERROR = 1;
export const RST_REFUSED_STREAM = 3;
export const RST_CANCEL = 5;
export const RST_INTERNAL_ERROR = 6;

/** Header names are lower case; several values of one name are joined by NUL. */
export type SpdyHeaders = Record<string, string>;

export type Frame =
  | { kind: 'data'; streamId: number; fin: boolean; data: Buffer }
  | { kind: 'syn_stream'; streamId: number; fin: boolean; headers: SpdyHeaders }
  | { kind: 'syn_reply' | 'headers'; streamId: number; fin: boolean; headers: SpdyHeaders }
  | { kind: 'rst_stream'; streamId: number; status: number }
  | { kind: 'ping'; id: number }
  | { kind: 'goaway'; lastGoodStreamId: number; status: number }
  | { kind: 'ignored'; type: number };

/** The largest payload one frame carries (the length field is 24 bits). */
export const MAX_FRAME_PAYLOAD = 0xffffff;
const WINDOW = 32 * 1024;

/**
 * One direction of the session's header compression. zlib's window (32 KiB) is all that
 * links one block to those before it, and every block ends in a sync flush on a byte
 * boundary, so each block is compressed (or inflated) on its own as raw deflate primed with
 * the last 32 KiB of what came before (the dictionary first), after the zlib header of the
 * first block.
 */
class HeaderZlib {
  #history: Buffer = SPDY3_DICTIONARY;
  #first = true;

  #remember(plain: Buffer): void {
    const all = Buffer.concat([this.#history, plain]);
    this.#history = all.length > WINDOW ? all.subarray(all.length - WINDOW) : all;
  }

  compress(plain: Buffer): Buffer {
    const opts = { dictionary: this.#history, finishFlush: zlib.constants.Z_SYNC_FLUSH };
    const out = this.#first ? zlib.deflateSync(plain, opts) : zlib.deflateRawSync(plain, opts);
    this.#first = false;
    this.#remember(plain);
    return out;
  }

  inflate(block: Buffer): Buffer {
    const opts = { dictionary: this.#history, finishFlush: zlib.constants.Z_SYNC_FLUSH };
    const out = this.#first ? zlib.inflateSync(block, opts) : zlib.inflateRawSync(block, opts);
    this.#first = false;
    this.#remember(out);
    return out;
  }
}

export class SpdyProtocolError extends Error {}

function encodeHeaderBlock(headers: SpdyHeaders): Buffer {
  const parts: Buffer[] = [u32(Object.keys(headers).length)];
  for (const [name, value] of Object.entries(headers)) {
    const n = Buffer.from(name.toLowerCase());
    const v = Buffer.from(value);
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

function decodeHeaderBlock(b: Buffer): SpdyHeaders {
  const headers: SpdyHeaders = {};
  let at = 0;
  const take = (): string => {
    if (at + 4 > b.length) throw new SpdyProtocolError('truncated header block');
    const len = b.readUInt32BE(at);
    at += 4;
    if (at + len > b.length) throw new SpdyProtocolError('truncated header block');
    const s = b.toString('utf8', at, at + len);
    at += len;
    return s;
  };
  if (b.length < 4) throw new SpdyProtocolError('truncated header block');
  const count = b.readUInt32BE(0);
  at = 4;
  for (let i = 0; i < count; i++) {
    const name = take();
    const value = take();
    headers[name.toLowerCase()] = name in headers ? `${headers[name]}\0${value}` : value;
  }
  return headers;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

/** Reads frames from a byte stream that arrives in arbitrary pieces. */
export class FrameReader {
  #buf: Buffer = Buffer.alloc(0);
  #zlib = new HeaderZlib();

  /** The frames completed by `chunk`, in order. Throws SpdyProtocolError on a malformed frame. */
  push(chunk: Buffer): Frame[] {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk;
    const frames: Frame[] = [];
    while (this.#buf.length >= 8) {
      const length = this.#buf.readUInt32BE(4) & 0xffffff;
      if (this.#buf.length < 8 + length) break;
      const head = this.#buf.subarray(0, 8);
      const payload = this.#buf.subarray(8, 8 + length);
      this.#buf = this.#buf.subarray(8 + length);
      frames.push(this.#decode(head, payload));
    }
    return frames;
  }

  #decode(head: Buffer, p: Buffer): Frame {
    const flags = head[4];
    const fin = (flags & FLAG_FIN) !== 0;
    if ((head[0] & 0x80) === 0) {
      return { kind: 'data', streamId: head.readUInt32BE(0) & 0x7fffffff, fin, data: Buffer.from(p) };
    }
    const version = head.readUInt16BE(0) & 0x7fff;
    if (version !== SPDY_VERSION) throw new SpdyProtocolError(`unsupported SPDY version ${version}`);
    const type = head.readUInt16BE(2);
    const need = (n: number) => {
      if (p.length < n) throw new SpdyProtocolError(`control frame ${type} too short`);
    };
    switch (type) {
      case SYN_STREAM:
        need(10);
        return {
          kind: 'syn_stream',
          streamId: p.readUInt32BE(0) & 0x7fffffff,
          fin,
          headers: decodeHeaderBlock(this.#zlib.inflate(p.subarray(10))),
        };
      case SYN_REPLY:
      case HEADERS:
        need(4);
        return {
          kind: type === SYN_REPLY ? 'syn_reply' : 'headers',
          streamId: p.readUInt32BE(0) & 0x7fffffff,
          fin,
          headers: decodeHeaderBlock(this.#zlib.inflate(p.subarray(4))),
        };
      case RST_STREAM:
        need(8);
        return { kind: 'rst_stream', streamId: p.readUInt32BE(0) & 0x7fffffff, status: p.readUInt32BE(4) };
      case PING:
        need(4);
        return { kind: 'ping', id: p.readUInt32BE(0) };
      case GOAWAY:
        need(8);
        return {
          kind: 'goaway',
          lastGoodStreamId: p.readUInt32BE(0) & 0x7fffffff,
          status: p.readUInt32BE(4),
        };
      default:
        // SETTINGS, WINDOW_UPDATE, CREDENTIAL and unknown types carry nothing this server acts on
        return { kind: 'ignored', type };
    }
  }
}

/** Encodes frames; one per session, since header compression is stateful. */
export class FrameWriter {
  #zlib = new HeaderZlib();

  /** DATA frames for `data` (split at the 24-bit length limit); FIN goes on the last one. */
  data(streamId: number, data: Buffer, fin = false): Buffer {
    const frames: Buffer[] = [];
    let at = 0;
    do {
      const piece = data.subarray(at, at + MAX_FRAME_PAYLOAD);
      at += piece.length;
      const head = Buffer.alloc(8);
      head.writeUInt32BE(streamId & 0x7fffffff, 0);
      head.writeUInt32BE((((fin && at >= data.length ? FLAG_FIN : 0) << 24) | piece.length) >>> 0, 4);
      frames.push(head, piece);
    } while (at < data.length);
    return Buffer.concat(frames);
  }

  synStream(streamId: number, headers: SpdyHeaders, fin = false): Buffer {
    const fixed = Buffer.alloc(10);
    fixed.writeUInt32BE(streamId & 0x7fffffff, 0);
    const block = this.#zlib.compress(encodeHeaderBlock(headers));
    return control(SYN_STREAM, fin ? FLAG_FIN : 0, Buffer.concat([fixed, block]));
  }

  synReply(streamId: number, headers: SpdyHeaders = {}, fin = false): Buffer {
    const block = this.#zlib.compress(encodeHeaderBlock(headers));
    return control(SYN_REPLY, fin ? FLAG_FIN : 0, Buffer.concat([u32(streamId & 0x7fffffff), block]));
  }

  rstStream(streamId: number, status: number): Buffer {
    return control(RST_STREAM, 0, Buffer.concat([u32(streamId & 0x7fffffff), u32(status)]));
  }

  ping(id: number): Buffer {
    return control(PING, 0, u32(id));
  }

  goAway(lastGoodStreamId: number, status = 0): Buffer {
    return control(GOAWAY, 0, Buffer.concat([u32(lastGoodStreamId & 0x7fffffff), u32(status)]));
  }
}

function control(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE(((flags << 24) | payload.length) >>> 0, 4);
  return Buffer.concat([head, payload]);
}
