/**
 * API server benchmark: `make bench-api` (node_modules/.bin/node bench/api.ts [--quick]).
 *
 * For each store (SQLite, etcd via startTestEtcd, memory for reference) the API server runs
 * as a child process (so its RSS is its own), and load comes from two worker threads in this
 * process, each concurrent client on its own keep-alive TLS connection with the admin client
 * certificate. The clients speak HTTP/1.1 through a minimal hand-written client (one request
 * at a time per connection, no pipelining): node:https' client costs as much CPU per request
 * as the server itself, and on a 2-core machine it would measure the load generator. Watches
 * use node:https. One table at the end, one column per store:
 *
 *   pod creates/s, gets/s, lists/s (1,000 ConfigMaps), watch events/s to 100 watchers,
 *   p50/p99 latency of creates and gets at 50 concurrent clients, the server's CPU time per
 *   create, get and list, API creates/s over raw store puts/s (same run, same concurrency),
 *   and the RSS of `bin/skiff server --disable-agent` (as users run it: its V8 flags, compile
 *   cache, controllers and scheduler) holding 50,000 ConfigMaps, settled after the writes.
 *
 * The throughput rows run the API server alone (`api.ts serve`, with the V8 flags bin/skiff
 * gives `skiff server`), so that controllers and the scheduler reacting to the bench's pods do
 * not load it.
 *
 * Rates are medians of three short runs. The whole run is bounded to a few minutes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import tls from 'node:tls';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import YAML from 'yaml';

/** Imported by path: the etcd backend may not be part of the tree yet. */
const TEST_ETCD = '../src/store/etcd/test-etcd.ts';
const QUICK = process.argv.includes('--quick');
/** `--store=sqlite` (or etcd, memory): bench only that store. */
const ONLY = process.argv.find((a) => a.startsWith('--store='))?.slice('--store='.length);
const CONCURRENCY = 50;
const WORKERS = 2;
const RUNS = 3;
const RUN_MS = QUICK ? 1000 : 2500;
/** `--rss-only`: only the RSS row. */
const RSS_ONLY = process.argv.includes('--rss-only');
const RSS_OBJECTS = QUICK ? 5000 : 50_000;
const RSS_SETTLE_MS = 5000;
const WATCHERS = 100;
const WATCH_EVENTS = QUICK ? 200 : 1000;

export interface Creds {
  url: string;
  ca: string;
  cert: string;
  key: string;
}

/** One load job for a worker thread (this file, run as a worker). */
export interface Job {
  op: 'create-pods' | 'get-pods' | 'list' | 'create-cms' | 'watch';
  creds: Creds;
  concurrency: number;
  durationMs?: number;
  count?: number;
  namespace: string;
  prefix: string;
  /** Names to get (get-pods). */
  names?: string[];
  watchers?: number;
  expectEvents?: number;
}

export interface JobResult {
  done: number;
  errors: number;
  firstError?: string;
  elapsedMs: number;
  latencies: number[];
  names?: string[];
}

function runJob(job: Job): Promise<JobResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL(import.meta.url), { workerData: job });
    w.once('message', (m: JobResult) => {
      resolve(m);
      void w.terminate();
    });
    w.once('error', reject);
  });
}

/** The same job split over the workers, results merged. */
async function parallel(job: Job, workers = WORKERS): Promise<JobResult> {
  const per = Math.ceil(job.concurrency / workers);
  const rs = await Promise.all(
    Array.from({ length: workers }, (_, i) =>
      runJob({
        ...job,
        concurrency: per,
        count: job.count === undefined ? undefined : Math.ceil(job.count / workers),
        prefix: `${job.prefix}w${i}-`,
      }),
    ),
  );
  return {
    done: rs.reduce((a, r) => a + r.done, 0),
    errors: rs.reduce((a, r) => a + r.errors, 0),
    firstError: rs.find((r) => r.firstError)?.firstError,
    elapsedMs: Math.max(...rs.map((r) => r.elapsedMs)),
    latencies: rs.flatMap((r) => r.latencies),
    names: rs.flatMap((r) => r.names ?? []),
  };
}

