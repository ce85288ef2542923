/**
 * Multi-node Skiff clusters on one machine, kind's idea without Docker: every node is a network
 * namespace `skiff-<name>-<i>` (a veth to the host bridge `sk-<name>`, its own address in a
 * private /24 of 172.31.0.0/16) plus a persistent mount namespace, so each node's CNI bridge,
 * routes, nftables, kubelet port and mounts are its own. Node 1 runs `skiff server`, the others
 * `skiff agent` with the server's join token. All nodes share the bridge's L2 segment, which is
 * what host-gw pod routes need (see network/routes).
 *
 * State lives in `/var/lib/skiff-clusters/<name>/` (cluster.json, logs, node data dirs, the
 * admin kubeconfig); `deleteCluster` undoes everything recorded there.
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import { mkdir, open, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensurePki } from '../apiserver/index.ts';

const run = promisify(execFile);
const SKIFF = new URL('../../bin/skiff', import.meta.url).pathname;
export const CLUSTERS_DIR = '/var/lib/skiff-clusters';
const SUBNETS_DIR = join(CLUSTERS_DIR, '.subnets');

export interface ClusterNode {
  index: number;
  name: string;
  netns: string;
  veth: string;
  ip: string;
  dataDir: string;
  log: string;
  mountNs: string;
  podCIDR?: string;
  pid?: number;
}

export interface ClusterState {
  name: string;
  dir: string;
  bridge: string;
  subnet: number;
  hostIP: string;
  serverUrl: string;
  kubeconfig: string;
  iptables: string[][];
  nodes: ClusterNode[];
}

export interface CreateOptions {
  name: string;
  nodes: number;
  /** give each node its pod CIDR on the command line (default) or let the server's node IPAM assign them */
  podCIDRs?: 'static' | 'ipam';
  log?(msg: string): void;
}

const NAME = /^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/;

export function clusterDir(name: string): string {
  return join(CLUSTERS_DIR, name);
}

