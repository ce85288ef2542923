import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crictlMain } from './crictl.ts';
import { startTestRuntime } from './testing.ts';

test('skiff crictl talks to the runtime', async (t) => {
  if (process.getuid?.() !== 0) assert.fail('needs root');
  const rt = await startTestRuntime();
  t.after(() => rt.destroy());
  const written: string[] = [];
  const orig = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((s: string | Uint8Array) => {
    written.push(String(s));
    return true;
  }) as typeof process.stdout.write;
  try {
    assert.equal(await crictlMain(['--runtime-endpoint', rt.endpoint, 'version']), 0);
    assert.equal(await crictlMain(['-r', rt.endpoint, 'images']), 0);
    assert.equal(await crictlMain(['-r', rt.endpoint, 'pods']), 0);
  } finally {
    process.stdout.write = orig;
  }
  const text = written.join('');
  assert.match(text, /RuntimeName:\s+skiff/);
  assert.match(text, /skiff\.local\/busybox\s+1\.35/);
  assert.match(text, /POD ID/);
  assert.equal(await crictlMain(['-r', rt.endpoint, 'bogus']), 2);
});
