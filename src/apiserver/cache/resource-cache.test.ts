import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withResourceVersion } from './resource-cache.ts';

/** What the API serves for a stored value: parse, set metadata.resourceVersion, serialize. */
function roundTrip(value: string, revision: number): string {
  const obj = JSON.parse(value);
  obj.metadata ??= {};
  obj.metadata.resourceVersion = String(revision);
  return JSON.stringify(obj);
}

test('withResourceVersion gives what the parse and serialize round trip gives', () => {
  const objects: unknown[] = [
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'a', namespace: 'default' },
      spec: { x: [1, { y: '}' }] },
    },
    { apiVersion: 'v1', kind: 'Pod', metadata: {}, spec: {} },
    { kind: 'Event', metadata: { name: 'e' }, involvedObject: { resourceVersion: '7', name: 'p' } },
    { spec: { metadata: { name: 'inner' } }, metadata: { labels: { '"metadata"': '{', 'a\\"b': ']' } } },
    {
      metadata: { name: 'x', annotations: { resourceVersion: '"resourceVersion":' } },
      data: { '1': 'z', b: '\u2028é😀' },
    },
    { metadata: { name: 'has', resourceVersion: '3' } }, // already has one: replaced in place
    { metadata: null, kind: 'X' },
    { kind: 'NoMeta' },
    { metadata: { name: 'back\\', labels: { 'k\\\\': '\\"', resourceVersion: '\\' } }, spec: { a: '\\' } },
    { kind: 'Late', spec: { containers: [{ name: 'c' }] }, metadata: { name: 'late' } },
    { metadata: { managedFields: [{ fieldsV1: { 'f:metadata': { 'f:name': {} } } }], name: 'm' } },
  ];
  for (const o of objects) {
    const v = JSON.stringify(o);
    assert.equal(withResourceVersion(v, 42), roundTrip(v, 42), v);
  }
  // text that is not JSON.stringify's (whitespace) is still served in the canonical form
  const pretty = JSON.stringify({ kind: 'Pod', metadata: { name: 'p' } }, null, 2);
  assert.equal(withResourceVersion(pretty, 5), roundTrip(pretty, 5));
});
