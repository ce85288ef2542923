import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { MediaType, RegistryClient, startRegistry } from './index.ts';
import { describe, testImage } from './test-layout.ts';

async function setup(t: TestContext) {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-registry-'));
  const reg = await startRegistry({ root: dir });
  t.after(async () => {
    await reg.close();
    await rm(dir, { recursive: true, force: true });
  });
  const req = async (
    method: string,
    path: string,
    init: { body?: Buffer | string; headers?: Record<string, string> } = {},
  ) => {
    const res = await fetch(new URL(path, reg.url), { method, body: init.body, headers: init.headers });
    const body = Buffer.from(await res.arrayBuffer());
    return { status: res.status, headers: res.headers, body, json: () => JSON.parse(body.toString()) };
  };
  /** Monolithic upload of `bytes` into `name`. */
  const upload = async (name: string, bytes: Buffer) => {
    const d = describe('application/octet-stream', bytes);
    const r = await req('POST', `/v2/${name}/blobs/uploads/?digest=${d.digest}`, { body: bytes });
    assert.equal(r.status, 201);
    return d;
  };
  return { reg, req, upload };
}

function errorCode(r: { json: () => { errors: { code: string }[] } }): string {
  return r.json().errors[0].code;
}

test('base endpoint and blob uploads', async (t) => {
  const { req } = await setup(t);
  const base = await req('GET', '/v2/');
  assert.equal(base.status, 200);
  assert.equal(base.headers.get('docker-distribution-api-version'), 'registry/2.0');

  const bytes = Buffer.from('0123456789abcdef');
  const d = describe('application/octet-stream', bytes);
  // POST then monolithic PUT.
  const start = await req('POST', '/v2/a/b/blobs/uploads/');
  assert.equal(start.status, 202);
  const location = start.headers.get('location') as string;
  assert.match(location, /^\/v2\/a\/b\/blobs\/uploads\/[0-9a-f-]{36}$/);
  const put = await req('PUT', `${location}?digest=${d.digest}`, { body: bytes });
  assert.equal(put.status, 201);
  assert.equal(put.headers.get('location'), `/v2/a/b/blobs/${d.digest}`);
  assert.equal(put.headers.get('docker-content-digest'), d.digest);
  assert.equal((await req('GET', location)).status, 404, 'finished upload is gone');

  const head = await req('HEAD', `/v2/a/b/blobs/${d.digest}`);
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), '16');
  assert.equal(head.headers.get('docker-content-digest'), d.digest);
  assert.deepEqual((await req('GET', `/v2/a/b/blobs/${d.digest}`)).body, bytes);
  const part = await req('GET', `/v2/a/b/blobs/${d.digest}`, { headers: { Range: 'bytes=4-7' } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-range'), 'bytes 4-7/16');
  assert.equal(part.body.toString(), '4567');
  assert.equal(
    (await req('GET', `/v2/a/b/blobs/${d.digest}`, { headers: { Range: 'bytes=99-' } })).status,
    416,
  );

  // Another repository does not see it until mounted.
  const other = await req('GET', `/v2/other/blobs/${d.digest}`);
  assert.equal(other.status, 404);
  assert.equal(errorCode(other), 'BLOB_UNKNOWN');
  const mount = await req('POST', `/v2/other/blobs/uploads/?mount=${d.digest}&from=a/b`);
  assert.equal(mount.status, 201);
  assert.equal((await req('HEAD', `/v2/other/blobs/${d.digest}`)).status, 200);
  const noMount = await req('POST', `/v2/third/blobs/uploads/?mount=${d.digest}&from=nowhere`);
  assert.equal(noMount.status, 202, 'an impossible mount falls back to an upload session');

  // Delete unlinks from one repository only.
  assert.equal((await req('DELETE', `/v2/other/blobs/${d.digest}`)).status, 202);
  assert.equal((await req('HEAD', `/v2/other/blobs/${d.digest}`)).status, 404);
  assert.equal((await req('HEAD', `/v2/a/b/blobs/${d.digest}`)).status, 200);

  const bad = await req('GET', '/v2/Bad_Name/blobs/sha256:00');
  assert.equal(bad.status, 400);
  assert.equal(errorCode(bad), 'NAME_INVALID');
});

