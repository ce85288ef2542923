/**
 * The protobuf watch stream, as Kubernetes' streaming protobuf serializer writes it for
 * `application/vnd.kubernetes.protobuf;stream=watch`: a sequence of frames, each a 4-byte
 * big-endian length followed by that many bytes of a meta/v1 `WatchEvent{type, object}` message.
 * The frame itself has no `k8s\0` prefix or Unknown envelope (the reader knows it is a
 * WatchEvent); the object inside, a RawExtension, holds the object's full protobuf body, envelope
 * and all, so it names its own kind.
 */
import { badRequest } from '../errors.ts';
import type { KubeObject } from '../resource.ts';
import { codec, decodeObject, encodeObject, MAGIC } from './object.ts';

export const WATCH_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf;stream=watch';

const WATCH_EVENT = 'k8s.io.apimachinery.pkg.apis.meta.v1.WatchEvent';

/** Larger frames are refused rather than buffered: no object of a served kind comes near it. */
const MAX_FRAME = 64 * 1024 * 1024;

/** One event: `ADDED`, `MODIFIED`, `DELETED`, `BOOKMARK`, or `ERROR` (then the object is a Status). */
export interface WatchEvent {
  type: string;
  object: KubeObject;
}

/** One frame of the stream: the length prefix and the WatchEvent message. */
export function encodeWatchEvent(type: string, obj: KubeObject): Uint8Array {
  const message = codec().encode(WATCH_EVENT, { type, object: { raw: encodeObject(obj) } });
  const frame = new Uint8Array(4 + message.length);
  new DataView(frame.buffer).setUint32(0, message.length);
  frame.set(message, 4);
  return frame;
}

/**
 * Splits a stream into frames as its bytes arrive, in chunks of any size. Throws a BadRequest
 * StatusError for a malformed frame, and from `end()` when the stream stopped inside one.
 */
export class WatchEventDecoder {
  #chunks: Uint8Array[] = [];
  #buffered = 0;

  /** The events completed by this chunk, in order. */
  push(chunk: Uint8Array): WatchEvent[] {
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
    }
    const events: WatchEvent[] = [];
    while (this.#buffered >= 4) {
      const head = this.#joined();
      const size = new DataView(head.buffer, head.byteOffset, 4).getUint32(0);
      if (size > MAX_FRAME) throw badRequest(`protobuf watch: a frame of ${size} bytes is too large`);
      if (this.#buffered < 4 + size) break;
      const rest = head.subarray(4 + size);
      this.#chunks = rest.length > 0 ? [rest] : [];
      this.#buffered = rest.length;
      events.push(decodeFrame(head.subarray(4, 4 + size)));
    }
    return events;
  }

  /** Call when the stream ends: throws if it ended inside a frame. */
  end(): void {
    if (this.#buffered > 0) {
      throw badRequest(`protobuf watch: the stream ended inside a frame (${this.#buffered} bytes left)`);
    }
  }

  /** The buffered bytes as one array (joined only when a frame spans chunks). */
  #joined(): Uint8Array {
    if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks, this.#buffered)];
    return this.#chunks[0];
  }
}

/** The events of a whole stream, e.g. an HTTP response body. */
export async function* decodeWatchEvents(
  stream: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): AsyncGenerator<WatchEvent> {
  const decoder = new WatchEventDecoder();
  for await (const chunk of stream) yield* decoder.push(chunk);
  decoder.end();
}

function decodeFrame(frame: Uint8Array): WatchEvent {
  let message: Record<string, unknown>;
  try {
    message = codec().decode(WATCH_EVENT, frame);
  } catch (err) {
    throw badRequest(`protobuf watch: malformed event: ${err instanceof Error ? err.message : String(err)}`);
  }
  const type = typeof message.type === 'string' ? message.type : '';
  if (!type) throw badRequest('protobuf watch: event has no type');
  const raw = (message.object as { raw?: Uint8Array } | undefined)?.raw;
  if (!raw || raw.length === 0) throw badRequest(`protobuf watch: ${type} event has no object`);
  if (raw.length >= 4 && MAGIC.every((b, i) => raw[i] === b)) return { type, object: decodeObject(raw) };
  // A RawExtension may hold JSON instead; accept it as clients do.
  let object: unknown;
  try {
    object = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
  } catch {
    // reported below
  }
  if (typeof object === 'object' && object !== null && !Array.isArray(object))
    return { type, object: object as KubeObject };
  throw badRequest(`protobuf watch: the object of a ${type} event is neither protobuf nor a JSON object`);
}
