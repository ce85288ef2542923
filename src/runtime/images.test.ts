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

test('layer whiteouts become overlayfs whiteouts and opaque dirs, and overlay hides what they delete', async (t) => {
  if (process.getuid?.() !== 0) assert.fail('needs root (mknod, trusted xattrs, mount)');
  const { pack } = await import('tar-stream');
  const { execFileSync } = await import('node:child_process');
  const { unpackLayer } = await import('./unpack.ts');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-whiteout-'));
  const merged = path.join(dir, 'merged');
  t.after(() => {
    try {
      execFileSync('umount', [merged]);
    } catch {}
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const layer = async (name: string, files: [string, string | null | object][]) => {
    const p = pack();
    const chunks: Buffer[] = [];
    p.on('data', (c) => {
      chunks.push(c as Buffer);
    });
    for (const [n, body] of files) {
      if (body === null) p.entry({ name: n, type: 'directory', mode: 0o755 });
      else if (typeof body === 'object') p.entry({ name: n, ...body });
      else p.entry({ name: n, mode: 0o644 }, body);
    }
    p.finalize();
    await new Promise<void>((r) => p.on('end', () => r()));
    fs.writeFileSync(path.join(dir, name), Buffer.concat(chunks));
    return path.join(dir, name);
  };
  const l1 = await layer('l1.tar', [
    ['a/', null],
    ['a/x', 'x'],
    ['b', 'b'],
    ['c', 'c'],
  ]);
  const l2 = await layer('l2.tar', [
    ['a/', null],
    ['a/.wh..wh..opq', ''],
    ['a/y', 'y'],
    ['.wh.b', ''],
  ]);
  await unpackLayer(l1, path.join(dir, 's1'));
  await unpackLayer(l2, path.join(dir, 's2'));
  const wh = fs.statSync(path.join(dir, 's2', 'b'));
  assert.ok(wh.isCharacterDevice() && wh.rdev === 0, 'whiteout is a 0/0 character device');
  for (const d of ['merged', 'upper', 'work']) fs.mkdirSync(path.join(dir, d));
  execFileSync('mount', [
    '-t',
    'overlay',
    'overlay',
    '-o',
    `lowerdir=${dir}/s2:${dir}/s1,upperdir=${dir}/upper,workdir=${dir}/work`,
    merged,
  ]);
  assert.deepEqual(fs.readdirSync(merged).sort(), ['a', 'c']);
  assert.deepEqual(fs.readdirSync(path.join(merged, 'a')), ['y']);
  const l3 = await layer('l3.tar', [
    ['dev/', null],
    ['dev/null', { type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 }],
    ['dev/loop9', { type: 'block-device', devmajor: 7, devminor: 9, mode: 0o660 }],
    ['fifo', { type: 'fifo', mode: 0o600 }],
  ]);
  await unpackLayer(l3, path.join(dir, 's3'));
  const nul = fs.statSync(path.join(dir, 's3', 'dev/null'));
  assert.ok(nul.isCharacterDevice() && nul.rdev === 0x103 && (nul.mode & 0o777) === 0o666, 'char device 1:3');
  const loop = fs.statSync(path.join(dir, 's3', 'dev/loop9'));
  assert.ok(loop.isBlockDevice() && loop.rdev === 0x709 && (loop.mode & 0o777) === 0o660, 'block device 7:9');
  const fifo = fs.statSync(path.join(dir, 's3', 'fifo'));
  assert.ok(fifo.isFIFO() && (fifo.mode & 0o777) === 0o600, 'fifo');
});
