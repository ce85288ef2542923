export { EtcdBackend, type EtcdOptions } from './etcd.ts';
export { startTestEtcd, type TestEtcd } from './test-etcd.ts';