test('a digest mismatch is rejected with DIGEST_INVALID', async (t) => {
  const { req } = await setup(t);
  const wrong = describe('x', Buffer.from('something else')).digest;
  const oneShot = await req('POST', `/v2/r/blobs/uploads/?digest=${wrong}`, { body: 'payload' });
  assert.equal(oneShot.status, 400);
  assert.equal(errorCode(oneShot), 'DIGEST_INVALID');
  const start = await req('POST', '/v2/r/blobs/uploads/');
  const put = await req('PUT', `${start.headers.get('location')}?digest=${wrong}`, { body: 'payload' });
  assert.equal(put.status, 400);
  assert.equal(errorCode(put), 'DIGEST_INVALID');
  assert.equal((await req('HEAD', `/v2/r/blobs/${wrong}`)).status, 404);
  const noDigest = await req(
    'PUT',
    `${(await req('POST', '/v2/r/blobs/uploads/')).headers.get('location')}`,
    {
      body: 'x',
    },
  );
  assert.equal(errorCode(noDigest), 'DIGEST_INVALID');
});

test('chunked upload with Content-Range', async (t) => {
  const { req } = await setup(t);
  const bytes = Buffer.from('The quick brown fox jumps over the lazy dog');
  const d = describe('x', bytes);
  const location = (await req('POST', '/v2/chunks/blobs/uploads/')).headers.get('location') as string;
  const first = await req('PATCH', location, {
    body: bytes.subarray(0, 10),
    headers: { 'Content-Range': '0-9' },
  });
  assert.equal(first.status, 202);
  assert.equal(first.headers.get('range'), '0-9');
  const gap = await req('PATCH', location, {
    body: bytes.subarray(20),
    headers: { 'Content-Range': '20-42' },
  });
  assert.equal(gap.status, 416, 'a chunk must start where the upload ends');
  const status = await req('GET', location);
  assert.equal(status.status, 204);
  assert.equal(status.headers.get('range'), '0-9');
  const second = await req('PATCH', location, {
    body: bytes.subarray(10, 30),
    headers: { 'Content-Range': '10-29' },
  });
  assert.equal(second.headers.get('range'), '0-29');
  const done = await req('PUT', `${second.headers.get('location')}?digest=${d.digest}`, {
    body: bytes.subarray(30),
  });
  assert.equal(done.status, 201);
  assert.deepEqual((await req('GET', `/v2/chunks/blobs/${d.digest}`)).body, bytes);

  const cancel = (await req('POST', '/v2/chunks/blobs/uploads/')).headers.get('location') as string;
  assert.equal((await req('DELETE', cancel)).status, 204);
  const gone = await req('PATCH', cancel, { body: 'x' });
  assert.equal(gone.status, 404);
  assert.equal(errorCode(gone), 'BLOB_UPLOAD_UNKNOWN');
});

