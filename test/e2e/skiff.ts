/**
 * Test helpers for end-to-end runs of `bin/skiff server` as a user runs it: a child process
 * with its own data dir, CNI bridge and pod CIDR (so files run in parallel), real kubectl
 * against the kubeconfig it writes, and `skiff killall` plus removal of the data dir afterwards.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { kubectlOutput } from '../support/kubectl.ts';
import { poller } from '../support/until.ts';

const SKIFF = new URL('../../bin/skiff', import.meta.url).pathname;
const run = promisify(execFile);

export interface SkiffServer {
  dir: string;
  url: string;
  kubeconfig: string;
  bridge: string;
  podCIDR: string;
  serviceCIDR: string;
  proc: ChildProcess;
  output(): string;
  kubectl(...args: string[]): Promise<string>;
  skiff(...args: string[]): Promise<string>;
  /** SIGTERM, wait for exit, `skiff killall`, remove the data dir. Safe to call twice. */
  stop(): Promise<void>;
}

export async function startSkiffServer(extra: string[] = []): Promise<SkiffServer> {
  if (process.getuid?.() !== 0) throw new Error('end-to-end tests need root (network namespaces, runc, CNI)');
  const dir = await mkdtemp(join(tmpdir(), 'skiff-e2e-'));
  const id = Math.floor(Math.random() * 0xffff);
  const bridge = `ske${id.toString(16)}`;
  const podCIDR = `10.${200 + (id % 50)}.${id >> 8}.0/24`;
  const serviceCIDR = `10.${150 + (id % 50)}.${id >> 8}.0/24`;
  const proc = spawn(
    SKIFF,
    [
      'server',
      ...['--data-dir', dir, '--port', '0', '--bind', '127.0.0.1', '--kubelet-port', '0'],
      ...['--cni-bridge', bridge, '--pod-cidr', podCIDR, '--cluster-cidr', podCIDR],
      ...['--service-cidr', serviceCIDR],
      ...extra,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const env = { ...process.env, KUBECONFIG: join(dir, 'kubeconfig') };
  let stopped = false;
  const s: SkiffServer = {
    dir,
    url: '',
    kubeconfig: join(dir, 'kubeconfig'),
    bridge,
    podCIDR,
    serviceCIDR,
    proc,
    output: () => out,
    kubectl: (...args) => kubectlOutput(join(dir, 'kubeconfig'), args),
    skiff: async (...args) => (await run(SKIFF, args, { env, timeout: 120_000 })).stdout,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      await run(SKIFF, ['killall', '--data-dir', dir, '--cni-bridge', bridge, '--pod-cidr', podCIDR], {
        timeout: 120_000,
      }).catch((e) => process.stderr.write(`killall failed: ${e.message}\n`));
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    s.url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`skiff server did not start in 60 s:\n${out}`)),
        60_000,
      );
      const onData = (d: Buffer) => {
        out += d.toString();
        const m = /kubeconfig: /.test(out) && /listening on (https:\/\/\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', onData);
      void exited.then(() => {
        clearTimeout(timer);
        reject(
          new Error(`skiff server exited (${proc.exitCode ?? proc.signalCode}) before listening:\n${out}`),
        );
      });
    });
  } catch (e) {
    await s.stop();
    throw e;
  }
  return s;
}

/** Polls every 250 ms, 60 s unless told; a check that throws only means "not yet". */
export const until = poller({ timeoutMs: 60_000, intervalMs: 250, retryErrors: true });
