/**
 * Pod-like network namespaces for the network tests: a test-unique bridge that is the pods'
 * gateway, one veth per pod, and busybox httpd inside answering with the pod's name. Everything
 * carries a random suffix, and `cleanup()` removes all of it (call it from `t.after`).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function sh(cmd: string, args: string[], timeout = 10_000): Promise<string> {
  return (await run(cmd, args, { timeout })).stdout;
}

export async function tryRun(cmd: string, args: string[]): Promise<boolean> {
  try {
    await sh(cmd, args);
    return true;
  } catch {
    return false;
  }
}

export interface TestPod {
  name: string;
  netns: string;
  ip: string;
  /** The host side of the pod's veth. */
  hostVeth: string;
}

export interface TestNet {
  suffix: string;
  bridge: string;
  /** The bridge's address, the pods' gateway: the "node address" in these tests. */
  gateway: string;
  subnet: string;
  /** Makes a pod namespace; with `httpPort`, busybox httpd answers `name` there. */
  addPod(name: string, httpPort?: number): Promise<TestPod>;
  /** `busybox wget` from a pod (or the host when netns is undefined); the body, or null on failure. */
  fetch(netns: string | undefined, url: string, seconds?: number): Promise<string | null>;
  cleanup(): Promise<void>;
}

export function requireRoot(): void {
  assert.equal(process.getuid?.(), 0, 'this test needs root (network namespaces, bridges, nftables)');
}

export async function makeTestNet(): Promise<TestNet> {
  requireRoot();
  const suffix = randomBytes(3).toString('hex');
  const bridge = `skb${suffix}`;
  const octet = 1 + (randomBytes(1)[0] % 250);
  const prefix = `10.244.${octet}.`;
  const gateway = `${prefix}1`;
  const dir = await mkdtemp(join(tmpdir(), 'skiff-nettest-'));
  const namespaces: string[] = [];
  const children: ChildProcess[] = [];
  let next = 2;

  const net: TestNet = {
    suffix,
    bridge,
    gateway,
    subnet: `${prefix}0/24`,
    async addPod(name, httpPort) {
      const i = next++;
      const netns = `skn-${suffix}-${name}`;
      const hostVeth = `skv${suffix}${i}`;
      const ip = `${prefix}${i}`;
      await sh('ip', ['netns', 'add', netns]);
      namespaces.push(netns);
      await sh('ip', ['link', 'add', hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
      await sh('ip', ['link', 'set', hostVeth, 'master', bridge, 'up']);
      await sh('ip', ['link', 'set', hostVeth, 'type', 'bridge_slave', 'hairpin', 'on']);
      const inNs = (args: string[]) => sh('ip', ['netns', 'exec', netns, ...args]);
      await inNs(['ip', 'link', 'set', 'lo', 'up']);
      await inNs(['ip', 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
      await inNs(['ip', 'link', 'set', 'eth0', 'up']);
      await inNs(['ip', 'route', 'add', 'default', 'via', gateway]);
      if (httpPort) {
        const www = join(dir, name);
        await run('mkdir', ['-p', www]);
        await writeFile(join(www, 'index.html'), name);
        const child = spawn(
          'ip',
          ['netns', 'exec', netns, 'busybox', 'httpd', '-f', '-p', String(httpPort), '-h', www],
          { stdio: 'ignore' },
        );
        children.push(child);
        // Wait until it answers.
        for (let k = 0; k < 50; k++) {
          if ((await net.fetch(netns, `http://127.0.0.1:${httpPort}/`, 1)) === name) break;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      return { name, netns, ip, hostVeth };
    },
    async fetch(netns, url, seconds = 3) {
      const cmd = ['timeout', String(seconds), 'busybox', 'wget', '-qO-', url];
      try {
        return netns ? await sh('ip', ['netns', 'exec', netns, ...cmd]) : await sh(cmd[0], cmd.slice(1));
      } catch {
        return null;
      }
    },
    async cleanup() {
      for (const c of children) if (c.pid && c.exitCode === null) c.kill('SIGKILL');
      for (const ns of namespaces) await tryRun('ip', ['netns', 'del', ns]);
      await tryRun('ip', ['link', 'del', bridge]);
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await sh('ip', ['link', 'add', bridge, 'type', 'bridge']);
    await sh('ip', ['addr', 'add', `${gateway}/24`, 'dev', bridge]);
    await sh('ip', ['link', 'set', bridge, 'up']);
  } catch (e) {
    await net.cleanup();
    throw e;
  }
  return net;
}
