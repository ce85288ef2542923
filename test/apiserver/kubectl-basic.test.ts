/** The real kubectl against the API server (fixture registry, memory store): the first-day commands. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fixtureRegistry } from './fixture-registry.ts';
import { backendCases, startCaseServer, type TestServer } from './helpers.ts';

const DEPLOY = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: c
        image: busybox
`;

for (const store of await backendCases()) {
  describe(`kubectl basics (${store.name} store)`, { skip: store.skip }, () => {
    let s: TestServer;
    before(async () => {
      s = await startCaseServer(store, fixtureRegistry());
    });
    after(async () => {
      await s?.close();
    });

    it('lists the default namespaces', async () => {
      const r = await s.kubectl(['get', 'ns', '-o', 'name']);
      assert.equal(r.code, 0, r.stderr);
      for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease'])
        assert.match(r.stdout, new RegExp(`namespace/${ns}\\n`));
    });

    it('applies a Deployment, then says unchanged', async () => {
      let r = await s.kubectl(['apply', '-f', '-'], DEPLOY);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /deployment.apps\/web created/);
      r = await s.kubectl(['apply', '-f', '-'], DEPLOY);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /deployment.apps\/web unchanged/);
    });

    it('prints tables, wide tables and yaml', async () => {
      let r = await s.kubectl(['get', 'deploy']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /NAME\s+REPLICAS\n/);
      assert.match(r.stdout, /web\s+2/);
      r = await s.kubectl(['get', 'deploy', '-o', 'wide']);
      assert.match(r.stdout, /SELECTOR/);
      r = await s.kubectl(['get', 'deploy', 'web', '-o', 'json']);
      const obj = JSON.parse(r.stdout);
      assert.equal(obj.spec.replicas, 2);
      assert.equal(obj.metadata.generation, 1);
      assert.match(obj.metadata.uid, /^[0-9a-f-]{36}$/);
    });

    it('scales, labels, annotates and patches', async () => {
      let r = await s.kubectl(['scale', 'deploy', 'web', '--replicas=3']);
      assert.equal(r.code, 0, r.stderr);
      r = await s.kubectl(['label', 'deploy', 'web', 'tier=front']);
      assert.equal(r.code, 0, r.stderr);
      r = await s.kubectl(['annotate', 'deploy', 'web', 'note=hello']);
      assert.equal(r.code, 0, r.stderr);
      r = await s.kubectl(['patch', 'deploy', 'web', '--type=merge', '-p', '{"spec":{"replicas":4}}']);
      assert.equal(r.code, 0, r.stderr);
      r = await s.kubectl([
        'patch',
        'deploy',
        'web',
        '--type=json',
        '-p',
        '[{"op":"replace","path":"/spec/replicas","value":5}]',
      ]);
      assert.equal(r.code, 0, r.stderr);
      r = await s.kubectl(['get', 'deploy', 'web', '-o', 'json']);
      const obj = JSON.parse(r.stdout);
      assert.equal(obj.spec.replicas, 5);
      assert.equal(obj.metadata.labels.tier, 'front');
      assert.equal(obj.metadata.annotations.note, 'hello');
      assert.equal(obj.metadata.generation, 4);
    });

    it('creates a namespace and a configmap in it, and deletes them', async () => {
      let r = await s.kubectl(['create', 'namespace', 'team-a']);
      assert.equal(r.code, 0, r.stderr);
      r = await s.kubectl(['-n', 'team-a', 'create', 'configmap', 'cfg', '--from-literal=a=1']);
      assert.equal(r.code, 0, r.stderr);
      r = await s.kubectl(['-n', 'team-a', 'get', 'cm', 'cfg', '-o', 'jsonpath={.data.a}']);
      assert.equal(r.stdout, '1');
      r = await s.kubectl(['-n', 'nope', 'create', 'configmap', 'cfg']);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /namespaces "nope" not found/);
      r = await s.kubectl(['-n', 'team-a', 'delete', 'cm', 'cfg']);
      assert.equal(r.code, 0, r.stderr);
    });
  });
}
