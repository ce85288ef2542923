/**
 * A real node for the agent's end-to-end tests: an API server (memory store), Skiff's CRI
 * runtime with the real CNI plugins on a test-unique bridge and podCIDR, the busybox test image,
 * and the agent. `destroy()` removes everything, also after a failed test: pods through CRI
 * (which tears down their networks), leftover runc containers and monitors, mounts, the bridge,
 * iptables rules that mention our bridge or subnet, and the directories.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { builtinRegistry } from '../../src/api/index.ts';
import type { ResourceRegistry } from '../../src/api/resource.ts';
import { RestClient } from '../../src/client/index.ts';
import { type CriClient, criClient } from '../../src/cri/index.ts';
import { type Agent, type AgentOptions, startAgent } from '../../src/kubelet/index.ts';
import { cniNetwork, defaultConflist } from '../../src/network/cni/index.ts';
import { buildTestImage, type RuntimeHandle, startRuntime } from '../../src/runtime/index.ts';
import { MemoryBackend } from '../../src/store/index.ts';
import { startTestServer, type TestServer } from '../support/api-server.ts';
import { poller } from '../support/until.ts';

export { kubectl } from '../support/kubectl.ts';

const run = promisify(execFile);

export async function sh(cmd: string, args: string[], timeout = 15_000): Promise<string> {
  return (await run(cmd, args, { timeout })).stdout;
}
export async function ok(cmd: string, args: string[]): Promise<boolean> {
  try {
    await sh(cmd, args);
    return true;
  } catch {
    return false;
  }
}

/** The built-in registry (it serves Node and Lease itself now); bench/pod-startup.ts uses it too. */
export function testRegistry(): ResourceRegistry {
  return builtinRegistry();
}

export interface TestNode {
  dir: string;
  suffix: string;
  nodeName: string;
  bridge: string;
  podCIDR: string;
  subnetPrefix: string;
  kubeconfig: string;
  client: RestClient;
  cri: CriClient;
  agent: Agent;
  runtime: RuntimeHandle;
  agentOptions: AgentOptions;
  image: string;
  podLogsDir: string;
  agentDir: string;
  stateDir: string;
  restartAgent(): Promise<void>;
  kubectl: TestServer['kubectl'];
  destroy(): Promise<void>;
}

export async function startTestNode(extra: Partial<AgentOptions> = {}): Promise<TestNode> {
  if (process.getuid?.() !== 0) throw new Error('the agent tests need root (runc, mounts, namespaces, CNI)');
  const suffix = randomBytes(3).toString('hex');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-kubelet-'));
  const octet = 1 + (randomBytes(1)[0] % 250);
  const second = 100 + (randomBytes(1)[0] % 100);
  const subnetPrefix = `10.${second}.${octet}.`;
  const podCIDR = `${subnetPrefix}0/24`;
  const bridge = `skk${suffix}`;
  const netName = `skiff-k-${suffix}`;
  const stateDir = path.join(dir, 'rt-state');
  const parts: Partial<TestNode> & { closers: (() => Promise<void>)[] } = { closers: [] };

  const destroy = async () => {
    for (const c of parts.closers.reverse()) await c().catch(() => {});
    await destroyLeftovers(dir, stateDir, bridge, [bridge, subnetPrefix, netName]);
  };
  try {
    const api = await startTestServer(new MemoryBackend(), testRegistry());
    parts.closers.push(() => api.close());
    const network = cniNetwork({
      conflist: defaultConflist({ name: netName, bridge, podCIDR, dataDir: path.join(dir, 'ipam') }),
      binDirs: ['/usr/lib/cni'],
      cacheDir: path.join(dir, 'cni-cache'),
    });
    const socket = path.join(dir, 'cri.sock');
    const runtime = await startRuntime({ root: path.join(dir, 'rt-root'), stateDir, socket, network });
    const img = await buildTestImage(path.join(dir, 'image'));
    await runtime.images.importArchive(img.dockerArchive);
    const cri = criClient(`unix://${socket}`);
    // pods first (through CRI, so their networks are torn down), then the runtime
    parts.closers.push(async () => {
      await runtime.close();
    });
    parts.closers.push(async () => {
      const list = await cri.listPodSandbox({});
      for (const s of list.items) {
        const cs = await cri.listContainers({ filter: { podSandboxId: s.id } });
        for (const c of cs.containers) await cri.removeContainer({ containerId: c.id }).catch(() => {});
        await cri.stopPodSandbox({ podSandboxId: s.id }).catch(() => {});
        await cri.removePodSandbox({ podSandboxId: s.id }).catch(() => {});
      }
      cri.close();
    });
    const client = await RestClient.fromKubeconfig(api.kubeconfigPath);
    parts.closers.push(async () => client.close());
    const agentDir = path.join(dir, 'agent');
    const podLogsDir = path.join(dir, 'logs');
    const nodeName = `node-${suffix}`;
    const agentOptions: AgentOptions = {
      kubeconfig: api.kubeconfigPath,
      nodeName,
      criEndpoint: `unix://${socket}`,
      dataDir: agentDir,
      podLogsDir,
      podCIDR,
      hostIP: '127.0.0.1',
      port: 0,
      syncPeriodMs: 1000,
      nodeStatusMs: 2000,
      leaseRenewMs: 2000,
      backoffBaseMs: 1000,
      backoffMaxMs: 8000,
      log: () => {},
      ...extra,
    };
    let agent = await startAgent(agentOptions);
    parts.closers.push(async () => agent.close());
    const node: TestNode = {
      dir,
      suffix,
      nodeName,
      bridge,
      podCIDR,
      subnetPrefix,
      kubeconfig: api.kubeconfigPath,
      client,
      cri,
      get agent() {
        return agent;
      },
      get runtime() {
        return runtime;
      },
      agentOptions,
      image: img.name,
      podLogsDir,
      agentDir,
      stateDir,
      async restartAgent() {
        await agent.close(); // closing twice is harmless
        agent = await startAgent(agentOptions);
      },
      kubectl: api.kubectl,
      destroy,
    };
    return node;
  } catch (e) {
    await destroy();
    throw e;
  }
}

