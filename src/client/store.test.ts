import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../api/resource.ts';
import { byNamespace, CacheStore, NAMESPACE_INDEX } from './store.ts';

const obj = (namespace: string, name: string, labels: Record<string, string> = {}): KubeObject => ({
  metadata: { namespace, name, labels },
});
const names = (l: KubeObject[]) => l.map((o) => o.metadata?.name).sort();

test('CacheStore keeps its indexes in step with sets and deletes', () => {
  const s = new CacheStore({ [NAMESPACE_INDEX]: byNamespace });
  s.set(obj('a', 'x'));
  s.set(obj('a', 'y'));
  s.set(obj('b', 'z'));
  assert.deepEqual(names(s.byIndex(NAMESPACE_INDEX, 'a')), ['x', 'y']);

  // an update filed under the same value: the index answers the new object
  const newer = obj('a', 'x', { v: '2' });
  assert.equal(s.set(newer)?.metadata?.labels?.v, undefined);
  assert.equal(
    s.byIndex(NAMESPACE_INDEX, 'a').find((o) => o.metadata?.name === 'x'),
    newer,
  );

  // values that change move the object; several values file it several times
  s.addIndexers({ tier: (o) => Object.values(o.metadata?.labels ?? {}) });
  assert.deepEqual(names(s.byIndex('tier', '2')), ['x']);
  s.set(obj('a', 'x', { v: '3', w: '4' }));
  assert.deepEqual(s.byIndex('tier', '2'), []);
  assert.deepEqual(names(s.byIndex('tier', '3')), ['x']);
  assert.deepEqual(names(s.byIndex('tier', '4')), ['x']);

  assert.equal(s.delete('a/x')?.metadata?.name, 'x');
  assert.equal(s.delete('a/x'), undefined);
  assert.deepEqual(s.byIndex('tier', '3'), []);
  assert.deepEqual(names(s.byIndex(NAMESPACE_INDEX, 'a')), ['y']);
  assert.equal(s.size, 2);
  assert.throws(() => s.byIndex('nope', 'a'), /no indexer named nope/);
  assert.throws(() => s.addIndexers({ tier: byNamespace }), /already exists/);
});
