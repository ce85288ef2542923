/** Deletion through the real kubectl: cascades (garbage collector) and namespace termination. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runGarbageCollector } from '../../src/controllers/garbage-collector/index.ts';
import { runNamespaceController } from '../../src/controllers/namespace/index.ts';
import { fixtureRegistry } from './fixture-registry.ts';
import { backendCases, startCaseServer, type TestServer } from './helpers.ts';

async function until(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(50);
  }
  assert.fail(`timed out waiting for ${what}`);
}

for (const store of await backendCases()) {
  describe(`deletion cascades (${store.name} store)`, { skip: store.skip }, () => {
    let s: TestServer;
    before(async () => {
      s = await startCaseServer(store, fixtureRegistry(), {
        controllers: [runGarbageCollector, runNamespaceController],
      });
    });
    after(async () => {
      await s?.close();
    });

    async function ownerWithDependent(ns: string, name: string): Promise<void> {
      let r = await s.kubectl(['-n', ns, 'create', 'deployment', name, '--image=busybox']);
      assert.equal(r.code, 0, r.stderr);
      r = await s.kubectl(['-n', ns, 'get', 'deploy', name, '-o', 'jsonpath={.metadata.uid}']);
      const uid = r.stdout;
      const rs = {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: `${name}-rs`,
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'Deployment',
              name,
              uid,
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
        spec: {},
      };
      r = await s.kubectl(['-n', ns, 'create', '-f', '-'], JSON.stringify(rs));
      assert.equal(r.code, 0, r.stderr);
    }

    const exists = async (ns: string, what: string) => (await s.kubectl(['-n', ns, 'get', what])).code === 0;

    it('background deletion removes dependents', async () => {
      await ownerWithDependent('default', 'bg');
      const r = await s.kubectl(['delete', 'deploy', 'bg']);
      assert.equal(r.code, 0, r.stderr);
      await until('the replicaset to go', async () => !(await exists('default', 'rs/bg-rs')));
    });

    it('foreground deletion removes dependents first, then the owner', async () => {
      await ownerWithDependent('default', 'fg');
      const r = await s.kubectl([
        'delete',
        'deploy',
        'fg',
        '--cascade=foreground',
        '--wait=true',
        '--timeout=20s',
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await exists('default', 'rs/fg-rs'), false);
      assert.equal(await exists('default', 'deploy/fg'), false);
    });

    it('orphan deletion keeps dependents and drops their owner references', async () => {
      await ownerWithDependent('default', 'or');
      const r = await s.kubectl([
        'delete',
        'deploy',
        'or',
        '--cascade=orphan',
        '--wait=true',
        '--timeout=20s',
      ]);
      assert.equal(r.code, 0, r.stderr);
      await until('the owner reference to go', async () => {
        const g = await s.kubectl(['get', 'rs', 'or-rs', '-o', 'json']);
        return g.code === 0 && JSON.parse(g.stdout).metadata.ownerReferences === undefined;
      });
      assert.equal(await exists('default', 'deploy/or'), false);
    });

    it('a dependent of two owners loses the reference to the first one deleted, and goes with the second', async () => {
      const uids: string[] = [];
      for (const name of ['two-a', 'two-b']) {
        let r = await s.kubectl(['create', 'configmap', name]);
        assert.equal(r.code, 0, r.stderr);
        r = await s.kubectl(['get', 'configmap', name, '-o', 'jsonpath={.metadata.uid}']);
        uids.push(r.stdout);
      }
      const dependent = {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name: 'two-dep',
          ownerReferences: [
            { apiVersion: 'v1', kind: 'ConfigMap', name: 'two-a', uid: uids[0] },
            { apiVersion: 'v1', kind: 'ConfigMap', name: 'two-b', uid: uids[1] },
          ],
        },
      };
      let r = await s.kubectl(['create', '-f', '-'], JSON.stringify(dependent));
      assert.equal(r.code, 0, r.stderr);
      r = await s.kubectl(['delete', 'configmap', 'two-a']);
      assert.equal(r.code, 0, r.stderr);
      await until('the reference to the deleted owner to go', async () => {
        const g = await s.kubectl(['get', 'configmap', 'two-dep', '-o', 'json']);
        assert.equal(g.code, 0, `the dependent went with one owner still there: ${g.stderr}`);
        const refs = JSON.parse(g.stdout).metadata.ownerReferences ?? [];
        return refs.length === 1 && refs[0].uid === uids[1];
      });
      r = await s.kubectl(['delete', 'configmap', 'two-b']);
      assert.equal(r.code, 0, r.stderr);
      await until(
        'the dependent to go with its last owner',
        async () => !(await exists('default', 'configmap/two-dep')),
      );
    });

    it('a dependent whose owner never existed is deleted', async () => {
      const dependent = {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name: 'no-owner',
          ownerReferences: [
            {
              apiVersion: 'v1',
              kind: 'ConfigMap',
              name: 'ghost',
              uid: '00000000-0000-4000-8000-000000000000',
            },
          ],
        },
      };
      const r = await s.kubectl(['create', '-f', '-'], JSON.stringify(dependent));
      assert.equal(r.code, 0, r.stderr);
      await until(
        'the orphaned dependent to go',
        async () => !(await exists('default', 'configmap/no-owner')),
      );
    });

    it('a deleted namespace terminates, loses its contents, then goes', async () => {
      let r = await s.kubectl(['create', 'ns', 'doomed']);
      assert.equal(r.code, 0, r.stderr);
      r = await s.kubectl(['-n', 'doomed', 'create', 'configmap', 'c1']);
      assert.equal(r.code, 0, r.stderr);
      r = await s.kubectl(['delete', 'ns', 'doomed', '--timeout=20s']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await exists('default', 'ns/doomed'), false);
      r = await s.kubectl(['delete', 'ns', 'default']);
      assert.match(r.stderr, /may not be deleted/);
    });
  });
}
