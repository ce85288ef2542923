import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseResourcePath, splitTarget } from './request-info.ts';

test('splitTarget gives the path and query the URL parser gives, for plain and unusual targets', () => {
  const targets = [
    '/',
    '/api/v1/namespaces/default/pods/p-1',
    '/api/v1/namespaces/default/pods?labelSelector=app%3Dweb&limit=500&continue=abc%3D%3D',
    '/apis/apps/v1/deployments?watch=1&resourceVersion=12&allowWatchBookmarks=true',
    '/api/v1/namespaces/default/configmaps/',
    '/api/v1/namespaces/a%2Fb/pods',
    '/api/v1/../v1/namespaces',
    '/api/./v1/namespaces',
    '/api/v1/namespaces/default/pods/a b',
    '/api/v1/namespaces/default/pods/{x}',
    '/api/v1/pods?fieldSelector=spec.nodeName=n1,status.phase!=Failed',
    '/api/v1/pods?x=1#frag',
    '/openapi/v3/apis/apps/v1?hash=ABC',
    "/api/v1/namespaces/d/pods/it's",
  ];
  for (const t of targets) {
    const url = new URL(t, 'https://localhost');
    const got = splitTarget(t);
    assert.equal(got.pathname, url.pathname, t);
    assert.deepEqual([...got.query], [...url.searchParams], t);
  }
});

test('parseResourcePath decodes escaped segments and names the parts', () => {
  assert.deepEqual(parseResourcePath('/api/v1/namespaces/default/pods/a%3Ab/status'), {
    group: '',
    version: 'v1',
    namespace: 'default',
    resource: 'pods',
    name: 'a:b',
    subresource: 'status',
  });
  assert.deepEqual(parseResourcePath('/apis/apps/v1/namespaces/ns1/deployments/web/scale'), {
    group: 'apps',
    version: 'v1',
    namespace: 'ns1',
    resource: 'deployments',
    name: 'web',
    subresource: 'scale',
  });
  assert.deepEqual(parseResourcePath('/api/v1/namespaces/ns1/finalize'), {
    group: '',
    version: 'v1',
    resource: 'namespaces',
    name: 'ns1',
    subresource: 'finalize',
  });
  assert.equal(parseResourcePath('/apis/apps'), undefined);
  assert.equal(parseResourcePath('/api/v1/namespaces/a/pods/b/c/d'), undefined);
});
