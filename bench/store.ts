/**
 * Raw store throughput, every backend side by side in one run: creates/s, gets/s and
 * lists of 1,000 keys/s, each the median of several runs, printed as a table. The API
 * benchmark compares its creates/s with this. etcd is started by the bench itself.
 *
 *   node_modules/.bin/node bench/store.ts [--runs 3] [--ops 4000] [--concurrency 64]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type Backend, openBackend, startTestEtcd } from '../src/store/index.ts';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    ops: { type: 'string', default: '4000' },
    concurrency: { type: 'string', default: '64' },
    lists: { type: 'string', default: '40' },
  },
});
const RUNS = Number(args.runs);
const OPS = Number(args.ops);
const CONCURRENCY = Number(args.concurrency);
const LISTS = Number(args.lists);
const LIST_SIZE = 1000;
/** About the size of a small Pod as JSON. */
const VALUE = JSON.stringify({
  kind: 'Pod',
  apiVersion: 'v1',
  spec: { containers: [{ name: 'c', image: 'x'.repeat(600) }] },
});

interface Result {
  creates: number;
  gets: number;
  lists: number;
}

/** Run `total` calls of `fn`, at most `concurrency` at once; returns calls per second. */
async function rate(
  total: number,
  concurrency: number,
  fn: (i: number) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, async () => {
      while (next < total) await fn(next++);
    }),
  );
  return total / ((performance.now() - start) / 1000);
}

async function runOnce(b: Backend, run: number): Promise<Result> {
  const base = `/bench/${run}`;
  const creates = await rate(OPS, CONCURRENCY, (i) => b.create(`${base}/pods/p${i}`, VALUE));
  const gets = await rate(OPS * 2, CONCURRENCY, (i) => b.get(`${base}/pods/p${(i * 7919) % OPS}`));
  await rate(LIST_SIZE, CONCURRENCY, (i) => b.create(`${base}/list/k${i}`, VALUE));
  const lists = await rate(LISTS, 4, async () => {
    const res = await b.list(`${base}/list/`);
    if (res.items.length !== LIST_SIZE) throw new Error(`listed ${res.items.length} keys`);
  });
  return { creates, gets, lists };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function bench(url: string): Promise<{ name: string; result: Result }> {
  const b = await openBackend(url);
  try {
    const runs: Result[] = [];
    for (let r = 0; r < RUNS; r++) runs.push(await runOnce(b, r));
    return {
      name: b.name,
      result: {
        creates: median(runs.map((r) => r.creates)),
        gets: median(runs.map((r) => r.gets)),
        lists: median(runs.map((r) => r.lists)),
      },
    };
  } finally {
    await b.close();
  }
}

const dir = await mkdtemp(join(tmpdir(), 'skiff-bench-store-'));
const etcd = await startTestEtcd();
try {
  const rows = [
    await bench('memory://'),
    await bench(`sqlite://${join(dir, 'state.db')}`),
    await bench(`${etcd.url}?prefix=/skiff`),
  ];
  console.log(
    `store benchmark: ${OPS} creates and ${OPS * 2} gets at concurrency ${CONCURRENCY}, ${LISTS} lists of ${LIST_SIZE} keys; median of ${RUNS} runs`,
  );
  console.log(
    `${'backend'.padEnd(8)} ${'creates/s'.padStart(10)} ${'gets/s'.padStart(10)} ${'lists(1000)/s'.padStart(14)}`,
  );
  for (const { name, result } of rows) {
    console.log(
      `${name.padEnd(8)} ${result.creates.toFixed(0).padStart(10)} ${result.gets.toFixed(0).padStart(10)} ${result.lists.toFixed(1).padStart(14)}`,
    );
  }
} finally {
  await etcd.stop();
  await rm(dir, { recursive: true, force: true });
}
