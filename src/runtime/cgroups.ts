import fs from 'node:fs';
import path from 'node:path';

const CGROUP_ROOT = '/sys/fs/cgroup';

/** The roots of every hierarchy a cgroup may exist in (cgroup v1 controllers, named and unified). */
export function cgroupRoots(): string[] {
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(CGROUP_ROOT);
  } catch {}
  const out = new Set<string>();
  for (const e of entries) {
    const full = path.join(CGROUP_ROOT, e);
    try {
      if (fs.lstatSync(full).isSymbolicLink()) continue;
      if (fs.existsSync(path.join(full, 'cgroup.procs'))) out.add(full);
    } catch {}
  }
  if (fs.existsSync(path.join(CGROUP_ROOT, 'cgroup.procs'))) out.add(CGROUP_ROOT);
  return [...out];
}

/** Where a cgroup path lives in every hierarchy. */
export function cgroupDirs(cgroupPath: string, roots = cgroupRoots()): string[] {
  return roots.map((r) => path.join(r, cgroupPath));
}

/** Removes a cgroup (and empty children) from every hierarchy; a missing one is fine. */
export function removeCgroup(cgroupPath: string, roots = cgroupRoots()): void {
  for (const dir of cgroupDirs(cgroupPath, roots)) rmdirTree(dir);
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
