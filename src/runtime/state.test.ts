import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { readJson, writeJson } from './state.ts';

test('writeJson: new, shorter, longer and large records read back whole; nothing else is left', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-state-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'r.json');
  const long = { id: 'a', labels: { app: 'web', tier: 'front' }, ips: ['10.0.0.2', '10.0.0.3'] };
  writeJson(file, long);
  assert.deepEqual(readJson(file), long);
  const inode = fs.statSync(file).ino;

  const short = { id: 'a', ips: [] };
  writeJson(file, short);
  assert.deepEqual(readJson(file), short);
  assert.equal(fs.statSync(file).ino, inode, 'rewritten in place');
  assert.equal(fs.statSync(file).size, JSON.stringify(long).length, 'padded, never shorter');

  const longer = { ...long, state: 'SANDBOX_NOTREADY', more: 'x'.repeat(100) };
  writeJson(file, longer);
  assert.deepEqual(readJson(file), longer);
  assert.equal(fs.statSync(file).ino, inode);

  // past a page: through a temporary file, then in place no more
  const big = { id: 'a', annotations: { note: 'y'.repeat(5000) } };
  writeJson(file, big);
  assert.deepEqual(readJson(file), big);
  assert.notEqual(fs.statSync(file).ino, inode);
  writeJson(file, short);
  assert.deepEqual(readJson(file), short);
  assert.deepEqual(fs.readdirSync(dir), ['r.json']);
});
