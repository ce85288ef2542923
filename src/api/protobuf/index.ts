/**
 * Kubernetes' protobuf wire format (`application/vnd.kubernetes.protobuf`) for the built-in kinds.
 *
 * A body is the 4 magic bytes `k8s\0` followed by a `runtime.Unknown` message: typeMeta
 * {apiVersion, kind}, raw (the object's own message), contentEncoding and contentType (both empty
 * in practice). Decoding gives exactly the JSON object Kubernetes would serve for the same object,
 * so the API server handles a protobuf body like a JSON one:
 *
 *   const obj = decodeObject(body);   // { kind: 'ConfigMap', apiVersion: 'v1', metadata: {...}, data: {...} }
 *   res.end(encodeObject(stored));    // for clients that accept only protobuf
 *
 * Watches (`application/vnd.kubernetes.protobuf;stream=watch`) send one length-prefixed
 * meta/v1 WatchEvent per event, the object inside it in the envelope above:
 *
 *   res.write(encodeWatchEvent('ADDED', pod));
 *   for await (const ev of decodeWatchEvents(res)) handle(ev.type, ev.object);
 *
 * Message layouts and JSON facts live in `schema.ts` (see `notation.ts` for the notation).
 */

export { decodeObject, encodeObject, isProtobufKind, PROTOBUF_CONTENT_TYPE } from './object.ts';
export {
  decodeWatchEvents,
  encodeWatchEvent,
  WATCH_CONTENT_TYPE,
  type WatchEvent,
  WatchEventDecoder,
} from './watch.ts';