function pct(xs: number[], p: number): number {
  if (!xs.length) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

function median(xs: number[]): number {
  return pct(xs, 50);
}

interface ServerChild {
  proc: ChildProcess;
  creds: Creds;
  dir: string;
}

const SKIFF = new URL('../bin/skiff', import.meta.url).pathname;

/**
 * The V8 flags bin/skiff runs `skiff server` with (SKIFF_NODE_OPTIONS replaces them, as it does
 * there), read from the script so that the throughput server runs as users' does.
 */
function skiffServerFlags(): string[] {
  const own = process.env.SKIFF_NODE_OPTIONS;
  if (own !== undefined) return own.split(/\s+/).filter(Boolean);
  const m = /^\s*server\) flags=\(([^)]*)\)/m.exec(readFileSync(SKIFF, 'utf8'));
  if (!m) throw new Error(`bench-api: no "server) flags=(...)" line in ${SKIFF}`);
  return m[1].split(/\s+/).filter(Boolean);
}

/** The API server alone, for the throughput rows. */
function startServer(storeUrl: string, dir: string): Promise<ServerChild> {
  const proc = spawn(
    process.execPath,
    [...skiffServerFlags(), new URL(import.meta.url).pathname, 'serve', storeUrl, dir],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return serverReady(proc, dir, /^ready (\S+)$/m);
}

/** `bin/skiff server --disable-agent` as users run it, on 127.0.0.1 and free ports, for the RSS row. */
function startSkiffServer(storeArgs: string[], dir: string): Promise<ServerChild> {
  const proc = spawn(
    SKIFF,
    ['server', '--disable-agent', '--data-dir', dir, '--port', '0', '--bind', '127.0.0.1', ...storeArgs],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return serverReady(proc, dir, /API server listening on (\S+)/);
}

/** Waits for the server's line naming its URL, then reads the admin credentials from DIR/kubeconfig. */
async function serverReady(proc: ChildProcess, dir: string, ready: RegExp): Promise<ServerChild> {
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d;
      const m = ready.exec(buf);
      if (m) resolve(m[1]);
    });
    proc.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  const kc = YAML.parse(await readFile(join(dir, 'kubeconfig'), 'utf8'));
  const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');
  return {
    proc,
    dir,
    creds: {
      url,
      ca: b64(kc.clusters[0].cluster['certificate-authority-data']),
      cert: b64(kc.users[0].user['client-certificate-data']),
      key: b64(kc.users[0].user['client-key-data']),
    },
  };
}

async function stopServer(s: ServerChild): Promise<void> {
  if (s.proc.exitCode === null) {
    const exited = new Promise((r) => s.proc.once('exit', r));
    s.proc.kill('SIGTERM');
    const t = setTimeout(() => s.proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
  }
}

/** CPU time a process has used, user plus system, in seconds (clock ticks of 10 ms). */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** Raw store puts/s at the same concurrency, in this process, through the Backend contract. */
async function storePutsPerSec(
  open: () => Promise<import('../src/store/index.ts').Backend>,
): Promise<number> {
  const b = await open();
  try {
    const value = JSON.stringify(samplePodLike());
    const rates: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      let i = 0;
      const start = performance.now();
      const end = start + RUN_MS;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (performance.now() < end) await b.create(`/bench/r${run}/k${i++}`, value);
        }),
      );
      rates.push(i / ((performance.now() - start) / 1000));
    }
    return median(rates);
  } finally {
    await b.close();
  }
}

function samplePodLike(): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'x', namespace: 'default', uid: crypto.randomUUID(), labels: { app: 'bench' } },
    spec: { containers: [{ name: 'c', image: 'busybox' }] },
  };
}

interface Row {
  store: string;
  creates?: number;
  gets?: number;
  lists?: number;
  watchEvents?: number;
  createP50?: number;
  createP99?: number;
  getP50?: number;
  getP99?: number;
  storePuts?: number;
  ratio?: number;
  rss?: number;
  /** Server CPU µs per create, get and list (user + system, medians of the runs). */
  cpuUs?: number[];
  /** The load generator's CPU µs per get (this process, all its threads), sharing the machine. */
  clientGetCpuUs?: number;
  note?: string;
}

