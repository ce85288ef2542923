import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtinRegistry, refName } from './index.ts';
import type { Schema } from './resource.ts';

function walk(s: Schema, visit: (s: Schema) => void): void {
  visit(s);
  for (const p of Object.values(s.properties ?? {})) walk(p, visit);
  if (s.items) walk(s.items, visit);
  if (s.additionalProperties && typeof s.additionalProperties === 'object')
    walk(s.additionalProperties, visit);
  for (const x of [...(s.allOf ?? []), ...(s.anyOf ?? []), ...(s.oneOf ?? [])]) walk(x, visit);
}

test('every $ref resolves to a named definition', () => {
  const defs = builtinRegistry().definitions();
  const missing = new Set<string>();
  for (const [name, s] of Object.entries(defs)) {
    walk(s, (x) => {
      if (x.$ref) {
        const target = refName(x);
        if (!target || !defs[target]) missing.add(`${name} -> ${x.$ref}`);
      }
    });
  }
  assert.deepEqual([...missing], []);
});

test('every kind has a schema with its GVK, apiVersion, kind and metadata', () => {
  const reg = builtinRegistry();
  const defs = reg.definitions();
  for (const d of reg.all()) {
    const s = defs[d.schemaName];
    assert.ok(s, `schema ${d.schemaName} for ${d.kind}`);
    assert.deepEqual(s['x-kubernetes-group-version-kind'], [
      { group: d.group, version: d.version, kind: d.kind },
    ]);
    for (const f of ['apiVersion', 'kind', 'metadata']) assert.ok(s.properties?.[f], `${d.kind}.${f}`);
    // Create-only kinds are never listed, so they have no list schema (as upstream).
    if (!d.virtual) assert.ok(defs[`${d.schemaName}List`], `${d.kind}List schema`);
  }
});

test('every kind is found by resource and by kind', () => {
  const reg = builtinRegistry();
  for (const d of reg.all()) {
    assert.equal(reg.byResource(d.group, d.version, d.plural), d);
    assert.equal(reg.byKind(d.group, d.version, d.kind), d);
    assert.equal(d.listKind, `${d.kind}List`);
  }
  assert.equal(reg.byResource('', 'v1', 'nope'), undefined);
});

test('short names are unique to one kind', () => {
  const owner = new Map<string, string>();
  for (const d of builtinRegistry().all()) {
    for (const s of d.shortNames ?? []) {
      const prev = owner.get(s);
      assert.ok(prev === undefined || prev === d.kind, `short name ${s} used by ${prev} and ${d.kind}`);
      owner.set(s, d.kind);
    }
  }
});

test('names as Kubernetes has them', () => {
  const reg = builtinRegistry();
  const pods = reg.byResource('', 'v1', 'pods');
  assert.deepEqual(pods?.shortNames, ['po']);
  assert.deepEqual(pods?.categories, ['all']);
  assert.equal(pods?.singular, 'pod');
  assert.equal(pods?.schemaName, 'io.k8s.api.core.v1.Pod');
  const deploy = reg.byKind('apps', 'v1', 'Deployment');
  assert.deepEqual(deploy?.shortNames, ['deploy']);
  assert.equal(deploy?.subresources?.scale?.specReplicasPath, 'spec.replicas');
  assert.equal(deploy?.tracksGeneration, true);
  assert.equal(reg.byResource('', 'v1', 'namespaces')?.namespaced, false);
});

test('list semantics follow upstream', () => {
  const defs = builtinRegistry().definitions();
  const spec = defs['io.k8s.api.core.v1.PodSpec'].properties ?? {};
  assert.equal(spec.containers['x-kubernetes-patch-merge-key'], 'name');
  assert.equal(spec.containers['x-kubernetes-patch-strategy'], 'merge');
  assert.equal(spec.tolerations['x-kubernetes-list-type'], 'atomic');
  const ctr = defs['io.k8s.api.core.v1.Container'].properties ?? {};
  assert.deepEqual(ctr.ports['x-kubernetes-list-map-keys'], ['containerPort', 'protocol']);
  assert.equal(ctr.volumeMounts['x-kubernetes-patch-merge-key'], 'mountPath');
  const meta = defs['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'].properties ?? {};
  assert.equal(meta.finalizers['x-kubernetes-list-type'], 'set');
  assert.equal(meta.ownerReferences['x-kubernetes-patch-merge-key'], 'uid');
});
