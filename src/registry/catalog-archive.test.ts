import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildTestImage } from '../runtime/testimage.ts';
import { mirrorRepository, openImageArchive, pushLayout, RegistryClient, startRegistry } from './index.ts';

test('catalog pages through repositories; archives of every kind push the same image', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-catalog-'));
  const reg = await startRegistry({ root: join(dir, 'registry') });
  t.after(async () => {
    await reg.close();
    await rm(dir, { recursive: true, force: true });
  });
  const img = await buildTestImage(dir);
  const pushed: Record<string, string> = {};
  for (const [i, file] of [img.ociDir, img.ociTar, img.dockerArchive].entries()) {
    const scratch = join(dir, `scratch-${i}`);
    await mkdir(scratch);
    const archive = await openImageArchive(file, scratch);
    assert.equal(archive.images.length, 1);
    assert.equal(archive.images[0].name, 'skiff.local/busybox:1.35');
    const name = ['oci/dir', 'oci/tar', 'docker/archive'][i];
    const { digest } = await pushLayout({
      layout: archive.layout,
      registry: reg.url,
      name,
      digest: archive.images[0].descriptor.digest,
      tag: '1.35',
    });
    pushed[name] = digest;
  }
  assert.equal(pushed['oci/dir'], img.manifestDigest);
  assert.equal(pushed['oci/tar'], img.manifestDigest);
  const client = new RegistryClient(reg.url);
  const converted = JSON.parse((await client.getManifest('docker/archive', '1.35')).bytes.toString());
  assert.equal(converted.config.digest, img.configDigest, 'docker-archive keeps its image ID');
  assert.deepEqual(await client.catalog(), ['docker/archive', 'oci/dir', 'oci/tar']);
  const page = await fetch(`${reg.url}/v2/_catalog?n=2`);
  assert.deepEqual(await page.json(), { repositories: ['docker/archive', 'oci/dir'] });
  assert.equal(page.headers.get('link'), '</v2/_catalog?n=2&last=oci%2Fdir>; rel="next"');
  const notImage = join(dir, 'x.tar');
  await writeFile(notImage, 'plain text');
  await assert.rejects(openImageArchive(notImage, join(dir, 'scratch-x')), /not a tar archive|neither/);
  await assert.rejects(openImageArchive(join(dir, 'missing'), dir), /no such file/);
});

test('mirror repository names keep the registry host, ports spelled with _', () => {
  assert.equal(mirrorRepository('docker.io', 'library/nginx'), 'docker.io/library/nginx');
  assert.equal(mirrorRepository('skiff.local', 'busybox'), 'skiff.local/busybox');
  assert.equal(mirrorRepository('127.0.0.1:5000', 'app'), '127.0.0.1_5000/app');
});