/** The throughput and latency rows, on a server of their own. */
async function throughput(
  row: Row,
  pid: number,
  base: { creds: Creds; concurrency: number; namespace: string },
  openRaw: () => Promise<import('../src/store/index.ts').Backend>,
): Promise<void> {
  const createCpu: number[] = [];
  const getCpu: number[] = [];
  const listCpu: number[] = [];
  const clientGetCpu: number[] = [];
  // creates (pods), three runs
  const createRates: number[] = [];
  const createLat: number[] = [];
  let podNames: string[] = [];
  for (let run = 0; run < RUNS; run++) {
    const cpu = await cpuSeconds(pid);
    const r = await parallel({ ...base, op: 'create-pods', durationMs: RUN_MS, prefix: `p${run}-` });
    createCpu.push(((await cpuSeconds(pid)) - cpu) / r.done);
    if (r.errors) throw new Error(`creates: ${r.errors} errors, e.g. ${r.firstError}`);
    createRates.push(r.done / (r.elapsedMs / 1000));
    createLat.push(...r.latencies);
    podNames = podNames.concat(r.names ?? []);
  }
  row.creates = median(createRates);
  row.createP50 = pct(createLat, 50);
  row.createP99 = pct(createLat, 99);
  log(`${row.store}: ${podNames.length} pods created, ${row.creates.toFixed(0)}/s`);

  // gets
  const getRates: number[] = [];
  const getLat: number[] = [];
  const names = podNames.slice(0, 2000);
  for (let run = 0; run < RUNS; run++) {
    const cpu = await cpuSeconds(pid);
    const own = process.cpuUsage();
    const r = await parallel({ ...base, op: 'get-pods', durationMs: RUN_MS, prefix: 'g', names });
    getCpu.push(((await cpuSeconds(pid)) - cpu) / r.done);
    const used = process.cpuUsage(own);
    clientGetCpu.push((used.user + used.system) / 1e6 / r.done);
    if (r.errors) throw new Error(`gets: ${r.errors} errors, e.g. ${r.firstError}`);
    getRates.push(r.done / (r.elapsedMs / 1000));
    getLat.push(...r.latencies);
  }
  row.gets = median(getRates);
  row.getP50 = pct(getLat, 50);
  row.getP99 = pct(getLat, 99);

  // lists of 1,000 ConfigMaps
  const fill = await parallel({
    ...base,
    op: 'create-cms',
    count: 1000,
    namespace: 'kube-public',
    prefix: 'l',
  });
  if (fill.errors) throw new Error(`list fill: ${fill.firstError}`);
  const listRates: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const cpu = await cpuSeconds(pid);
    const r = await parallel({
      ...base,
      op: 'list',
      concurrency: 8,
      durationMs: RUN_MS,
      namespace: 'kube-public',
      prefix: '',
    });
    if (r.errors) throw new Error(`lists: ${r.errors} errors, e.g. ${r.firstError}`);
    listRates.push(r.done / (r.elapsedMs / 1000));
    listCpu.push(((await cpuSeconds(pid)) - cpu) / r.done);
  }
  row.lists = median(listRates);
  row.cpuUs = [createCpu, getCpu, listCpu].map((xs) => median(xs) * 1e6);
  row.clientGetCpuUs = median(clientGetCpu) * 1e6;

  // watch fan-out: 100 watchers in one worker, writes from another
  const watchP = runJob({
    ...base,
    op: 'watch',
    namespace: 'kube-node-lease',
    prefix: '',
    watchers: WATCHERS,
    expectEvents: WATCH_EVENTS,
  });
  await new Promise((r) => setTimeout(r, 1000)); // let the watches open
  const writes = await parallel({
    ...base,
    op: 'create-cms',
    count: WATCH_EVENTS,
    namespace: 'kube-node-lease',
    prefix: 'w',
  });
  if (writes.errors) throw new Error(`watch writes: ${writes.firstError}`);
  const w = await watchP;
  if (w.errors) throw new Error(`watch: ${w.firstError}`);
  row.watchEvents = w.done / (w.elapsedMs / 1000);

  // raw store puts/s at the same concurrency, for the ratio
  row.storePuts = await storePutsPerSec(openRaw);
  row.ratio = row.creates / row.storePuts;
}

