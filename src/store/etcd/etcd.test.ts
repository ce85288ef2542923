import { after, before } from 'node:test';
import { describeBackend } from '../conformance.ts';
import { EtcdBackend } from './etcd.ts';
import { startTestEtcd, type TestEtcd } from './test-etcd.ts';

// One etcd for the file; each test gets its own key prefix, so each sees an empty store.
let etcd: TestEtcd | undefined;
let n = 0;
before(async () => {
  etcd = await startTestEtcd();
});
after(() => etcd?.stop());

describeBackend('etcd', async () => {
  if (!etcd) throw new Error('etcd did not start');
  return { backend: new EtcdBackend({ endpoints: etcd.endpoints, prefix: `/t${n++}` }) };
});

// Without a prefix, as `skiff server --store etcd` opens it: keys start at the root, so this
// suite has an etcd of its own.
let bare: TestEtcd | undefined;
before(async () => {
  bare = await startTestEtcd();
});
after(() => bare?.stop());

describeBackend('etcd without a key prefix', async () => {
  if (!bare) throw new Error('etcd did not start');
  return { backend: new EtcdBackend({ endpoints: bare.endpoints }) };
});