test('manifests by tag and digest, with their references checked', async (t) => {
  const { req, upload } = await setup(t);
  const image = await testImage({ 'a.txt': 'a\n' });
  const ct = { 'Content-Type': MediaType.ociManifest };
  const early = await req('PUT', '/v2/img/manifests/v1', { body: image.manifest, headers: ct });
  assert.equal(early.status, 404);
  assert.equal(errorCode(early), 'MANIFEST_BLOB_UNKNOWN');
  await upload('img', image.layer);
  await upload('img', image.config);
  const put = await req('PUT', '/v2/img/manifests/v1', { body: image.manifest, headers: ct });
  assert.equal(put.status, 201);
  assert.equal(put.headers.get('docker-content-digest'), image.manifestDesc.digest);
  assert.equal(put.headers.get('location'), `/v2/img/manifests/${image.manifestDesc.digest}`);

  for (const ref of ['v1', image.manifestDesc.digest]) {
    const get = await req('GET', `/v2/img/manifests/${ref}`);
    assert.equal(get.status, 200);
    assert.equal(get.headers.get('content-type'), MediaType.ociManifest);
    assert.equal(get.headers.get('docker-content-digest'), image.manifestDesc.digest);
    assert.deepEqual(get.body, image.manifest);
    const head = await req('HEAD', `/v2/img/manifests/${ref}`);
    assert.equal(head.headers.get('content-length'), String(image.manifest.length));
  }
  const missing = await req('GET', '/v2/img/manifests/nope');
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.json().errors[0].code, 'MANIFEST_UNKNOWN');
  assert.equal(typeof missing.json().errors[0].message, 'string');
  const wrongDigest = await req('PUT', `/v2/img/manifests/${image.configDesc.digest}`, {
    body: image.manifest,
    headers: ct,
  });
  assert.equal(errorCode(wrongDigest), 'DIGEST_INVALID');
  const garbage = await req('PUT', '/v2/img/manifests/bad', { body: '{"schemaVersion":2}', headers: ct });
  assert.equal(errorCode(garbage), 'MANIFEST_INVALID');

  // Docker schema 2 manifest and manifest list, and an OCI index.
  const docker = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.dockerManifest,
      config: { ...image.configDesc, mediaType: 'application/vnd.docker.container.image.v1+json' },
      layers: [{ ...image.layerDesc, mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip' }],
    }),
  );
  const dockerPut = await req('PUT', '/v2/img/manifests/docker', {
    body: docker,
    headers: { 'Content-Type': MediaType.dockerManifest },
  });
  assert.equal(dockerPut.status, 201);
  const platform = { architecture: 'amd64', os: 'linux' };
  const list = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.dockerManifestList,
      manifests: [{ ...describe(MediaType.dockerManifest, docker), platform }],
    }),
  );
  const listPut = await req('PUT', '/v2/img/manifests/list', {
    body: list,
    headers: { 'Content-Type': MediaType.dockerManifestList },
  });
  assert.equal(listPut.status, 201);
  assert.equal(
    (await req('GET', '/v2/img/manifests/list')).headers.get('content-type'),
    MediaType.dockerManifestList,
  );
  const dangling = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [{ ...describe(MediaType.ociManifest, Buffer.from('absent')), platform }],
    }),
  );
  const danglingPut = await req('PUT', '/v2/img/manifests/dangling', {
    body: dangling,
    headers: { 'Content-Type': MediaType.ociIndex },
  });
  assert.equal(errorCode(danglingPut), 'MANIFEST_BLOB_UNKNOWN');

  // DELETE by tag removes the tag only; by digest the manifest and its tags.
  assert.equal((await req('DELETE', '/v2/img/manifests/docker')).status, 202);
  assert.equal((await req('GET', '/v2/img/manifests/docker')).status, 404);
  assert.equal((await req('GET', '/v2/img/manifests/list')).status, 200);
  assert.equal((await req('DELETE', `/v2/img/manifests/${image.manifestDesc.digest}`)).status, 202);
  assert.equal((await req('GET', '/v2/img/manifests/v1')).status, 404);
  assert.equal((await req('GET', `/v2/img/manifests/${image.manifestDesc.digest}`)).status, 404);
});