async function benchStore(
  name: string,
  storeUrl: (dir: string) => string,
  openRaw: (dir: string) => Promise<import('../src/store/index.ts').Backend>,
  skiffStoreArgs: string[],
): Promise<Row> {
  const row: Row = { store: name };
  const dir = await mkdtemp(join(tmpdir(), `skiff-bench-api-${name}-`));
  let s: ServerChild | undefined;
  try {
    s = await startServer(storeUrl(dir), dir);
    const base = { creds: s.creds, concurrency: CONCURRENCY, namespace: 'default' };
    log(`${name}: server up at ${s.creds.url}`);

    if (!RSS_ONLY) await throughput(row, s.proc.pid!, base, () => openRaw(dir));

    // RSS holding RSS_OBJECTS ConfigMaps, on a fresh server and store: what the phases above
    // left (as many pods as the create rate allowed) would make a faster server look bigger.
    await stopServer(s);
    // One server started and stopped first fills Node's compile cache for the code it runs,
    // as any earlier start does for users; after a source edit the measured server would
    // otherwise also hold Node's TypeScript stripper (~5 MB).
    s = await startSkiffServer(skiffStoreArgs, join(dir, 'warm'));
    await stopServer(s);
    const rssDir = join(dir, 'rss');
    s = await startSkiffServer(skiffStoreArgs, rssDir);
    const fresh = { ...base, creds: s.creds };
    const r = await parallel({
      ...fresh,
      op: 'create-cms',
      count: RSS_OBJECTS,
      namespace: 'default',
      prefix: 'rss',
    });
    if (r.errors) throw new Error(`rss fill: ${r.firstError}`);
    // One read, which loads the ConfigMaps into the watch cache where it keeps objects (etcd).
    // Not a list: its answer (~25 MB here) would be garbage still in the heap when RSS is read.
    const conn = new Conn(s.creds);
    const got = await conn.request('GET', '/api/v1/namespaces/default/configmaps/rssw0-0');
    conn.close();
    if (got.code !== 200) throw new Error(`rss read: ${got.code} ${got.text.slice(0, 200)}`);
    // What the server holds once the writes are over, as a user would see it (no forced GC).
    await new Promise((res) => setTimeout(res, RSS_SETTLE_MS));
    row.rss = await rssMiB(s.proc.pid!);
    if (process.env.SKIFF_BENCH_MEMORY)
      log(`${name}: server resident MiB by mapping: ${residentByMapping(s.proc.pid!)}`);
  } catch (e) {
    row.note = (e as Error).message;
  } finally {
    if (s) await stopServer(s);
    await rm(dir, { recursive: true, force: true });
  }
  return row;
}

function log(msg: string): void {
  process.stderr.write(`bench-api: ${msg}\n`);
}

function printTable(rows: Row[]): void {
  const f = (n: number | undefined, d = 0) => (n === undefined || Number.isNaN(n) ? 'n/a' : n.toFixed(d));
  const lines: [string, (r: Row) => string][] = [
    ['pod creates/s', (r) => f(r.creates)],
    ['gets/s', (r) => f(r.gets)],
    ['lists/s (1,000 objects)', (r) => f(r.lists)],
    [`watch events/s (${WATCHERS} watchers)`, (r) => f(r.watchEvents)],
    ['create p50 / p99 ms (50 clients)', (r) => `${f(r.createP50, 1)} / ${f(r.createP99, 1)}`],
    ['get p50 / p99 ms (50 clients)', (r) => `${f(r.getP50, 1)} / ${f(r.getP99, 1)}`],
    ['server CPU µs / create, get, list', (r) => r.cpuUs?.map((n) => f(n)).join(', ') ?? 'n/a'],
    ['load generator CPU µs / get', (r) => f(r.clientGetCpuUs)],
    ['raw store puts/s (50 at once)', (r) => f(r.storePuts)],
    ['API creates / store puts', (r) => f(r.ratio, 2)],
    [`skiff server RSS MiB, ${RSS_OBJECTS.toLocaleString('en')} ConfigMaps`, (r) => f(r.rss)],
  ];
  const w0 = Math.max(...lines.map(([l]) => l.length));
  const cols = rows.map((r) => Math.max(r.store.length, ...lines.map(([, g]) => g(r).length)));
  const out: string[] = [];
  out.push(['', ...rows.map((r, i) => r.store.padStart(cols[i]))].join('  ').replace(/^/, ' '.repeat(w0)));
  for (const [label, g] of lines)
    out.push([label.padEnd(w0), ...rows.map((r, i) => g(r).padStart(cols[i]))].join('  '));
  for (const r of rows) if (r.note) out.push(`${r.store}: ${r.note}`);
  process.stdout.write(`${out.join('\n')}\n`);
}

