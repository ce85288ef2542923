import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StatusError } from '../errors.ts';
import { FIXTURES } from './fixtures.ts';
import { decodeObject, encodeObject, isProtobufKind } from './index.ts';

describe('round trip of every served kind', () => {
  for (const obj of FIXTURES) {
    test(`${obj.apiVersion} ${obj.kind}`, () => {
      assert.ok(isProtobufKind(obj.apiVersion ?? '', obj.kind ?? ''));
      const bytes = encodeObject(obj);
      assert.deepEqual([...bytes.subarray(0, 4)], [0x6b, 0x38, 0x73, 0x00]);
      assert.deepEqual(decodeObject(bytes), obj);
    });
  }
});

describe('JSON details', () => {
  test('a RawExtension holding a protobuf object decodes to its JSON', () => {
    const inner = encodeObject({
      kind: 'ConfigMap',
      apiVersion: 'v1',
      metadata: { name: 'in' },
      data: { a: 'b' },
    });
    const outer = encodeObject({
      kind: 'ControllerRevision',
      apiVersion: 'apps/v1',
      metadata: { name: 'r' },
      revision: 2,
    });
    // Append data (field 2) = RawExtension{raw (field 1) = inner} to the ControllerRevision message.
    const raw = Buffer.concat([Buffer.from([0x0a, inner.length]), inner]);
    const data = Buffer.concat([Buffer.from([0x12, raw.length]), raw]);
    const envelope = Buffer.from(outer.subarray(4));
    const at = 2 + envelope[1];
    const message = Buffer.concat([envelope.subarray(at + 2, at + 2 + envelope[at + 1]), data]);
    const body = Buffer.concat([
      Buffer.from(MAGIC),
      envelope.subarray(0, at),
      Buffer.from([0x12, message.length]),
      message,
      envelope.subarray(at + 2 + envelope[at + 1]),
    ]);
    assert.deepEqual(decodeObject(body), {
      kind: 'ControllerRevision',
      apiVersion: 'apps/v1',
      metadata: { name: 'r' },
      data: { kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'in' }, data: { a: 'b' } },
      revision: 2,
    });
  });

  test('map keys named __proto__ stay data', () => {
    const obj = JSON.parse(
      '{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"x"},"data":{"__proto__":"v","a":"b"}}',
    );
    const back = decodeObject(encodeObject(obj));
    assert.equal(Object.getPrototypeOf(back.data), Object.prototype);
    assert.equal((back.data as Record<string, string>).a, 'b');
    assert.equal(Object.getOwnPropertyDescriptor(back.data, '__proto__')?.value, 'v');
  });

  test('Time keeps whole seconds, MicroTime six digits, both in UTC', () => {
    const lease = {
      kind: 'Lease',
      apiVersion: 'coordination.k8s.io/v1',
      metadata: { name: 'l', creationTimestamp: '2024-01-02T05:04:05.999+02:00' },
      spec: { renewTime: '2024-01-02T05:04:05.1234567+02:00' },
    };
    assert.deepEqual(decodeObject(encodeObject(lease)), {
      ...lease,
      metadata: { name: 'l', creationTimestamp: '2024-01-02T03:04:05Z' },
      spec: { renewTime: '2024-01-02T03:04:05.123456Z' },
    });
  });
});

/** Deterministic xorshift32, so a failure reproduces. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

/** Decodes, and accepts only two outcomes: a JSON-serializable object or a BadRequest StatusError. */
function decodeOrBadRequest(bytes: Uint8Array): 'ok' | 'bad' {
  try {
    JSON.stringify(decodeObject(bytes));
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof StatusError, `not a StatusError: ${err}`);
    assert.equal(err.reason, 'BadRequest');
    assert.equal(err.code, 400);
    return 'bad';
  }
}

const MAGIC = [0x6b, 0x38, 0x73, 0x00];

