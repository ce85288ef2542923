/**
 * Test helpers for Skiff's runtime: a runtime in a temporary directory with the busybox test
 * image imported, and a teardown that removes everything it could have left behind (runc
 * containers, monitors, mounts, cgroups, files) even when a test failed half-way.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { removeCgroup } from './cgroups.ts';
import { execCommand } from './exec.ts';
import { type RuntimeHandle, startRuntime } from './index.ts';
import type { PodNetwork } from './network.ts';
import type { SandboxRecord } from './state.ts';
import { buildTestImage, type TestImage } from './testimage.ts';

export interface TestRuntime {
  dir: string;
  root: string;
  stateDir: string;
  socket: string;
  endpoint: string;
  image: TestImage;
  handle: RuntimeHandle;
  /** restarts the gRPC server over the same directories */
  restart(): Promise<void>;
  /** stops the server and removes every trace */
  destroy(): Promise<void>;
}

export async function startTestRuntime(opts: { network?: PodNetwork } = {}): Promise<TestRuntime> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-rt-'));
  const root = path.join(dir, 'root');
  const stateDir = path.join(dir, 'state');
  const socket = path.join(dir, 'cri.sock');
  const image = await buildTestImage(dir);
  let handle = await startRuntime({ root, stateDir, socket, network: opts.network });
  await handle.images.importArchive(image.dockerArchive);
  const rt: TestRuntime = {
    dir,
    root,
    stateDir,
    socket,
    endpoint: `unix://${socket}`,
    image,
    get handle() {
      return handle;
    },
    async restart() {
      await handle.close();
      handle = await startRuntime({ root, stateDir, socket, network: opts.network });
    },
    async destroy() {
      await handle.close().catch(() => {});
      await destroyRuntimeState(dir, stateDir);
    },
  };
  return rt;
}

/** Kills and deletes runc containers, unmounts, removes cgroups and the directory. */
export async function destroyRuntimeState(dir: string, stateDir: string): Promise<void> {
  const runcRoot = path.join(stateDir, 'runc');
  const list = await execCommand('runc', ['--root', runcRoot, 'list', '-q']).catch(() => undefined);
  for (const id of list?.stdout.toString().split('\n').filter(Boolean) ?? []) {
    await execCommand('runc', ['--root', runcRoot, 'kill', id, 'KILL']);
    await execCommand('runc', ['--root', runcRoot, 'delete', '--force', id]);
  }
  const containersDir = path.join(stateDir, 'containers');
  for (const id of fs.existsSync(containersDir) ? fs.readdirSync(containersDir) : []) {
    try {
      const pid = Number(fs.readFileSync(path.join(containersDir, id, 'conmon.pid'), 'utf8'));
      if (pid) process.kill(pid, 'SIGKILL');
    } catch {}
    try {
      const rec = JSON.parse(fs.readFileSync(path.join(containersDir, id, 'container.json'), 'utf8'));
      removeCgroup(rec.cgroupsPath);
    } catch {}
  }
  const sandboxesDir = path.join(stateDir, 'sandboxes');
  for (const id of fs.existsSync(sandboxesDir) ? fs.readdirSync(sandboxesDir) : []) {
    try {
      const rec = JSON.parse(
        fs.readFileSync(path.join(sandboxesDir, id, 'sandbox.json'), 'utf8'),
      ) as SandboxRecord;
      if (rec.ownCgroup) removeCgroup(rec.cgroupParent);
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
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Mount points under a directory (to assert nothing is left). */
export function mountsUnder(dir: string): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m) => m && (m === dir || m.startsWith(`${dir}/`)));
}