async function main(): Promise<void> {
  const { openBackend } = await import('../src/store/index.ts');
  const rows: Row[] = [];
  const want = (store: string) => !ONLY || ONLY === store;
  if (want('sqlite'))
    rows.push(
      await benchStore(
        'sqlite',
        (dir) => `sqlite://${join(dir, 'state.db')}`,
        (dir) => openBackend(`sqlite://${join(dir, 'raw.db')}`),
        ['--store', 'sqlite'],
      ),
    );
  let etcd: import('../src/store/etcd/test-etcd.ts').TestEtcd | undefined;
  if (want('etcd'))
    try {
      const { startTestEtcd } = (await import(TEST_ETCD)) as typeof import('../src/store/etcd/test-etcd.ts');
      etcd = await startTestEtcd();
    } catch (e) {
      rows.push({ store: 'etcd', note: `no etcd: ${(e as Error).message}` });
    }
  if (etcd) {
    const url = etcd.url;
    try {
      rows.push(
        await benchStore(
          'etcd',
          (dir) => `${url}?prefix=/api-${basename(dir)}`,
          () => openBackend(`${url}?prefix=/raw`),
          // the whole server keeps its keys under /registry/, apart from the prefixes above
          ['--store', 'etcd', '--etcd-endpoints', etcd.endpoints.join(',')],
        ),
      );
    } finally {
      await etcd.stop();
    }
  }
  if (want('memory'))
    rows.push(
      await benchStore(
        'memory',
        () => 'memory://',
        () => openBackend('memory://'),
        ['--store', 'memory'],
      ),
    );
  printTable(rows);
}

/** The API server child: `api.ts serve STORE_URL DIR`; prints `ready URL`, exits on SIGTERM. */
async function serve(storeUrl: string, dir: string): Promise<void> {
  const { openBackend } = await import('../src/store/index.ts');
  const { builtinRegistry } = await import('../src/api/index.ts');
  const { patchEngine, startApiServer } = await import('../src/apiserver/index.ts');
  const backend = await openBackend(storeUrl);
  const server = await startApiServer({
    dataDir: dir,
    port: 0,
    backend,
    registry: builtinRegistry(),
    patch: patchEngine,
  });
  process.stdout.write(`ready ${server.url}\n`);
  await new Promise((r) => process.once('SIGTERM', r));
  await server.close();
  await backend.close();
  process.exit(0);
}

/** Resident memory summed by what is mapped (a file, or anonymous memory), largest first. */
function residentByMapping(pid: number): string {
  const sums = new Map<string, number>();
  let name = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) name = head[1] ? basename(head[1]) : 'anonymous';
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) sums.set(name, (sums.get(name) ?? 0) + Number(rss[1]));
  }
  return [...sums]
    .sort((a, b) => b[1] - a[1])
    .filter(([, kb]) => kb >= 1024)
    .map(([n, kb]) => `${n} ${(kb / 1024).toFixed(1)}`)
    .join(', ');
}