describe('malformed input gives BadRequest', () => {
  const unknownKind = (apiVersion: string, kind: string) => {
    const ok = encodeObject({ kind: 'Namespace', apiVersion: 'v1', metadata: { name: 'n' } });
    // Rewrite the envelope's typeMeta (field 1) with another kind.
    const typeMeta = Buffer.concat([
      Buffer.from([0x0a, apiVersion.length]),
      Buffer.from(apiVersion),
      Buffer.from([0x12, kind.length]),
      Buffer.from(kind),
    ]);
    const rest = ok.subarray(4 + 2 + ok[5]);
    return Buffer.concat([Buffer.from(MAGIC), Buffer.from([0x0a, typeMeta.length]), typeMeta, rest]);
  };

  const cases: [string, Uint8Array, RegExp][] = [
    ['empty body', new Uint8Array(0), /magic/],
    ['JSON body', Buffer.from('{"kind":"Namespace"}'), /magic/],
    ['magic only', Buffer.from(MAGIC), /apiVersion or kind/],
    ['unknown kind', unknownKind('v1', 'Widget'), /no protobuf decoding for v1, Kind=Widget/],
    ['unknown group', unknownKind('example.com/v1', 'Namespace'), /example.com\/v1/],
    [
      'truncated',
      encodeObject({ kind: 'Secret', apiVersion: 'v1', metadata: { name: 's' } }).subarray(0, 12),
      /malformed/,
    ],
    ['deep groups', Buffer.concat([Buffer.from(MAGIC), Buffer.alloc(200_000, 0x0b)]), /malformed/],
    [
      'gzip content encoding',
      Buffer.concat([
        Buffer.from(MAGIC),
        Buffer.from([0x0a, 0x06, 0x0a, 0x02, 0x76, 0x31, 0x12, 0x00, 0x1a, 0x04]),
        Buffer.from('gzip'),
      ]),
      /content encoding "gzip"/,
    ],
  ];
  for (const [name, bytes, message] of cases) {
    test(name, () => {
      assert.throws(
        () => decodeObject(bytes),
        (err: unknown) => {
          assert.ok(err instanceof StatusError);
          assert.equal(err.reason, 'BadRequest');
          assert.match(err.message, message);
          return true;
        },
      );
    });
  }

  test('RawExtension that is not JSON', () => {
    const bytes = encodeObject({
      kind: 'ControllerRevision',
      apiVersion: 'apps/v1',
      metadata: { name: 'r' },
      revision: 1,
    });
    // data (field 2) holding raw (field 1) = "{x"
    const raw = Buffer.from([0x12, 0x04, 0x0a, 0x02, 0x7b, 0x78]);
    const envelope = Buffer.from(bytes.subarray(4));
    const at = envelope.indexOf(0x12, 2 + envelope[1]); // the envelope's raw field
    const inner = envelope.subarray(at + 2, at + 2 + envelope[at + 1]);
    const patched = Buffer.concat([inner, raw]);
    const out = Buffer.concat([
      Buffer.from(MAGIC),
      envelope.subarray(0, at),
      Buffer.from([0x12, patched.length]),
      patched,
      envelope.subarray(at + 2 + envelope[at + 1]),
    ]);
    assert.throws(() => decodeObject(out), /data does not hold valid JSON/);
  });

  test('encodeObject rejects unknown kinds and wrong shapes', () => {
    assert.throws(() => encodeObject({ kind: 'Widget', apiVersion: 'v1' }), /no protobuf encoding/);
    assert.throws(
      () => encodeObject({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'x' }, data: { a: 1 } }),
      /ConfigMap.data.a: expected a string/,
    );
    assert.equal(isProtobufKind('v1', 'Widget'), false);
  });

  test('random, truncated and bit-flipped bytes never crash or hang', () => {
    const random = rng(0x5eed);
    const started = Date.now();
    let bad = 0;
    let total = 0;
    const check = (bytes: Uint8Array) => {
      total++;
      if (decodeOrBadRequest(bytes) === 'bad') bad++;
    };
    for (let i = 0; i < 300; i++) {
      const len = Math.floor(random() * 300);
      const bytes = new Uint8Array(len + 4);
      bytes.set(MAGIC);
      for (let j = 4; j < bytes.length; j++) bytes[j] = Math.floor(random() * 256);
      check(bytes);
      if (bytes[4] !== 0x6b) assert.equal(decodeOrBadRequest(bytes.subarray(4)), 'bad', 'no magic prefix');
    }
    for (const obj of FIXTURES) {
      const good = encodeObject(obj);
      for (let i = 0; i < 40; i++) check(good.subarray(0, Math.floor(random() * good.length)));
      for (let i = 0; i < 60; i++) {
        const flipped = Uint8Array.from(good);
        for (let k = 0; k < 1 + Math.floor(random() * 3); k++) {
          const at = 4 + Math.floor(random() * (flipped.length - 4));
          flipped[at] ^= 1 << Math.floor(random() * 8);
        }
        check(flipped);
      }
    }
    assert.ok(bad > total / 3, `only ${bad} of ${total} mangled bodies were rejected`);
    assert.ok(Date.now() - started < 20_000, 'fuzzing took too long');
  });
});
