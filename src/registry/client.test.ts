import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { MediaType, pullLayout, pushLayout, RegistryClient, startRegistry } from './index.ts';
import { describe, testImage, writeLayout } from './test-layout.ts';

const run = promisify(execFile);

async function blobs(layout: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const f of await readdir(join(layout, 'blobs', 'sha256'))) {
    out.set(f, await readFile(join(layout, 'blobs', 'sha256', f)));
  }
  return out;
}

async function setup(t: import('node:test').TestContext) {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-registry-client-'));
  const reg = await startRegistry({ root: join(dir, 'root') });
  t.after(async () => {
    await reg.close();
    await rm(dir, { recursive: true, force: true });
  });
  const image = await testImage({ 'hello.txt': 'hello, skiff\n', 'etc/motd': 'welcome\n' });
  const src = join(dir, 'src');
  await writeLayout(src, image, 'v1');
  return { dir, reg, image, src };
}

test('push and pull an OCI layout round trip', async (t) => {
  const { dir, reg, image, src } = await setup(t);
  const pushed = await pushLayout({ layout: src, registry: reg.url, name: 'skiff/hello', ref: 'v1' });
  assert.equal(pushed.digest, image.manifestDesc.digest);
  // Pushing again finds the blobs present and only rewrites the manifest.
  await pushLayout({ layout: src, registry: reg.url, name: 'skiff/hello', ref: 'v1', tag: 'latest' });
  const client = new RegistryClient(reg.url);
  assert.deepEqual((await client.listTags('skiff/hello')).tags, ['latest', 'v1']);

  const out = join(dir, 'out');
  const pulled = await pullLayout({ registry: reg.url, name: 'skiff/hello', reference: 'v1', layout: out });
  assert.equal(pulled.digest, image.manifestDesc.digest);
  assert.deepEqual(await blobs(out), await blobs(src));
  const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8'));
  assert.equal(index.manifests[0].digest, image.manifestDesc.digest);
  assert.equal(index.manifests[0].annotations['org.opencontainers.image.ref.name'], 'v1');
});

test('chunked push', async (t) => {
  const { dir, reg, src } = await setup(t);
  await pushLayout({ layout: src, registry: reg.url, name: 'chunky', ref: 'v1', chunkSize: 7 });
  const out = join(dir, 'out');
  await pullLayout({ registry: reg.url, name: 'chunky', reference: 'v1', layout: out });
  assert.deepEqual(await blobs(out), await blobs(src));
});

test('skopeo copies a layout into the registry and back out, byte for byte', async (t) => {
  try {
    await run('skopeo', ['--version']);
  } catch {
    assert.fail('skopeo is not installed');
  }
  const { dir, reg, image, src } = await setup(t);
  const dest = `docker://127.0.0.1:${reg.port}/skopeo/hello:v1`;
  const skopeo = (args: string[]) =>
    run('skopeo', ['--insecure-policy', '--tmpdir', dir, 'copy', ...args], { timeout: 60_000 });
  await skopeo(['--dest-tls-verify=false', `oci:${src}:v1`, dest]);
  const client = new RegistryClient(reg.url);
  const m = await client.getManifest('skopeo/hello', 'v1');
  assert.equal(m.digest, image.manifestDesc.digest, 'skopeo pushed the manifest unchanged');

  const back = join(dir, 'back');
  await skopeo(['--src-tls-verify=false', dest, `oci:${back}:v1`]);
  assert.deepEqual(await blobs(back), await blobs(src));

  // And what our client pushes, skopeo reads.
  await pushLayout({ layout: src, registry: reg.url, name: 'ours/hello', ref: 'v1' });
  const { stdout } = await run('skopeo', [
    'inspect',
    '--raw',
    '--tls-verify=false',
    `docker://127.0.0.1:${reg.port}/ours/hello:v1`,
  ]);
  assert.equal(stdout, image.manifest.toString());
});

test('an image index and its images travel together', async (t) => {
  const { dir, reg, image, src } = await setup(t);
  // Turn the layout's image into a one-platform index, as multi-arch images are published.
  const indexBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [{ ...image.manifestDesc, platform: { architecture: 'amd64', os: 'linux' } }],
    }),
  );
  const indexDesc = describe(MediaType.ociIndex, indexBytes);
  await writeFile(join(src, 'blobs', 'sha256', indexDesc.digest.slice(7)), indexBytes);
  await writeFile(
    join(src, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ ...indexDesc, annotations: { 'org.opencontainers.image.ref.name': 'multi' } }],
    }),
  );
  const pushed = await pushLayout({ layout: src, registry: reg.url, name: 'multi', ref: 'multi' });
  assert.equal(pushed.digest, indexDesc.digest);
  const client = new RegistryClient(reg.url);
  assert.equal((await client.getManifest('multi', 'multi')).mediaType, MediaType.ociIndex);
  assert.equal(
    (await client.getManifest('multi', image.manifestDesc.digest)).digest,
    image.manifestDesc.digest,
  );
  const out = join(dir, 'out');
  await pullLayout({ registry: reg.url, name: 'multi', reference: 'multi', layout: out });
  assert.deepEqual(await blobs(out), await blobs(src));
  await assert.rejects(
    pushLayout({ layout: src, registry: reg.url, name: 'multi', ref: 'absent' }),
    /0 images named absent/,
  );
});
