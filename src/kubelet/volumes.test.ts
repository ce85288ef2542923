/** Pod volumes on a real file system: emptyDir (on disk and in memory) and configMap files. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { prepareVolumes, removePodDir } from './volumes.ts';

const mountsUnder = (dir: string) =>
  fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m) => m && (m === dir || m.startsWith(`${dir}/`)));

test('emptyDir: a memory one is one tmpfs however often the pod syncs; removePodDir unmounts it', async (t) => {
  if (process.getuid?.() !== 0) assert.fail('this test mounts a tmpfs and needs root');
  const podDir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-volumes-'));
  t.after(() => {
    for (const m of mountsUnder(podDir).sort((a, b) => b.length - a.length))
      execFileSync('umount', ['-l', m]);
    fs.rmSync(podDir, { recursive: true, force: true });
  });
  const pod = {
    metadata: { name: 'p', namespace: 'ns', uid: 'u1' },
    spec: {
      containers: [],
      volumes: [
        { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
        { name: 'disk', emptyDir: {} },
        { name: 'cm', configMap: { name: 'cm' } },
      ],
    },
  };
  const get = async (kind: string, _ns: string, name: string) =>
    kind === 'configmaps' && name === 'cm' ? { data: { a: 'one' } } : undefined;
  const ctx = { pod, podDir, podIPs: [], hostIP: '127.0.0.1', node: { cpu: 1, memory: 1 }, get };
  for (let i = 0; i < 3; i++) await prepareVolumes(ctx);
  const mem = path.join(podDir, 'volumes', 'mem');
  assert.deepEqual(mountsUnder(podDir), [mem]);
  assert.equal(fs.statfsSync(mem).blocks * fs.statfsSync(mem).bsize, 2 ** 20);
  assert.equal(fs.statSync(path.join(podDir, 'volumes', 'disk')).mode & 0o777, 0o777);
  assert.equal(fs.readFileSync(path.join(podDir, 'volumes', 'cm', 'a'), 'utf8'), 'one');
  await removePodDir(podDir);
  assert.deepEqual(mountsUnder(podDir), []);
  assert.equal(fs.existsSync(podDir), false);
});
