import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { memoryReducer } from './memory-reducer.ts';

const MiB = 1024 * 1024;

/** A reducer on scripted readings; its timer is stopped, the test calls check(). */
function scripted(busy: number[], heap: number[]) {
  const collected: number[] = [];
  let look = 0;
  let h = heap[0];
  const r = memoryReducer({
    periodMs: 3_600_000,
    collect: () => {
      collected.push(look);
      h = heap[0];
    },
    heapBytes: () => h,
    busySinceLastCall: () => {
      h = heap[Math.min(look, heap.length - 1)];
      return busy[look++];
    },
  });
  r.stop();
  return { r, collected, looks: () => busy.map(() => r.check()) };
}

test('collects once the loop has been quiet for two looks after the heap grew past the threshold', () => {
  const s = scripted(
    [0.9, 0.8, 0.01, 0.02, 0.01, 0.0],
    [40 * MiB, 80 * MiB, 90 * MiB, 90 * MiB, 90 * MiB, 40 * MiB],
  );
  assert.deepEqual(s.looks(), [false, false, false, true, false, false]);
  assert.equal(s.r.collections, 1);
});

test('does not collect while busy, however much the heap grew', () => {
  const s = scripted(
    [0.5, 0.9, 0.06, 0.7, 0.2, 0.9],
    [40 * MiB, 100 * MiB, 120 * MiB, 150 * MiB, 150 * MiB, 150 * MiB],
  );
  assert.deepEqual(s.looks(), [false, false, false, false, false, false]);
});

test('does not collect when idle without growth (an idle server is not collected every period)', () => {
  const s = scripted([0, 0, 0, 0, 0, 0], [40 * MiB, 44 * MiB, 47 * MiB, 48 * MiB, 48 * MiB, 48 * MiB]);
  assert.deepEqual(s.looks(), [false, false, false, false, false, false]);
});

test('a busy look in between starts the quiet count again', () => {
  const s = scripted([0.9, 0.01, 0.5, 0.01, 0.01], [40 * MiB, 90 * MiB, 90 * MiB, 90 * MiB, 90 * MiB]);
  assert.deepEqual(s.looks(), [false, false, false, false, true]);
});

// The real thing: a Node process with --expose-gc builds ~100 MiB of garbage in a burst, goes
// idle, and the reducer gives the heap back (V8 keeps it otherwise).
test('in a real process, the heap a burst left behind is given back once idle', () => {
  const script = `
    import { startProcessMemoryReducer } from ${JSON.stringify(new URL('./memory-reducer.ts', import.meta.url).href)};
    import v8 from 'node:v8';
    const r = startProcessMemoryReducer({ periodMs: 100, quietChecks: 2 });
    if (!r) throw new Error('no reducer although --expose-gc was given');
    const keep = [];
    for (let i = 0; i < 400_000; i++) { const o = { i, s: 'x'.repeat(20) + i, a: [i, i + 1] }; if (i % 4 === 0) keep.push(o); }
    keep.length = 0;
    const before = v8.getHeapStatistics().total_physical_size;
    setTimeout(() => {
      const after = v8.getHeapStatistics().total_physical_size;
      process.stdout.write(JSON.stringify({ before, after, collections: r.collections }));
      r.stop();
    }, 1500);
  `;
  const out = spawnSync(
    process.execPath,
    ['--expose-gc', '--max-semi-space-size=16', '--input-type=module', '-e', script],
    { encoding: 'utf8', timeout: 30_000 },
  );
  assert.equal(out.status, 0, out.stderr);
  const { before, after, collections } = JSON.parse(out.stdout);
  assert.equal(collections, 1, `collections: ${collections}`);
  assert.ok(after < before - 16 * MiB, `heap ${before / MiB} MiB before, ${after / MiB} MiB after`);
});

test('without --expose-gc the process has no reducer', () => {
  const script = `
    import { startProcessMemoryReducer } from ${JSON.stringify(new URL('./memory-reducer.ts', import.meta.url).href)};
    process.stdout.write(String(startProcessMemoryReducer() === undefined));
  `;
  const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(out.stdout, 'true', out.stderr);
});