test('tags list pagination', async (t) => {
  const { reg, req, upload } = await setup(t);
  const image = await testImage({ 't.txt': 't\n' });
  await upload('tagged', image.layer);
  await upload('tagged', image.config);
  for (const tag of ['v3', 'v1', 'latest', 'v2', 'beta']) {
    const r = await req('PUT', `/v2/tagged/manifests/${tag}`, {
      body: image.manifest,
      headers: { 'Content-Type': MediaType.ociManifest },
    });
    assert.equal(r.status, 201);
  }
  const all = await req('GET', '/v2/tagged/tags/list');
  assert.deepEqual(all.json(), { name: 'tagged', tags: ['beta', 'latest', 'v1', 'v2', 'v3'] });
  assert.equal(all.headers.get('link'), null);
  const page1 = await req('GET', '/v2/tagged/tags/list?n=2');
  assert.deepEqual(page1.json().tags, ['beta', 'latest']);
  assert.equal(page1.headers.get('link'), '</v2/tagged/tags/list?n=2&last=latest>; rel="next"');
  const page2 = await req('GET', '/v2/tagged/tags/list?n=2&last=latest');
  assert.deepEqual(page2.json().tags, ['v1', 'v2']);
  const page3 = await req('GET', '/v2/tagged/tags/list?n=2&last=v2');
  assert.deepEqual(page3.json().tags, ['v3']);
  assert.equal(page3.headers.get('link'), null);
  // The client follows the same pages.
  const client = new RegistryClient(reg.url);
  const seen: string[] = [];
  let last: string | undefined;
  for (;;) {
    const page = await client.listTags('tagged', { n: 2, last });
    seen.push(...page.tags);
    if (!page.next) break;
    last = new URL(page.next, reg.url).searchParams.get('last') ?? undefined;
  }
  assert.deepEqual(seen, ['beta', 'latest', 'v1', 'v2', 'v3']);
  const unknown = await req('GET', '/v2/nobody/tags/list');
  assert.equal(unknown.status, 404);
  assert.equal(errorCode(unknown), 'NAME_UNKNOWN');
});

test('referrers list the manifests whose subject is a digest, filtered by artifactType', async (t) => {
  const { reg, req, upload } = await setup(t);
  const image = await testImage({ 'r.txt': 'r\n' });
  await upload('app', image.layer);
  await upload('app', image.config);
  await req('PUT', '/v2/app/manifests/v1', {
    body: image.manifest,
    headers: { 'Content-Type': MediaType.ociManifest },
  });
  const empty = Buffer.from('{}');
  const emptyDesc = describe(MediaType.ociEmpty, empty);
  await upload('app', empty);
  const artifact = async (artifactType: string, note: string) => {
    const payload = Buffer.from(note);
    const payloadDesc = describe('text/plain', payload);
    await upload('app', payload);
    const bytes = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        artifactType,
        config: emptyDesc,
        layers: [payloadDesc],
        subject: image.manifestDesc,
        annotations: { note },
      }),
    );
    const d = describe(MediaType.ociManifest, bytes);
    const r = await req('PUT', `/v2/app/manifests/${d.digest}`, {
      body: bytes,
      headers: { 'Content-Type': MediaType.ociManifest },
    });
    assert.equal(r.status, 201);
    assert.equal(r.headers.get('oci-subject'), image.manifestDesc.digest);
    return d;
  };
  const sig = await artifact('application/vnd.example.signature', 'signed');
  const sbom = await artifact('application/spdx+json', 'sbom');

  const all = await req('GET', `/v2/app/referrers/${image.manifestDesc.digest}`);
  assert.equal(all.status, 200);
  assert.equal(all.headers.get('content-type'), MediaType.ociIndex);
  const index = all.json();
  assert.equal(index.schemaVersion, 2);
  assert.equal(index.mediaType, MediaType.ociIndex);
  assert.deepEqual(
    index.manifests.map((m: { digest: string }) => m.digest).sort(),
    [sig.digest, sbom.digest].sort(),
  );
  const sigEntry = index.manifests.find((m: { digest: string }) => m.digest === sig.digest);
  assert.deepEqual(sigEntry, {
    ...sig,
    artifactType: 'application/vnd.example.signature',
    annotations: { note: 'signed' },
  });

  const client = new RegistryClient(reg.url);
  const filtered = await client.referrers('app', image.manifestDesc.digest, 'application/spdx+json');
  assert.deepEqual(
    filtered.manifests.map((m) => m.digest),
    [sbom.digest],
  );
  const header = await req(
    'GET',
    `/v2/app/referrers/${image.manifestDesc.digest}?artifactType=application/spdx%2Bjson`,
  );
  assert.equal(header.headers.get('oci-filters-applied'), 'artifactType');
  const none = await client.referrers('app', sig.digest);
  assert.deepEqual(none.manifests, []);
});
