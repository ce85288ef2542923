/**
 * `bin/skiff server` as a user runs it: the default SQLite store in the data dir, kubectl
 * against the kubeconfig it writes, a clean exit on SIGTERM; and API-level durability: every
 * ConfigMap the server acknowledged (201) before a kill -9 is there after a restart on the
 * same data dir, with exactly the resourceVersion it was acknowledged with.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import YAML from 'yaml';
import { startTestEtcd } from '../../src/store/index.ts';
import { kubectl } from './helpers.ts';

const SKIFF = new URL('../../bin/skiff', import.meta.url).pathname;
const KILL_AFTER = 400;

interface Running {
  proc: ChildProcess;
  url: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

/** Start `skiff server` and wait for its "listening on" line (30 s at most). */
async function startSkiff(dir: string, extra: string[] = []): Promise<Running> {
  const proc = spawn(
    SKIFF,
    ['server', '--data-dir', dir, '--port', '0', '--bind', '127.0.0.1', '--disable-agent', ...extra],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`skiff server did not start in 30 s:\n${out}`)), 30_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on (https:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`skiff server exited (${code ?? signal}) before listening:\n${out}`));
    });
  });
  return { proc, url, exited, output: () => out };
}

function killIfRunning(r: Running | undefined): void {
  if (r?.proc.pid && r.proc.exitCode === null && r.proc.signalCode === null)
    process.kill(r.proc.pid, 'SIGKILL');
}

async function adminAgent(dir: string): Promise<https.Agent> {
  const kc = YAML.parse(await readFile(join(dir, 'kubeconfig'), 'utf8'));
  const b64 = (s: string) => Buffer.from(s, 'base64');
  return new https.Agent({
    keepAlive: true,
    maxSockets: 16,
    ca: b64(kc.clusters[0].cluster['certificate-authority-data']),
    cert: b64(kc.users[0].user['client-certificate-data']),
    key: b64(kc.users[0].user['client-key-data']),
  });
}

function call(
  agent: https.Agent,
  url: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ code: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request(
      `${url}${path}`,
      { agent, method, headers: text ? { 'Content-Type': 'application/json' } : {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve({
              code: res.statusCode ?? 0,
              body: JSON.parse(Buffer.concat(chunks).toString() || '{}'),
            });
          } catch (e) {
            reject(e);
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

test('skiff server on its default SQLite store serves kubectl and exits 0 on SIGTERM', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-server-e2e-'));
  let s: Running | undefined;
  t.after(async () => {
    killIfRunning(s);
    await rm(dir, { recursive: true, force: true });
  });
  s = await startSkiff(dir);
  assert.match(s.output(), /store: sqlite/);
  const r = await kubectl(join(dir, 'kubeconfig'), ['get', 'ns']);
  assert.equal(r.code, 0, r.stderr);
  for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease'])
    assert.match(r.stdout, new RegExp(`^${ns}\\s+Active`, 'm'));
  await readFile(join(dir, 'state.db')); // the store is where the docs say
  s.proc.kill('SIGTERM');
  const { code, signal } = await s.exited;
  assert.equal(signal, null, s.output());
  assert.equal(code, 0, s.output());
});

test('every ConfigMap acknowledged before kill -9 survives a restart with its resourceVersion', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-server-crash-'));
  let s: Running | undefined;
  const agents: https.Agent[] = [];
  t.after(async () => {
    killIfRunning(s);
    for (const a of agents) a.destroy();
    await rm(dir, { recursive: true, force: true });
  });
  s = await startSkiff(dir, ['--store', 'sqlite']);
  const agent = await adminAgent(dir);
  agents.push(agent);
  const acked = new Map<string, string>();
  let n = 0;
  let killed = false;
  const first = s;
  const writers = Array.from({ length: 16 }, async () => {
    while (!killed) {
      const name = `cm-${n++}`;
      try {
        const r = await call(agent, first.url, 'POST', '/api/v1/namespaces/default/configmaps', {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name },
          data: { n: name },
        });
        if (r.code === 201) {
          acked.set(name, (r.body.metadata as { resourceVersion: string }).resourceVersion);
          if (acked.size >= KILL_AFTER && !killed) {
            killed = true;
            first.proc.kill('SIGKILL');
          }
        } else if (!killed) throw new Error(`create ${name}: ${r.code} ${JSON.stringify(r.body)}`);
      } catch (e) {
        if (!killed) throw e;
      }
    }
  });
  await Promise.all(writers);
  const { signal } = await first.exited;
  assert.equal(signal, 'SIGKILL');
  agent.destroy();

  s = await startSkiff(dir, ['--store', 'sqlite']);
  const agent2 = await adminAgent(dir);
  agents.push(agent2);
  const list = await call(agent2, s.url, 'GET', '/api/v1/namespaces/default/configmaps');
  assert.equal(list.code, 200);
  const stored = new Map(
    (list.body.items as { metadata: { name: string; resourceVersion: string } }[]).map((c) => [
      c.metadata.name,
      c.metadata.resourceVersion,
    ]),
  );
  assert.ok(acked.size >= KILL_AFTER);
  const lost = [...acked].filter(([name, rv]) => stored.get(name) !== rv);
  assert.deepEqual(lost, [], `acknowledged writes lost or changed (of ${acked.size})`);
  s.proc.kill('SIGTERM');
  assert.equal((await s.exited).code, 0, s.output());
});

test('skiff server --store etcd, as users run it (no key prefix), serves kubectl and exits 0 on SIGTERM', async (t) => {
  const etcd = await startTestEtcd();
  const dir = await mkdtemp(join(tmpdir(), 'skiff-server-etcd-'));
  let s: Running | undefined;
  t.after(async () => {
    killIfRunning(s);
    await etcd.stop();
    await rm(dir, { recursive: true, force: true });
  });
  s = await startSkiff(dir, ['--store', 'etcd', '--etcd-endpoints', etcd.endpoints.join(',')]);
  assert.match(s.output(), /store: etcd/);
  const kc = join(dir, 'kubeconfig');
  const created = await kubectl(kc, ['create', 'configmap', 'on-etcd', '--from-literal=k=v']);
  assert.equal(created.code, 0, created.stderr);
  const got = await kubectl(kc, ['get', 'configmap', 'on-etcd', '-o', 'jsonpath={.data.k}']);
  assert.equal(got.stdout, 'v', got.stderr);
  s.proc.kill('SIGTERM');
  const { code } = await s.exited;
  assert.equal(code, 0, s.output());
});

test('a second skiff server on a data dir in use exits 1 with one line naming the store file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-server-twice-'));
  let s: Running | undefined;
  t.after(async () => {
    killIfRunning(s);
    await rm(dir, { recursive: true, force: true });
  });
  s = await startSkiff(dir);
  const second = spawn(
    SKIFF,
    ['server', '--data-dir', dir, '--port', '0', '--bind', '127.0.0.1', '--disable-agent'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let err = '';
  second.stderr!.on('data', (d) => {
    err += d;
  });
  const [code] = (await once(second, 'exit')) as [number | null];
  assert.equal(code, 1);
  assert.equal(
    err,
    `skiff server: ${join(dir, 'state.db')} is in use by another process (another skiff server on this data dir?)\n`,
  );
  // the first one still serves
  const r = await kubectl(join(dir, 'kubeconfig'), ['get', 'ns', 'default']);
  assert.equal(r.code, 0, r.stderr);
});
