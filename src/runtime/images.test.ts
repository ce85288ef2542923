import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ImageStore } from './images.ts';
import { parseReference } from './reference.ts';
import { buildTestImage, TEST_IMAGE } from './testimage.ts';

test('image references normalise like Docker', () => {
  assert.equal(parseReference('busybox').repository, 'docker.io/library/busybox');
  assert.equal(parseReference('busybox').tag, 'latest');
  const r = parseReference('127.0.0.1:5000/a/b@sha256:abc');
  assert.deepEqual([r.host, r.path, r.tag, r.digest], ['127.0.0.1:5000', 'a/b', undefined, 'sha256:abc']);
  assert.equal(parseReference(TEST_IMAGE).repository, 'skiff.local/busybox');
});

for (const form of ['ociDir', 'ociTar', 'dockerArchive'] as const) {
  test(`imports the busybox test image from ${form} and unpacks its layer`, async (t) => {
    if (process.getuid?.() !== 0) assert.fail('needs root (chown and whiteout device nodes)');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-images-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const img = await buildTestImage(dir);
    const store = new ImageStore(path.join(dir, 'root'));
    const [rec] = await store.importArchive(img[form]);
    assert.equal(rec.id, img.configDigest);
    assert.deepEqual(rec.repoTags, [TEST_IMAGE]);
    assert.equal(store.get(TEST_IMAGE).id, rec.id);
    assert.equal(store.get(rec.id.slice(7)).id, rec.id);
    const snap = store.snapshotPath(rec.chainIds[0]);
    assert.equal(fs.readlinkSync(path.join(snap, 'bin/sh')), 'busybox');
    assert.equal(fs.statSync(path.join(snap, 'tmp')).mode & 0o7777, 0o1777);
    assert.match(fs.readFileSync(path.join(snap, 'etc/passwd'), 'utf8'), /^nobody:x:65534/m);
    await store.remove(TEST_IMAGE);
    assert.equal(store.find(TEST_IMAGE), undefined);
    assert.equal(fs.existsSync(snap), false);
    assert.deepEqual(store.content.list(), []);
  });
}
