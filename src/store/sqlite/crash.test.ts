import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqliteBackend } from './sqlite.ts';

const WRITER = new URL('./crash-writer.ts', import.meta.url).pathname;
/** Kill the writer once it has acknowledged this many writes. */
const KILL_AFTER = 3000;

test('every write acknowledged before kill -9 is in the store with its revision', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-crash-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'state.db');
  const child = spawn(process.execPath, [WRITER, path], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_code, signal) => resolve(signal)),
  );
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });

  const acked: { revision: number; key: string; value: string }[] = [];
  let partial = '';
  let killed = false;
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  child.stdout.on('data', (d: Buffer) => {
    if (killed) return;
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line === 'ready') continue;
      const [rev, key, ...value] = line.split(' ');
      acked.push({ revision: Number(rev), key, value: value.join(' ') });
    }
    if (acked.length >= KILL_AFTER && child.pid) {
      // Kill mid-stream: the writer is still running with writes in flight.
      killed = true;
      process.kill(child.pid, 'SIGKILL');
    }
  });
  const signal = await exited;
  clearTimeout(timer);
  assert.equal(signal, 'SIGKILL', `writer ended on its own: ${stderr}`);
  assert.ok(acked.length >= KILL_AFTER, `only ${acked.length} writes acknowledged: ${stderr}`);

  const store = new SqliteBackend(path);
  t.after(() => store.close());
  const current = await store.currentRevision();
  const maxAcked = Math.max(...acked.map((a) => a.revision));
  assert.ok(current >= maxAcked, `revision ${current} is behind the acknowledged ${maxAcked}`);
  const revisions = new Set<number>();
  for (const a of acked) {
    assert.ok(!revisions.has(a.revision), `revision ${a.revision} acknowledged twice`);
    revisions.add(a.revision);
    const { kv } = await store.get(a.key, { revision: a.revision });
    assert.equal(kv?.modRevision, a.revision, `${a.key} at ${a.revision}`);
    assert.equal(kv?.value, a.value);
  }
  // The reopened store continues the sequence without reusing a revision.
  const next = await store.create('/after-crash', '"x"');
  assert.equal(next.modRevision, current + 1);
});
