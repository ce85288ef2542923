import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StatusError } from '../errors.ts';
import type { KubeObject } from '../resource.ts';
import { FIXTURES } from './fixtures.ts';
import {
  decodeObject,
  decodeWatchEvents,
  encodeObject,
  encodeWatchEvent,
  WatchEventDecoder,
} from './index.ts';

const pod = FIXTURES.find((f) => f.kind === 'Pod') as KubeObject;
const status: KubeObject = {
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message: 'too old resource version: 1 (42)',
  reason: 'Expired',
  code: 410,
};
const bookmark: KubeObject = {
  kind: 'Pod',
  apiVersion: 'v1',
  metadata: { resourceVersion: '99', annotations: { 'k8s.io/initial-events-end': 'true' } },
  spec: { containers: null },
  status: {},
};
const events = [
  { type: 'ADDED', object: pod },
  { type: 'MODIFIED', object: FIXTURES.find((f) => f.kind === 'Ingress') as KubeObject },
  { type: 'DELETED', object: FIXTURES.find((f) => f.kind === 'CustomResourceDefinition') as KubeObject },
  { type: 'BOOKMARK', object: bookmark },
  { type: 'ERROR', object: status },
];

function isBadRequest(message: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof StatusError, String(err));
    assert.equal(err.code, 400);
    assert.match(err.message, message);
    return true;
  };
}

/** Reads a protobuf varint at `at`: [value, next offset]. */
function varint(b: Uint8Array, at: number): [number, number] {
  let v = 0;
  for (let shift = 0; ; shift += 7) {
    const byte = b[at++];
    v += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return [v, at];
  }
}

describe('protobuf watch framing', () => {
  test('a frame is a big-endian length, then WatchEvent{type=1, object=2: RawExtension{raw=1}}', () => {
    const frame = encodeWatchEvent('ADDED', pod);
    const length = new DataView(frame.buffer, frame.byteOffset).getUint32(0, false);
    assert.equal(length, frame.length - 4);
    const msg = frame.subarray(4);
    // field 1, wire type 2: the type string
    assert.equal(msg[0], 0x0a);
    let [len, at] = varint(msg, 1);
    assert.equal(Buffer.from(msg.subarray(at, at + len)).toString(), 'ADDED');
    at += len;
    // field 2, wire type 2: the RawExtension, whose field 1 holds the object's whole protobuf body
    assert.equal(msg[at], 0x12);
    [len, at] = varint(msg, at + 1);
    assert.equal(at + len, msg.length, 'nothing follows the object');
    const raw = msg.subarray(at, at + len);
    assert.equal(raw[0], 0x0a);
    const [rawLen, rawAt] = varint(raw, 1);
    assert.equal(rawAt + rawLen, raw.length);
    const body = raw.subarray(rawAt);
    assert.deepEqual(Buffer.from(body), Buffer.from(encodeObject(pod)));
    assert.deepEqual(decodeObject(body), pod);
  });

  test('events survive any chunking of the stream', async () => {
    const stream = Buffer.concat(events.map((e) => encodeWatchEvent(e.type, e.object)));
    for (const size of [1, 3, 4, 5, 17, 1000, stream.length]) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < stream.length; i += size) chunks.push(stream.subarray(i, i + size));
      const got = [];
      for await (const ev of decodeWatchEvents(chunks)) got.push(ev);
      assert.deepEqual(got, events, `chunks of ${size} bytes`);
    }
  });

  test('an async stream, and a decoder fed by hand', async () => {
    async function* body() {
      for (const e of events) yield encodeWatchEvent(e.type, e.object);
    }
    const got = [];
    for await (const ev of decodeWatchEvents(body())) got.push(ev.type);
    assert.deepEqual(got, ['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

    const decoder = new WatchEventDecoder();
    const frame = encodeWatchEvent('ADDED', status);
    assert.deepEqual(decoder.push(frame.subarray(0, 2)), []);
    assert.deepEqual(decoder.push(frame.subarray(2)), [{ type: 'ADDED', object: status }]);
    decoder.end();
  });

  test('an object embedded as JSON is accepted', () => {
    // WatchEvent{type: "ADDED", object: {raw: '{"kind":"Namespace"...}'}}, framed by hand
    const json = Buffer.from('{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"n"}}');
    const rawExt = Buffer.concat([Buffer.from([0x0a, json.length]), json]);
    const msg = Buffer.concat([
      Buffer.from([0x0a, 5]),
      Buffer.from('ADDED'),
      Buffer.from([0x12, rawExt.length]),
      rawExt,
    ]);
    const frame = Buffer.concat([Buffer.from([0, 0, 0, msg.length]), msg]);
    assert.deepEqual(new WatchEventDecoder().push(frame), [
      { type: 'ADDED', object: { kind: 'Namespace', apiVersion: 'v1', metadata: { name: 'n' } } },
    ]);
  });

  test('malformed streams give BadRequest', () => {
    const frame = encodeWatchEvent('ADDED', pod);
    const truncated = new WatchEventDecoder();
    assert.deepEqual(truncated.push(frame.subarray(0, frame.length - 1)), []);
    assert.throws(() => truncated.end(), isBadRequest(/ended inside a frame/));

    assert.throws(
      () => new WatchEventDecoder().push(Buffer.from([0xff, 0xff, 0xff, 0xff])),
      isBadRequest(/too large/),
    );
    const frameOf = (msg: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, msg.length]), msg]);
    assert.throws(
      () => new WatchEventDecoder().push(frameOf(Buffer.from([0x12, 0x00]))),
      isBadRequest(/no type/),
    );
    assert.throws(
      () => new WatchEventDecoder().push(frameOf(Buffer.from([0x0a, 0x05, ...Buffer.from('ADDED')]))),
      isBadRequest(/ADDED event has no object/),
    );
    assert.throws(
      () => new WatchEventDecoder().push(frameOf(Buffer.from([0x0a, 0x05, 0x41]))),
      isBadRequest(/malformed event/),
    );
    const notJson = Buffer.from([0x0a, 0x01, 0x41, 0x12, 0x04, 0x0a, 0x02, 0x7b, 0x78]);
    assert.throws(() => new WatchEventDecoder().push(frameOf(notJson)), isBadRequest(/neither protobuf nor/));
  });

  test('encoding an object without a protobuf form fails like encodeObject', () => {
    assert.throws(
      () => encodeWatchEvent('ADDED', { kind: 'VolumeSnapshot', apiVersion: 'snapshot.storage.k8s.io/v1' }),
      isBadRequest(/no protobuf encoding/),
    );
  });
});
