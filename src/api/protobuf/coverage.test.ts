// Skiff decodes protobuf for every built-in kind it serves: each kind of builtinRegistry() (and its
// List kind) is protobuf-capable, or listed here with the reason it is not.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtinRegistry } from '../index.ts';
import { FIXTURES } from './fixtures.ts';
import { isProtobufKind } from './index.ts';
import { KINDS } from './kinds.ts';

const NO_UPSTREAM_MESSAGE =
  'served from the external-snapshotter CRDs upstream: no generated.proto, clients send JSON only';

/** `apiVersion kind` of served kinds without a protobuf form, with the reason. */
const EXCEPTIONS: Record<string, string> = {
  'snapshot.storage.k8s.io/v1 VolumeSnapshot': NO_UPSTREAM_MESSAGE,
  'snapshot.storage.k8s.io/v1 VolumeSnapshotList': NO_UPSTREAM_MESSAGE,
  'snapshot.storage.k8s.io/v1 VolumeSnapshotContent': NO_UPSTREAM_MESSAGE,
  'snapshot.storage.k8s.io/v1 VolumeSnapshotContentList': NO_UPSTREAM_MESSAGE,
  'snapshot.storage.k8s.io/v1 VolumeSnapshotClass': NO_UPSTREAM_MESSAGE,
  'snapshot.storage.k8s.io/v1 VolumeSnapshotClassList': NO_UPSTREAM_MESSAGE,
};

/** The `apiVersion kind` pairs a served kind brings: itself, and its List unless create-only. */
function servedKinds(): string[] {
  const out: string[] = [];
  for (const def of builtinRegistry().all()) {
    const apiVersion = def.group ? `${def.group}/${def.version}` : def.version;
    out.push(`${apiVersion} ${def.kind}`);
    // Reviews are create-only (virtual): upstream has no List message for them.
    if (!def.virtual) out.push(`${apiVersion} ${def.listKind}`);
  }
  return out;
}

test('every served kind is protobuf-capable or a justified exception', () => {
  const missing = servedKinds().filter((key) => {
    const [apiVersion, kind] = key.split(' ');
    return !isProtobufKind(apiVersion, kind) && !Object.hasOwn(EXCEPTIONS, key);
  });
  assert.deepEqual(missing, [], 'served kinds with neither a protobuf message nor an exception');
});

test('every exception is served and really has no protobuf form', () => {
  const served = new Set(servedKinds());
  for (const key of Object.keys(EXCEPTIONS)) {
    const [apiVersion, kind] = key.split(' ');
    assert.ok(served.has(key), `${key} is not served: drop the exception`);
    assert.equal(isProtobufKind(apiVersion, kind), false, `${key} has a protobuf form: drop the exception`);
  }
});

test('every protobuf kind has a round-trip fixture', () => {
  const fixtures = new Set(FIXTURES.map((f) => `${f.apiVersion} ${f.kind}`));
  // meta/v1 kinds are checked once, under apiVersion "v1".
  const missing = Object.keys(KINDS).filter(
    (key) => !key.startsWith('meta.k8s.io/v1 ') && !fixtures.has(key),
  );
  assert.deepEqual(missing, []);
});
