import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Launcher, shQuote } from './launcher.ts';

test('shQuote keeps every character literal', () => {
  assert.equal(shQuote("it's $HOME"), `'it'\\''s $HOME'`);
});

test('Launcher runs commands through one shell: output, exit codes, sync pipe, concurrency', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-launcher-'));
  const l = new Launcher(path.join(dir, 'launch'));
  t.after(() => {
    l.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const r = await l.run('printf', ['%s|', "it's", 'a b', '$x']);
  assert.equal(r.stdout.toString(), "it's|a b|$x|");
  assert.equal(r.exitCode, 0);
  const bad = await l.run('sh', ['-c', 'echo oops >&2; exit 3']);
  assert.equal(bad.exitCode, 3);
  assert.equal(bad.stderr.toString(), 'oops\n');
  assert.equal((await l.run('skiff-no-such-command', [])).exitCode, 127);

  const ok = await l.runWithSyncPipe('sh', ['-c', 'pwd >&2; echo "{\\"data\\": $_OCI_SYNCPIPE}" >&3'], dir);
  assert.deepEqual(ok, { line: '{"data": 3}', stderr: `${fs.realpathSync(dir)}\n` });
  const none = await l.runWithSyncPipe('sh', ['-c', 'echo failed >&2; exit 1'], dir);
  assert.deepEqual(none, { line: '', stderr: 'failed\n' });

  const many = await Promise.all(Array.from({ length: 40 }, (_, i) => l.run('echo', [String(i)])));
  assert.deepEqual(
    many.map((m) => m.stdout.toString()),
    Array.from({ length: 40 }, (_, i) => `${i}\n`),
  );
  // a slot's output files are reused: at most a pair per command that ran at once
  const files = fs.readdirSync(path.join(dir, 'launch')).length;
  assert.ok(files <= 2 * 40, `${files} output files`);
  await Promise.all(Array.from({ length: 40 }, (_, i) => l.run('echo', [String(i)])));
  assert.equal(fs.readdirSync(path.join(dir, 'launch')).length, files);
  // a reused slot holds only the new command's output
  assert.equal((await l.run('echo', ['long output'])).stdout.toString(), 'long output\n');
  const quiet = await l.run('true', []);
  assert.deepEqual([quiet.stdout.length, quiet.stderr.length], [0, 0]);
});

test('Launcher runWithInput: CNI-style env and stdin, exit status, timeout kills the process group', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-launcher-'));
  const l = new Launcher(path.join(dir, 'launch'));
  t.after(() => {
    l.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const plugin = path.join(dir, 'plugin');
  fs.writeFileSync(
    plugin,
    '#!/bin/sh\nread -r line\necho "$CNI_COMMAND $CNI_ARGS $line"\necho warn >&2\n[ "$line" = sleep ] && { sleep 30 & sleep 30; }\nexit 2\n',
    { mode: 0o755 },
  );
  const r = await l.runWithInput(plugin, { CNI_COMMAND: 'ADD', CNI_ARGS: "a=1;b='x y'" }, '{"k":1}', 10_000);
  assert.deepEqual(r, { status: 2, stdout: `ADD a=1;b='x y' {"k":1}\n`, stderr: 'warn\n', timedOut: false });

  const t0 = performance.now();
  const slow = await l.runWithInput(plugin, {}, 'sleep', 300);
  assert.equal(slow.timedOut, true);
  assert.equal(slow.status, null);
  assert.ok(performance.now() - t0 < 5000, 'the timeout stopped it');

  // stdin arrives as given, whatever lines it holds (a final newline is added)
  const cat = path.join(dir, 'cat');
  fs.writeFileSync(cat, '#!/bin/sh\nexec cat\n', { mode: 0o755 });
  const input = `{"a":"$HOME \`x\` 'q'"}\nEOF\nSKIFF_EOF\n\n  last`;
  assert.equal((await l.runWithInput(cat, {}, input, 10_000)).stdout, `${input}\n`);
  assert.equal((await l.runWithInput(cat, {}, 'one\n', 10_000)).stdout, 'one\n');
});
