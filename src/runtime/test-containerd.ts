/**
 * A private containerd (Debian's 1.6, `/usr/bin/containerd`) for tests and benchmarks: the
 * alternative CRI endpoint Skiff's node agent must work with. Everything it makes lives in one
 * temporary directory (root, state, sockets, runc state, CNI config and IPAM), its pod network is
 * a test-unique bridge and /24, and the busybox test image and a pause image built from it
 * (`skiff.local/pause:1`, the sandbox image) are imported with `ctr`.
 *
 *   const cd = await startTestContainerd();
 *   const cri = criClient(cd.endpoint);          // cd.image is the busybox reference
 *   ...
 *   await cd.close();   // stops containerd and its shims by PID, unmounts, removes it all
 */

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cgroupDirs, removeCgroup } from './cgroups.ts';
import { execCommand, mustRun } from './exec.ts';
import { buildTestImage, TEST_IMAGE } from './testimage.ts';

export const PAUSE_IMAGE = 'skiff.local/pause:1';

export interface TestContainerd {
  dir: string;
  /** `unix://…` */
  endpoint: string;
  socket: string;
  /** the busybox test image, already imported */
  image: string;
  pid: number;
  /** containerd's own log (stderr) */
  logFile: string;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface TestContainerdOptions {
  /** a `registry.config_path` directory of hosts.toml files (see `containerdMirrorConfig`) */
  registryConfigDir?: string;
}

export async function startTestContainerd(opts: TestContainerdOptions = {}): Promise<TestContainerd> {
  if (!fs.existsSync('/usr/bin/containerd'))
    throw new Error('containerd is not installed (/usr/bin/containerd)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-ctd-'));
  const suffix = randomBytes(3).toString('hex');
  const bridge = `skcd${suffix}`;
  // 10.<160..223>.<0..255>.0/24: unlikely to meet another test's range.
  const subnet = `10.${160 + (randomBytes(1)[0] % 64)}.${randomBytes(1)[0]}.0/24`;
  const socket = path.join(dir, 'containerd.sock');
  const logFile = path.join(dir, 'containerd.log');
  const cniDir = path.join(dir, 'cni');
  fs.mkdirSync(cniDir);
  fs.writeFileSync(
    path.join(cniDir, '10-skiff.conflist'),
    JSON.stringify({
      cniVersion: '0.4.0',
      name: `skiff-ctd-${suffix}`,
      plugins: [
        {
          type: 'bridge',
          bridge,
          isGateway: true,
          ipam: { type: 'host-local', ranges: [[{ subnet }]], dataDir: path.join(dir, 'ipam') },
        },
      ],
    }),
  );
  const q = (s: string) => JSON.stringify(s);
  const config = `version = 2
root = ${q(path.join(dir, 'root'))}
state = ${q(path.join(dir, 'state'))}
disabled_plugins = [
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
  "io.containerd.internal.v1.opt",
]

[grpc]
  address = ${q(socket)}

[ttrpc]
  address = ${q(`${socket}.ttrpc`)}

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.grpc.v1.cri"]
  restrict_oom_score_adj = true
  sandbox_image = ${q(PAUSE_IMAGE)}
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = ${q(path.join(dir, 'runc'))}
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = ${q(cniDir)}
${opts.registryConfigDir ? `  [plugins."io.containerd.grpc.v1.cri".registry]\n    config_path = ${q(opts.registryConfigDir)}\n` : ''}`;
  const configFile = path.join(dir, 'config.toml');
  fs.writeFileSync(configFile, config);
  const log = fs.openSync(logFile, 'a');
  const child = spawn('/usr/bin/containerd', ['--config', configFile], {
    stdio: ['ignore', log, log],
    detached: true,
  });
  fs.closeSync(log);
  child.unref();
  const pid = child.pid ?? 0;
  const close = async () => {
    await stopContainerd(dir, pid, bridge);
  };
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (!alive(pid)) throw new Error(`containerd exited: ${fs.readFileSync(logFile, 'utf8').slice(-2000)}`);
      if (fs.existsSync(socket)) {
        const r = await execCommand('ctr', ['-a', socket, 'version']);
        if (r.exitCode === 0) break;
      }
      if (Date.now() > deadline) throw new Error('containerd did not come up within 30s');
      await sleep(100);
    }
    const images = path.join(dir, 'images');
    fs.mkdirSync(images);
    const busybox = await buildTestImage(images);
    const pause = await buildTestImage(images, {
      name: PAUSE_IMAGE,
      entrypoint: ['sleep', '2147483647'],
      cmd: [],
    });
    for (const img of [busybox, pause]) {
      await mustRun('ctr', ['-a', socket, '-n', 'k8s.io', 'images', 'import', img.ociTar]);
    }
    return { dir, endpoint: `unix://${socket}`, socket, image: TEST_IMAGE, pid, logFile, close };
  } catch (err) {
    await close().catch(() => {});
    throw err;
  }
}

/** Stops containerd and its shims by PID, removes containers, mounts, cgroups, the bridge and `dir`. */
async function stopContainerd(dir: string, pid: number, bridge: string): Promise<void> {
  const stateDir = path.join(dir, 'state');
  const shimPids: number[] = [];
  const cgroups: string[] = [];
  const tasks = path.join(stateDir, 'io.containerd.runtime.v2.task');
  for (const ns of fs.existsSync(tasks) ? fs.readdirSync(tasks) : []) {
    for (const id of fs.readdirSync(path.join(tasks, ns))) {
      try {
        shimPids.push(Number(fs.readFileSync(path.join(tasks, ns, id, 'shim.pid'), 'utf8')));
      } catch {}
      try {
        const spec = JSON.parse(fs.readFileSync(path.join(tasks, ns, id, 'config.json'), 'utf8'));
        if (spec.linux?.cgroupsPath) cgroups.push(spec.linux.cgroupsPath);
      } catch {}
    }
  }
  if (pid && alive(pid)) {
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
  const runcRoot = path.join(dir, 'runc');
  for (const ns of fs.existsSync(runcRoot) ? fs.readdirSync(runcRoot) : []) {
    const root = path.join(runcRoot, ns);
    const list = await execCommand('runc', ['--root', root, 'list', '-q']);
    for (const id of list.stdout.toString().split('\n').filter(Boolean)) {
      await execCommand('runc', ['--root', root, 'kill', id, 'KILL']);
      await execCommand('runc', ['--root', root, 'delete', '--force', id]);
    }
  }
  for (const p of shimPids) {
    if (p && alive(p)) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {}
    }
  }
  for (const c of cgroups) removeCgroup(c);
  // Parents containerd made and may share with another test's containerd: only when empty.
  for (const d of [...cgroupDirs('/k8s.io'), '/run/containerd/s', '/run/containerd']) {
    try {
      fs.rmdirSync(d);
    } catch {}
  }
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m) => m && (m === dir || m.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) {
    const r = await execCommand('umount', [m]);
    if (r.exitCode !== 0) await execCommand('umount', ['-l', m]);
  }
  await execCommand('ip', ['link', 'del', bridge]);
  fs.rmSync(dir, { recursive: true, force: true });
}
