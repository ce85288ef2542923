// The `k8s\0` + runtime.Unknown envelope of one object (see index.ts).
import { badRequest, StatusError } from '../errors.ts';
import type { KubeObject } from '../resource.ts';
import { MessageCodec } from './codec.ts';
import { kindEntry } from './kinds.ts';

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';

export const MAGIC = [0x6b, 0x38, 0x73, 0x00];
const UNKNOWN = 'k8s.io.apimachinery.pkg.runtime.Unknown';

let shared: MessageCodec | undefined;
/** Built on first use (parsing the schema takes a few milliseconds), then reused: it never changes. */
export function codec(): MessageCodec {
  shared ??= new MessageCodec();
  return shared;
}

/** Whether `apiVersion`/`kind` has a protobuf message this codec knows. */
export function isProtobufKind(apiVersion: string, kind: string): boolean {
  return kindEntry(apiVersion, kind) !== undefined;
}

/** Decodes a `k8s\0`-prefixed protobuf body; throws a BadRequest StatusError for anything malformed or unknown. */
export function decodeObject(body: Uint8Array): KubeObject {
  try {
    return decodeEnvelope(body, 0);
  } catch (err) {
    if (err instanceof StatusError) throw err;
    throw badRequest(`protobuf: malformed body: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The nesting limit for objects embedded in RawExtensions as protobuf. */
const MAX_EMBEDDING = 8;

function decodeEnvelope(body: Uint8Array, depth: number): KubeObject {
  if (depth > MAX_EMBEDDING) throw badRequest('protobuf: objects embedded too deeply');
  if (body.length < 4 || MAGIC.some((b, i) => body[i] !== b)) {
    throw badRequest('protobuf: body does not start with the k8s\\0 magic prefix');
  }
  const c = codec();
  const unknown = c.decode(UNKNOWN, body.subarray(4));
  const typeMeta = (unknown.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  const apiVersion = typeMeta.apiVersion ?? '';
  const kind = typeMeta.kind ?? '';
  if (unknown.contentEncoding) {
    throw badRequest(
      `protobuf: content encoding ${JSON.stringify(unknown.contentEncoding)} is not supported`,
    );
  }
  if (!kind || !apiVersion) throw badRequest('protobuf: envelope has no apiVersion or kind');
  const entry = kindEntry(apiVersion, kind);
  if (!entry) throw badRequest(`protobuf: no protobuf decoding for ${apiVersion}, Kind=${kind}`);
  const raw = (unknown.raw as Uint8Array | undefined) ?? new Uint8Array(0);
  const message = c.decode(entry.message, raw);
  const json = c.toJson(entry.message, message, (bytes) => decodeEnvelope(bytes, depth + 1) as never);
  return { kind, apiVersion, ...json };
}

/** Encodes an object of a served kind as a `k8s\0`-prefixed protobuf body. */
export function encodeObject(obj: KubeObject): Uint8Array {
  const apiVersion = obj.apiVersion ?? '';
  const kind = obj.kind ?? '';
  const entry = kindEntry(apiVersion, kind);
  if (!entry) throw badRequest(`protobuf: no protobuf encoding for ${apiVersion}, Kind=${kind}`);
  const c = codec();
  const raw = c.encode(entry.message, c.fromJson(entry.message, obj as never, kind));
  const envelope = c.encode(UNKNOWN, {
    typeMeta: { apiVersion, kind },
    raw,
    contentEncoding: '',
    contentType: '',
  });
  const out = new Uint8Array(4 + envelope.length);
  out.set(MAGIC, 0);
  out.set(envelope, 4);
  return out;
}
