import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { NetworkPolicy } from 'kubernetes-types/networking/v1.js';
import { NftPolicy, type PolicyModel } from '../../src/network/policy/index.ts';
import { nftListRuleset } from '../../src/network/proxy/index.ts';
import { makeTestNet, type TestPod } from './netns.ts';

function pod(p: TestPod, labels: Record<string, string>, ns = 'default'): Pod {
  return {
    metadata: { name: p.name, namespace: ns, labels },
    spec: { nodeName: 'node-a', containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }] }] },
    status: { podIP: p.ip },
  };
}

function policy(name: string, spec: NetworkPolicy['spec']): NetworkPolicy {
  return { metadata: { name, namespace: 'default' }, spec };
}

test('NetworkPolicy: default deny, then exactly what the rules name', { timeout: 120_000 }, async (t) => {
  const net = await makeTestNet();
  const np = new NftPolicy({ id: `t${net.suffix}` });
  t.after(async () => {
    await np.close().catch(() => {});
    await net.cleanup();
    const ruleset = await nftListRuleset();
    assert.ok(!ruleset.includes(np.table), `table ${np.table} left behind`);
  });
  const [web, front, other] = [
    await net.addPod('web', 8080),
    await net.addPod('front', 8080),
    await net.addPod('other'),
  ];
  const base: PolicyModel = {
    nodeName: 'node-a',
    pods: [pod(web, { app: 'web' }), pod(front, { role: 'frontend' }), pod(other, { role: 'other' })],
    namespaces: [{ metadata: { name: 'default', labels: { 'kubernetes.io/metadata.name': 'default' } } }],
    policies: [],
  };
  const url = `http://${web.ip}:8080/`;
  const reach = async (from: TestPod) => (await net.fetch(from.netns, url, 1)) === 'web';
  const sync = (policies: NetworkPolicy[]) => np.sync({ ...base, policies });

  assert.equal((await sync([])).applied, true);
  assert.equal((await sync([])).applied, false, 'the same table again: nft does not run');
  assert.ok(await reach(front));
  assert.ok(await reach(other), 'no policy: everything is allowed');

  await t.test('a policy with no rules denies all ingress to the pods it selects', async () => {
    const s = await sync([
      policy('deny', { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'] }),
    ]);
    assert.equal(s.isolatedPods, 1);
    assert.ok(!(await reach(front)));
    assert.ok(!(await reach(other)));
    assert.equal(
      await net.fetch(web.netns, `http://${front.ip}:8080/`, 1),
      'front',
      'egress of web is untouched',
    );
  });

  await t.test('an allow rule by podSelector and named port opens it for one pod only', async () => {
    await sync([
      policy('deny', { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress'] }),
      policy('allow-front', {
        podSelector: { matchLabels: { app: 'web' } },
        ingress: [
          { from: [{ podSelector: { matchLabels: { role: 'frontend' } } }], ports: [{ port: 'http' }] },
        ],
      }),
    ]);
    assert.ok(await reach(front));
    assert.ok(!(await reach(other)));
  });

  await t.test('ports that do not match keep it closed; an endPort range opens it', async () => {
    const on = (ports: NonNullable<NetworkPolicy['spec']>['ingress']) =>
      sync([policy('p', { podSelector: { matchLabels: { app: 'web' } }, ingress: ports })]);
    await on([{ from: [{ podSelector: {} }], ports: [{ port: 9999 }] }]);
    assert.ok(!(await reach(front)));
    await on([{ from: [{ podSelector: {} }], ports: [{ port: 8000, endPort: 8100, protocol: 'TCP' }] }]);
    assert.ok(await reach(front));
    assert.ok(await reach(other));
  });

  await t.test('ipBlock with except, and namespaceSelector', async () => {
    await sync([
      policy('cidr', {
        podSelector: { matchLabels: { app: 'web' } },
        ingress: [{ from: [{ ipBlock: { cidr: net.subnet, except: [`${other.ip}/32`] } }] }],
      }),
    ]);
    assert.ok(await reach(front));
    assert.ok(!(await reach(other)));
    await sync([
      policy('ns', {
        podSelector: { matchLabels: { app: 'web' } },
        ingress: [
          { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'elsewhere' } } }] },
        ],
      }),
    ]);
    assert.ok(!(await reach(front)), 'no pod in a matching namespace');
  });

  await t.test('egress: default deny from a pod, then one destination', async () => {
    const sel = { matchLabels: { role: 'frontend' } };
    await sync([policy('eg', { podSelector: sel, policyTypes: ['Egress'] })]);
    assert.ok(!(await reach(front)));
    assert.ok(await reach(other));
    await sync([
      policy('eg', {
        podSelector: sel,
        policyTypes: ['Egress'],
        egress: [{ to: [{ podSelector: { matchLabels: { app: 'web' } } }], ports: [{ port: 'http' }] }],
      }),
    ]);
    assert.ok(await reach(front));
    assert.equal(await net.fetch(front.netns, `http://${other.ip}:8080/`, 1), null);
  });

  await t.test('removing the policies opens everything again', async () => {
    const s = await sync([]);
    assert.equal(s.isolatedPods, 0);
    assert.equal(s.applied, true);
    assert.ok(await reach(front));
    assert.ok(await reach(other));
  });
});