/** Load generator, run in a worker thread. */
async function work(job: Job): Promise<JobResult> {
  const agent = new https.Agent({
    keepAlive: true,
    maxSockets: job.concurrency + (job.watchers ?? 0),
    ca: job.creds.ca,
    cert: job.creds.cert,
    key: job.creds.key,
  });
  const u = new URL(job.creds.url);
  const result: JobResult = { done: 0, errors: 0, elapsedMs: 0, latencies: [], names: [] };
  const fail = (what: string) => {
    result.errors++;
    result.firstError ??= what;
  };
  const ns = job.namespace;
  if (job.op === 'watch') {
    const want = job.watchers! * job.expectEvents!;
    let got = 0;
    let start = 0;
    const reqs: import('node:http').ClientRequest[] = [];
    const finished = new Promise<void>((resolve) => {
      for (let i = 0; i < job.watchers!; i++) {
        const req = https.request(
          {
            agent,
            host: u.hostname,
            port: u.port,
            path: `/api/v1/namespaces/${ns}/configmaps?watch=1&resourceVersion=0`,
          },
          (res) => {
            let tail = '';
            res.on('data', (c: Buffer) => {
              const text = tail + c.toString();
              const lines = text.split('\n');
              tail = lines.pop()!;
              for (let n = lines.length; n > 0; n--) {
                if (!start) start = performance.now();
                got++;
                if (got === want) resolve();
              }
            });
          },
        );
        req.on('error', (e) => fail(String(e)));
        req.end();
        reqs.push(req);
      }
    });
    const timeout = new Promise<void>((r) => setTimeout(r, 60_000));
    await Promise.race([finished, timeout]);
    result.done = got;
    result.elapsedMs = performance.now() - start;
    if (got < want) fail(`watchers got ${got} of ${want} events`);
    for (const r of reqs) r.destroy();
    agent.destroy();
    return result;
  }
  const start = performance.now();
  const end = job.durationMs ? start + job.durationMs : Number.POSITIVE_INFINITY;
  let issued = 0;
  const sample = (ms: number) => {
    if (result.latencies.length < 20_000) result.latencies.push(ms);
  };
  const conns: Conn[] = [];
  await Promise.all(
    Array.from({ length: job.concurrency }, async () => {
      const conn = new Conn(job.creds);
      conns.push(conn);
      const call = (method: string, path: string, body?: string) => conn.request(method, path, body);
      for (;;) {
        if (performance.now() >= end) return;
        if (job.count !== undefined && issued >= job.count) return;
        const i = issued++;
        const t0 = performance.now();
        try {
          if (job.op === 'create-pods') {
            const name = `${job.prefix}${i}`;
            const pod = {
              apiVersion: 'v1',
              kind: 'Pod',
              metadata: { name, labels: { app: 'bench', run: job.prefix.replace(/-$/, '') } },
              spec: { containers: [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '3600'] }] },
            };
            const r = await call('POST', `/api/v1/namespaces/${ns}/pods`, JSON.stringify(pod));
            if (r.code !== 201) fail(`${r.code} ${r.text.slice(0, 200)}`);
            else result.names!.push(name);
          } else if (job.op === 'create-cms') {
            const cm = {
              apiVersion: 'v1',
              kind: 'ConfigMap',
              metadata: { name: `${job.prefix}${i}`, labels: { app: 'bench' } },
              data: { key: 'value-'.repeat(8), n: String(i) },
            };
            const r = await call('POST', `/api/v1/namespaces/${ns}/configmaps`, JSON.stringify(cm));
            if (r.code !== 201) fail(`${r.code} ${r.text.slice(0, 200)}`);
          } else if (job.op === 'get-pods') {
            const name = job.names![i % job.names!.length];
            const r = await call('GET', `/api/v1/namespaces/${ns}/pods/${name}`);
            if (r.code !== 200) fail(`${r.code} ${r.text.slice(0, 200)}`);
          } else if (job.op === 'list') {
            const r = await call('GET', `/api/v1/namespaces/${ns}/configmaps`);
            if (r.code !== 200) fail(`${r.code} ${r.text.slice(0, 200)}`);
          }
        } catch (e) {
          fail(String(e));
        }
        result.done++;
        sample(performance.now() - t0);
      }
    }),
  );
  result.elapsedMs = performance.now() - start;
  for (const c of conns) c.close();
  agent.destroy();
  return result;
}

/**
 * One client connection: HTTP/1.1 keep-alive over TLS, one request at a time, reconnecting
 * when the server closes it. Parses just what the bench needs: the status code and a body
 * framed by Content-Length or chunked encoding.
 */