/** Everything a failed test may have left: runc containers, monitors, mounts, bridge, iptables rules, files. */
export async function destroyLeftovers(
  dir: string,
  stateDir: string,
  bridge: string,
  marks: string[],
): Promise<void> {
  const runcRoot = path.join(stateDir, 'runc');
  if (fs.existsSync(runcRoot)) {
    const ids = (await sh('runc', ['--root', runcRoot, 'list', '-q']).catch(() => ''))
      .split('\n')
      .filter(Boolean);
    for (const id of ids) {
      await ok('runc', ['--root', runcRoot, 'kill', id, 'KILL']);
      await ok('runc', ['--root', runcRoot, 'delete', '--force', id]);
    }
  }
  const containersDir = path.join(stateDir, 'containers');
  for (const id of fs.existsSync(containersDir) ? fs.readdirSync(containersDir) : []) {
    for (const file of ['monitor.pid', 'conmon.pid'])
      try {
        const pid = Number(fs.readFileSync(path.join(containersDir, id, file), 'utf8'));
        if (pid) process.kill(pid, 'SIGKILL');
      } catch {}
  }
  for (const m of mountsUnder(dir).sort((a, b) => b.length - a.length)) {
    if (!(await ok('umount', [m]))) await ok('umount', ['-l', m]);
  }
  await ok('ip', ['link', 'del', bridge]);
  for (const table of ['nat', 'filter']) {
    const rules = await sh('iptables-save', ['-t', table]).catch(() => '');
    const chains = new Set<string>();
    for (const line of rules.split('\n')) {
      if (!line.startsWith('-A ') || !marks.some((m) => line.includes(m))) continue;
      const chain = line.split(' ')[1];
      if (chain.startsWith('CNI-') && !chain.startsWith('CNI-HOSTPORT-') && chain !== 'CNI-FORWARD')
        chains.add(chain);
      await ok('sh', ['-c', `iptables -t ${table} ${line.replace(/^-A /, '-D ')}`]);
    }
    for (const c of chains) {
      await ok('iptables', ['-t', table, '-F', c]);
      await ok('iptables', ['-t', table, '-X', c]);
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

export function mountsUnder(dir: string): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m) => m && (m === dir || m.startsWith(`${dir}/`)));
}

/** Polls every 200 ms, 30 s unless told; a check that throws only means "not yet". */
export const until = poller({ timeoutMs: 30_000, intervalMs: 200, retryErrors: true });
