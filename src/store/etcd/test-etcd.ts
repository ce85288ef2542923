/**
 * A real etcd for tests and benchmarks: `/usr/bin/etcd` on 127.0.0.1 with free ports and a
 * temporary data directory, stopped by PID and removed by `stop()`.
 *
 *   const etcd = await startTestEtcd();
 *   t.after(() => etcd.stop());
 *   const store = await openBackend(etcd.url);
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestEtcd {
  /** Client endpoints, e.g. `['http://127.0.0.1:41234']`. */
  endpoints: string[];
  /** A store URL for `openBackend`: `etcd://127.0.0.1:41234`. */
  url: string;
  /** Stop the server (SIGTERM, then SIGKILL) and remove its data directory. */
  stop(): Promise<void>;
  /** Stop the server and start it again on the same ports and data (for reconnect tests). */
  restart(): Promise<void>;
}

const ETCD = '/usr/bin/etcd';
const READY_MS = 20_000;

export async function startTestEtcd(): Promise<TestEtcd> {
  let lastError: unknown;
  // Free ports are found by binding port 0 and releasing it; another process can take one
  // in between, so a start that fails is retried with new ports.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce();
    } catch (e) {
      lastError = e;
    }
  }
  throw lastError;
}

async function startOnce(): Promise<TestEtcd> {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-etcd-'));
  const [clientPort, peerPort] = await freePorts(2);
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    '--name=skiff-test',
    `--data-dir=${join(dir, 'data')}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=skiff-test=${peer}`,
    '--initial-cluster-state=new',
    '--logger=zap',
    '--log-level=error',
  ];
  let server = launch(args);
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await kill(server.child, server.exited);
    await rm(dir, { recursive: true, force: true });
  };
  const restart = async (): Promise<void> => {
    await kill(server.child, server.exited);
    server = launch(args);
    await waitHealthy(client, server.exited, server.stderr);
  };
  try {
    await waitHealthy(client, server.exited, server.stderr);
  } catch (e) {
    await stop();
    throw e;
  }
  return { endpoints: [client], url: `etcd://127.0.0.1:${clientPort}`, stop, restart };
}

interface Server {
  child: ChildProcess;
  exited: Promise<number | null>;
  stderr: () => string;
}

function launch(args: string[]): Server {
  const child = spawn(ETCD, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

async function waitHealthy(
  client: string,
  exited: Promise<number | null>,
  stderr: () => string,
): Promise<void> {
  let dead = false;
  exited.then(() => {
    dead = true;
  });
  const deadline = Date.now() + READY_MS;
  while (Date.now() < deadline) {
    if (dead) throw new Error(`etcd exited during start-up: ${stderr()}`);
    try {
      const res = await fetch(`${client}/health`, { signal: AbortSignal.timeout(1000) });
      const body = (await res.json()) as { health?: string };
      if (body.health === 'true') return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`etcd did not become healthy within ${READY_MS} ms: ${stderr()}`);
}

async function kill(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null)
      process.kill(child.pid, 'SIGKILL');
  }, 5000);
  await exited;
  clearTimeout(timer);
}

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const s = createServer();
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const addr = s.address();
    if (addr === null || typeof addr === 'string') throw new Error('no port');
    return addr.port;
  });
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}