class Conn {
  readonly #creds: Creds;
  readonly #host: string;
  readonly #port: number;
  #sock?: tls.TLSSocket;
  #buf: Buffer = Buffer.alloc(0);
  /** Chunks received after #buf while a long body is still incomplete (joined once, not per chunk). */
  #more: Buffer[] = [];
  #moreBytes = 0;
  /** Bytes #buf plus #more must reach before parsing again (a known body length). */
  #need = 0;
  #waiting?: { resolve: (r: { code: number; text: string }) => void; reject: (e: Error) => void };

  constructor(creds: Creds) {
    this.#creds = creds;
    const u = new URL(creds.url);
    this.#host = u.hostname;
    this.#port = Number(u.port);
  }

  #connect(): tls.TLSSocket {
    const sock = tls.connect({
      host: this.#host,
      port: this.#port,
      ca: this.#creds.ca,
      cert: this.#creds.cert,
      key: this.#creds.key,
      servername: this.#host === '127.0.0.1' ? undefined : this.#host,
    });
    sock.setNoDelay(true);
    sock.on('data', (c: Buffer) => {
      if (!this.#buf.length) this.#buf = c;
      else {
        this.#more.push(c);
        this.#moreBytes += c.length;
        if (this.#buf.length + this.#moreBytes < this.#need) return;
        this.#buf = Buffer.concat([this.#buf, ...this.#more]);
        this.#more = [];
        this.#moreBytes = 0;
      }
      this.#parse();
    });
    const fail = (e: Error) => {
      if (this.#sock !== sock) return; // an older connection, already given up
      this.#sock = undefined;
      this.#buf = Buffer.alloc(0);
      this.#more = [];
      this.#moreBytes = 0;
      this.#need = 0;
      const w = this.#waiting;
      this.#waiting = undefined;
      w?.reject(e);
    };
    sock.on('error', fail);
    sock.on('close', () => fail(new Error('connection closed')));
    return sock;
  }

  request(method: string, path: string, body?: string): Promise<{ code: number; text: string }> {
    this.#sock ??= this.#connect();
    let head = `${method} ${path} HTTP/1.1\r\nHost: ${this.#host}:${this.#port}\r\nAccept: application/json\r\n`;
    if (body !== undefined)
      head += `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;
    this.#sock.write(`${head}\r\n${body ?? ''}`);
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
    });
  }

  #parse(): void {
    const buf = this.#buf;
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0 || !this.#waiting) return;
    const head = buf.toString('latin1', 0, end);
    const code = Number(head.slice(9, 12));
    const len = /\r\ncontent-length: *(\d+)/i.exec(head);
    let text: string;
    let rest: Buffer;
    if (len) {
      const total = end + 4 + Number(len[1]);
      if (buf.length < total) {
        this.#need = total;
        return;
      }
      this.#need = 0;
      text = code < 300 ? '' : buf.toString('utf8', end + 4, total); // the bench reads only errors
      rest = buf.subarray(total);
    } else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
      const parts: Buffer[] = [];
      let at = end + 4;
      for (;;) {
        const eol = buf.indexOf('\r\n', at);
        if (eol < 0) return;
        const size = Number.parseInt(buf.toString('latin1', at, eol), 16);
        if (buf.length < eol + 2 + size + 2) return;
        if (size === 0) {
          at = eol + 4;
          break;
        }
        parts.push(buf.subarray(eol + 2, eol + 2 + size));
        at = eol + 2 + size + 2;
      }
      text = Buffer.concat(parts).toString('utf8');
      rest = buf.subarray(at);
    } else {
      text = '';
      rest = buf.subarray(end + 4);
    }
    this.#buf = rest;
    const w = this.#waiting;
    this.#waiting = undefined;
    w.resolve({ code, text });
  }

  close(): void {
    this.#sock?.destroy();
    this.#sock = undefined;
  }
}

if (!isMainThread) parentPort!.postMessage(await work(workerData as Job));
else if (process.argv[2] === 'serve') await serve(process.argv[3], process.argv[4]);
else await main();
