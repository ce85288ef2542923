import fs from 'node:fs';
import path from 'node:path';

const CGROUP_ROOT = '/sys/fs/cgroup';

/** Every hierarchy a cgroup path may exist in (cgroup v1 controllers, named and unified). */
export function cgroupDirs(cgroupPath: string): string[] {
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(CGROUP_ROOT);
  } catch {}
  const out = new Set<string>();
  for (const e of entries) {
    const full = path.join(CGROUP_ROOT, e);
    try {
      if (fs.lstatSync(full).isSymbolicLink()) continue;
      if (fs.existsSync(path.join(full, 'cgroup.procs'))) out.add(path.join(full, cgroupPath));
    } catch {}
  }
  if (fs.existsSync(path.join(CGROUP_ROOT, 'cgroup.procs'))) out.add(path.join(CGROUP_ROOT, cgroupPath));
  return [...out];
}

/** Removes a cgroup (and empty children) from every hierarchy; a missing one is fine. */
export function removeCgroup(cgroupPath: string): void {
  for (const dir of cgroupDirs(cgroupPath)) rmdirTree(dir);
}

function rmdirTree(dir: string): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) rmdirTree(path.join(dir, e.name));
  try {
    fs.rmdirSync(dir);
  } catch {}
}

/** Reads a cgroup v1 controller file (e.g. `memory`, `memory.usage_in_bytes`), undefined if absent. */
export function readCgroupFile(controller: string, cgroupPath: string, file: string): string | undefined {
  try {
    return fs.readFileSync(path.join(CGROUP_ROOT, controller, cgroupPath, file), 'utf8').trim();
  } catch {
    return undefined;
  }
}