async function sh(cmd: string, args: string[]): Promise<string> {
  try {
    return (await run(cmd, args, { timeout: 120_000 })).stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${err.stderr?.trim() || err.message}`);
  }
}
const quiet = (cmd: string, args: string[]) => sh(cmd, args).catch(() => '');

/** Claim a free 172.31.<k>.0/24: not on any interface or route here, not held by another cluster. */
async function claimSubnet(name: string): Promise<number> {
  await mkdir(SUBNETS_DIR, { recursive: true });
  const used =
    (await sh('ip', ['-4', '-o', 'addr', 'show'])) +
    (await sh('ip', ['-4', 'route', 'show', 'table', 'all']));
  for (let k = 1; k < 255; k++) {
    if (used.includes(`172.31.${k}.`)) continue;
    try {
      const f = await open(join(SUBNETS_DIR, String(k)), 'wx');
      await f.writeFile(name);
      await f.close();
      return k;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  throw new Error('no free 172.31.<k>.0/24 for the cluster bridge');
}

async function saveState(s: ClusterState): Promise<void> {
  await writeFile(join(s.dir, 'cluster.json'), `${JSON.stringify(s, null, 2)}\n`);
}

export async function readState(name: string): Promise<ClusterState | undefined> {
  try {
    return JSON.parse(await readFile(join(clusterDir(name), 'cluster.json'), 'utf8')) as ClusterState;
  } catch {
    return undefined;
  }
}

/** Start a node's process detached, inside its network and mount namespaces; returns its PID. */
async function startDetached(n: ClusterNode, args: string[]): Promise<number> {
  const fd = openSync(n.log, 'a');
  try {
    // nsenter and bin/skiff both exec, so the PID is the skiff process itself.
    const child = spawn(
      'nsenter',
      [`--mount=${n.mountNs}`, `--net=/run/netns/${n.netns}`, '--', SKIFF, ...args],
      {
        detached: true,
        stdio: ['ignore', fd, fd],
      },
    );
    child.unref();
    // After 'spawn' the child has exec'd (until then /proc/PID/cmdline is still ours).
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    if (!child.pid) throw new Error(`could not start node ${n.name}`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, ms: number, logFile?: string) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) {
      const tail = logFile ? (await readFile(logFile, 'utf8').catch(() => '')).slice(-2000) : '';
      throw new Error(`timed out waiting for ${what}${tail ? `; log:\n${tail}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Is `pid` still the process we started (its command line names `mark`, its data dir)? */
function alive(pid: number | undefined, mark: string): boolean {
  if (!pid) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat[stat.lastIndexOf(')') + 2] === 'Z') return false; // the state follows "(comm) "
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    // Just after spawn the child may not have exec'd yet and still shows our own command line,
    // and while it execs (ip netns exec, unshare, bin/skiff, node) its command line reads empty.
    return cmdline === '' || cmdline.includes(mark) || cmdline === readFileSync('/proc/self/cmdline', 'utf8');
  } catch {
    return false;
  }
}

/** Create the cluster; on failure everything made so far is removed again. */
export async function createCluster(o: CreateOptions): Promise<ClusterState> {
  const log = o.log ?? (() => {});
  if (!NAME.test(o.name)) throw new Error(`cluster name: 1-10 characters of [a-z0-9-], got "${o.name}"`);
  if (!Number.isInteger(o.nodes) || o.nodes < 1 || o.nodes > 50) throw new Error('--nodes: 1 to 50');
  const dir = clusterDir(o.name);
  await mkdir(CLUSTERS_DIR, { recursive: true });
  try {
    await mkdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`cluster ${o.name} exists (${dir})`);
    throw e;
  }
  const subnet = await claimSubnet(o.name).catch(async (e) => {
    await rm(dir, { recursive: true, force: true });
    throw e;
  });
  const prefix = `172.31.${subnet}`;
  const state: ClusterState = {
    name: o.name,
    dir,
    bridge: `sk-${o.name}`,
    subnet,
    hostIP: `${prefix}.1`,
    serverUrl: `https://${prefix}.2:6443`,
    kubeconfig: join(dir, 'kubeconfig'),
    iptables: [],
    nodes: [],
  };
  try {
    await saveState(state);
    // Mount namespaces are bound to files under ns/, which must sit on a private mount.
    const nsDir = join(dir, 'ns');
    await mkdir(nsDir);
    await sh('mount', ['--bind', nsDir, nsDir]);
    await sh('mount', ['--make-private', nsDir]);
    await sh('ip', ['link', 'add', state.bridge, 'type', 'bridge']);
    await sh('ip', ['addr', 'add', `${state.hostIP}/24`, 'dev', state.bridge]);
    await sh('ip', ['link', 'set', state.bridge, 'up']);
    // Bridged traffic passes the host's FORWARD chain when br_netfilter is on; let ours through.
    for (const dirFlag of ['-i', '-o']) {
      const rule = [
        'FORWARD',
        dirFlag,
        state.bridge,
        '-m',
        'comment',
        '--comment',
        `skiff-cluster-${o.name}`,
        '-j',
        'ACCEPT',
      ];
      await sh('iptables', ['-I', ...rule]);
      state.iptables.push(rule);
    }
    await saveState(state);
    for (let i = 1; i <= o.nodes; i++) {
      const n: ClusterNode = {
        index: i,
        name: `${o.name}-${i}`,
        netns: `skiff-${o.name}-${i}`,
        veth: `s${o.name}-${i}`,
        ip: `${prefix}.${i + 1}`,
        dataDir: join(dir, `node-${i}`),
        log: join(dir, `node-${i}.log`),
        mountNs: join(nsDir, `mnt-${i}`),
        podCIDR: o.podCIDRs === 'ipam' ? undefined : `10.42.${i - 1}.0/24`,
      };
      state.nodes.push(n);
      await saveState(state);
      await sh('ip', ['netns', 'add', n.netns]);
      await sh('ip', ['link', 'add', n.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', n.netns]);
      await sh('ip', ['link', 'set', n.veth, 'master', state.bridge, 'up']);
      const inNs = (...a: string[]) => sh('ip', ['netns', 'exec', n.netns, ...a]);
      await inNs('ip', 'link', 'set', 'lo', 'up');
      await inNs('ip', 'addr', 'add', `${n.ip}/24`, 'dev', 'eth0');
      await inNs('ip', 'link', 'set', 'eth0', 'up');
      await inNs('ip', 'route', 'add', 'default', 'via', state.hostIP);
      await inNs('sysctl', '-qw', 'net.ipv4.ip_forward=1');
      await writeFile(n.mountNs, '');
      await sh('unshare', [`--mount=${n.mountNs}`, '--propagation', 'private', 'true']);
      await mkdir(n.dataDir, { recursive: true });
    }
    const [first, ...rest] = state.nodes;
    // The server's certificate names node 1's address, for kubectl on the host and pulls on every node.
    await ensurePki(first.dataDir, { sans: [first.ip] });
    log(`starting ${first.name} (server) at ${first.ip}`);
    first.pid = await startDetached(first, [
      'server',
      ...['--data-dir', first.dataDir, '--bind', first.ip, '--node-name', first.name],
      ...['--pod-cidr', first.podCIDR ?? '10.42.0.0/24', '--cni-bridge', 'skiff0'],
    ]);
    await saveState(state);
    // The join token names the cluster CA's hash, so agents trust only this server.
    const tokenFile = join(first.dataDir, 'join-token');
    await waitFor(
      `the server of ${first.name}`,
      async () => {
        if (!alive(first.pid, first.dataDir))
          throw new Error(
            `server exited: ${(await readFile(first.log, 'utf8').catch(() => '')).slice(-2000)}`,
          );
        return existsSync(tokenFile) && /kubeconfig: /.test(await readFile(first.log, 'utf8'));
      },
      90_000,
      first.log,
    );
    const token = (await readFile(tokenFile, 'utf8')).trim();
    for (const n of rest) {
      log(`starting ${n.name} (agent) at ${n.ip}`);
      n.pid = await startDetached(n, [
        'agent',
        ...['--server', state.serverUrl, '--token', token, '--data-dir', n.dataDir],
        ...['--node-name', n.name, '--node-ip', n.ip, '--cni-bridge', 'skiff0'],
        ...(n.podCIDR ? ['--pod-cidr', n.podCIDR] : []),
      ]);
      await saveState(state);
    }
    for (const n of rest)
      await waitFor(
        `agent ${n.name}`,
        async () => {
          if (!alive(n.pid, n.dataDir))
            throw new Error(
              `agent ${n.name} exited: ${(await readFile(n.log, 'utf8').catch(() => '')).slice(-2000)}`,
            );
          return /joined/.test(await readFile(n.log, 'utf8'));
        },
        90_000,
        n.log,
      );
    const kc = await readFile(join(first.dataDir, 'kubeconfig'), 'utf8');
    await writeFile(
      state.kubeconfig,
      kc
        .replace(/server: \S+/, `server: ${state.serverUrl}`)
        .replaceAll(/name: skiff\b/g, `name: skiff-${o.name}`)
        .replace(/(cluster|current-context): skiff\b/g, `$1: skiff-${o.name}`),
      { mode: 0o600 },
    );
    await saveState(state);
    return state;
  } catch (e) {
    await deleteCluster(o.name).catch(() => {});
    throw e;
  }
}

/** PIDs of every process in the mount namespace bound at `nsFile`. */
async function processesInMountNs(nsFile: string): Promise<number[]> {
  let ino: number;
  try {
    ino = statSync(nsFile).ino;
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const p of await readdir('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    const link = await readlink(`/proc/${p}/ns/mnt`).catch(() => '');
    if (link === `mnt:[${ino}]`) pids.push(Number(p));
  }
  return pids;
}

async function stopPid(pid: number | undefined, mark: string): Promise<void> {
  if (!alive(pid, mark)) return;
  process.kill(pid!, 'SIGTERM');
  const deadline = Date.now() + 15_000;
  while (alive(pid, mark) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  if (alive(pid, mark)) process.kill(pid!, 'SIGKILL');
}

/** Remove every process, pod, namespace, link, rule, mount and file the cluster made. */
export async function deleteCluster(name: string, log: (m: string) => void = () => {}): Promise<void> {
  if (!NAME.test(name)) throw new Error(`not a cluster name: ${name}`);
  const state = await readState(name);
  const dir = clusterDir(name);
  if (!state) {
    if (!existsSync(dir)) throw new Error(`no cluster ${name}`);
  } else {
    const nodes = [...state.nodes].reverse(); // agents before the server
    await Promise.all(nodes.map((n) => stopPid(n.pid, n.dataDir)));
    for (const n of nodes) {
      if (existsSync(n.mountNs) && existsSync(`/run/netns/${n.netns}`)) {
        log(`killall on ${n.name}`);
        await quiet('nsenter', [
          `--mount=${n.mountNs}`,
          `--net=/run/netns/${n.netns}`,
          '--',
          SKIFF,
          'killall',
          ...['--data-dir', n.dataDir, '--cni-bridge', 'skiff0', '--pod-cidr', n.podCIDR ?? '10.42.0.0/16'],
        ]);
      }
      // Whatever still lives in the node's mount namespace (conmon, a container that would not stop).
      for (const pid of await processesInMountNs(n.mountNs)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
      }
      await quiet('umount', [n.mountNs]);
      await quiet('ip', ['netns', 'del', n.netns]);
      await quiet('ip', ['link', 'del', n.veth]);
    }
    await quiet('ip', ['link', 'del', state.bridge]);
    for (const rule of state.iptables) await quiet('iptables', ['-D', ...rule]);
    await quiet('umount', [join(dir, 'ns')]);
    const claim = join(SUBNETS_DIR, String(state.subnet));
    if ((await readFile(claim, 'utf8').catch(() => '')) === name) await rm(claim, { force: true });
  }
  // Mounts the runtime left under the node data dirs (deepest first), then the files.
  const mounts = (await readFile('/proc/mounts', 'utf8'))
    .split('\n')
    .map((l) => l.split(' ')[1])
    .filter((m) => m && (m === dir || m.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) await quiet('umount', ['-l', m]);
  await rm(dir, { recursive: true, force: true });
}

export interface ClusterSummary {
  name: string;
  nodes: number;
  server: string;
  kubeconfig: string;
  running: number;
}

export async function listClusters(): Promise<ClusterSummary[]> {
  const names = await readdir(CLUSTERS_DIR).catch(() => [] as string[]);
  const out: ClusterSummary[] = [];
  for (const name of names.sort()) {
    if (!NAME.test(name)) continue;
    const s = await readState(name);
    if (!s) continue;
    out.push({
      name,
      nodes: s.nodes.length,
      server: s.serverUrl,
      kubeconfig: s.kubeconfig,
      running: s.nodes.filter((n) => alive(n.pid, n.dataDir)).length,
    });
  }
  return out;
}
