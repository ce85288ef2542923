/**
 * Pod volumes on the node. Each volume is a directory under the pod's directory
 * (`<dataDir>/pods/<uid>/volumes/<name>`), except hostPath which is the host's own path:
 *
 * - emptyDir: an empty directory; `medium: Memory` mounts a tmpfs there (sizeLimit honoured).
 * - configMap, secret, downwardAPI, projected: files written from the API objects, with
 *   items (key → path), modes and `optional`; rewritten when their content changes.
 * - hostPath: the path itself; `DirectoryOrCreate` / `FileOrCreate` create it.
 *
 * Containers get them as CRI mounts (`mountsFor`), with subPath and readOnly.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Mount } from '../cri/index.ts';
import { ConfigError, type ObjectGetter, objectData, podFieldValue } from './env.ts';
import { parseQuantity, resourceFieldValue } from './resources.ts';

const run = promisify(execFile);
type Json = Record<string, any>;

export interface VolumeContext {
  pod: Json;
  podDir: string;
  podIPs: string[];
  hostIP: string;
  node: { cpu: number; memory: number };
  get: ObjectGetter;
}

function mountPoints(): Set<string> {
  return new Set(
    fs
      .readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4])
      .filter(Boolean),
  );
}

interface FileEntry {
  path: string;
  content: Buffer;
  mode: number;
}

/** Writes `files` under `dir`, replacing what differs and removing files no longer there. */
function syncFiles(dir: string, files: FileEntry[]): void {
  fs.mkdirSync(dir, { recursive: true });
  const want = new Set<string>();
  for (const f of files) {
    const rel = path.normalize(f.path);
    if (rel.startsWith('..') || path.isAbsolute(rel))
      throw new ConfigError(`invalid volume item path ${f.path}`);
    const p = path.join(dir, rel);
    want.add(p);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    let same = false;
    try {
      same = fs.readFileSync(p).equals(f.content) && (fs.statSync(p).mode & 0o7777) === f.mode;
    } catch {}
    if (same) continue;
    const tmp = `${p}.skiff-tmp`;
    fs.writeFileSync(tmp, f.content, { mode: f.mode });
    fs.chmodSync(tmp, f.mode);
    fs.renameSync(tmp, p);
  }
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (!want.has(p)) fs.rmSync(p, { force: true });
    }
  };
  walk(dir);
}

async function keyedFiles(
  ctx: VolumeContext,
  kind: 'configmaps' | 'secrets',
  src: Json,
  defaultMode: number,
): Promise<FileEntry[]> {
  const name = src.name ?? src.secretName ?? '';
  const obj = await ctx.get(kind, ctx.pod.metadata.namespace, name);
  if (!obj) {
    if (src.optional) return [];
    throw new ConfigError(`${kind === 'secrets' ? 'secret' : 'configmap'} "${name}" not found`);
  }
  const data = objectData(kind, obj);
  const raw = (k: string) =>
    kind === 'secrets' && obj.data?.[k] !== undefined
      ? Buffer.from(obj.data[k], 'base64')
      : Buffer.from(data.get(k) ?? '', 'utf8');
  if (src.items?.length) {
    const out: FileEntry[] = [];
    for (const it of src.items) {
      if (!data.has(it.key)) {
        if (src.optional) continue;
        throw new ConfigError(`configmap/secret "${name}" has no key ${it.key}`);
      }
      out.push({ path: it.path, content: raw(it.key), mode: it.mode ?? defaultMode });
    }
    return out;
  }
  return [...data.keys()].map((k) => ({ path: k, content: raw(k), mode: defaultMode }));
}

function downwardFiles(ctx: VolumeContext, items: Json[], defaultMode: number): FileEntry[] {
  return (items ?? []).map((it) => {
    let value: string;
    if (it.fieldRef) value = podFieldValue(ctx.pod, it.fieldRef.fieldPath, ctx);
    else {
      const c = [...ctx.pod.spec.containers, ...(ctx.pod.spec.initContainers ?? [])].find(
        (x: Json) => x.name === it.resourceFieldRef.containerName,
      );
      value = resourceFieldValue(c, it.resourceFieldRef, ctx.node);
    }
    return { path: it.path, content: Buffer.from(value), mode: it.mode ?? defaultMode };
  });
}

/** Where a volume lives for this pod. */
export function volumePath(podDir: string, vol: Json): string {
  if (vol.hostPath) return vol.hostPath.path;
  return path.join(podDir, 'volumes', vol.name);
}

/** Creates or refreshes every volume of the pod; throws ConfigError for a missing source. */
export async function prepareVolumes(ctx: VolumeContext): Promise<void> {
  // read only when a memory emptyDir needs it: mountinfo grows with every pod on the node
  let mounted: Set<string> | undefined;
  const isMounted = (dir: string) => {
    mounted ??= mountPoints();
    return mounted.has(dir);
  };
  for (const vol of ctx.pod.spec.volumes ?? []) {
    const dir = volumePath(ctx.podDir, vol);
    if (vol.hostPath) {
      const type = vol.hostPath.type ?? '';
      if (type === 'DirectoryOrCreate') fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
      else if (type === 'FileOrCreate' && !fs.existsSync(dir)) {
        fs.mkdirSync(path.dirname(dir), { recursive: true });
        fs.writeFileSync(dir, '', { mode: 0o644 });
      } else if (type && !fs.existsSync(dir)) throw new ConfigError(`hostPath ${dir} does not exist`);
    } else if (vol.configMap) {
      syncFiles(dir, await keyedFiles(ctx, 'configmaps', vol.configMap, vol.configMap.defaultMode ?? 0o644));
    } else if (vol.secret) {
      syncFiles(dir, await keyedFiles(ctx, 'secrets', vol.secret, vol.secret.defaultMode ?? 0o644));
    } else if (vol.downwardAPI) {
      syncFiles(dir, downwardFiles(ctx, vol.downwardAPI.items, vol.downwardAPI.defaultMode ?? 0o644));
    } else if (vol.projected) {
      const mode = vol.projected.defaultMode ?? 0o644;
      const files: FileEntry[] = [];
      for (const s of vol.projected.sources ?? []) {
        if (s.configMap) files.push(...(await keyedFiles(ctx, 'configmaps', s.configMap, mode)));
        else if (s.secret) files.push(...(await keyedFiles(ctx, 'secrets', s.secret, mode)));
        else if (s.downwardAPI) files.push(...downwardFiles(ctx, s.downwardAPI.items, mode));
      }
      syncFiles(dir, files);
    } else {
      // emptyDir, and kinds Skiff has no driver for yet, are empty directories
      fs.mkdirSync(dir, { recursive: true, mode: 0o777 });
      fs.chmodSync(dir, 0o777);
      if (vol.emptyDir?.medium === 'Memory' && !isMounted(dir)) {
        const size = parseQuantity(vol.emptyDir.sizeLimit);
        const opts = size > 0 ? `size=${Math.floor(size)},mode=1777` : 'mode=1777';
        await run('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', dir]);
      }
    }
  }
}

/** CRI mounts for a container's volumeMounts. */
export function mountsFor(pod: Json, podDir: string, container: Json): Mount[] {
  const vols = new Map<string, Json>((pod.spec.volumes ?? []).map((v: Json) => [v.name, v]));
  const out: Mount[] = [];
  for (const vm of container.volumeMounts ?? []) {
    const vol = vols.get(vm.name);
    if (!vol) throw new ConfigError(`volume ${vm.name} is not defined in the pod`);
    let hostPath = volumePath(podDir, vol);
    if (vm.subPath) {
      const sub = path.normalize(vm.subPath);
      if (sub.startsWith('..') || path.isAbsolute(sub))
        throw new ConfigError(`invalid subPath ${vm.subPath}`);
      hostPath = path.join(hostPath, sub);
      if (!fs.existsSync(hostPath)) fs.mkdirSync(hostPath, { recursive: true });
    }
    out.push({
      containerPath: vm.mountPath,
      hostPath,
      readonly: !!vm.readOnly || !!vol.configMap || !!vol.secret || !!vol.downwardAPI || !!vol.projected,
      propagation:
        vm.mountPropagation === 'Bidirectional'
          ? 'PROPAGATION_BIDIRECTIONAL'
          : vm.mountPropagation === 'HostToContainer'
            ? 'PROPAGATION_HOST_TO_CONTAINER'
            : 'PROPAGATION_PRIVATE',
    });
  }
  return out;
}

/** Whether a volume directory of the pod lies on another device (a memory emptyDir's tmpfs). */
function anyVolumeMounted(podDir: string): boolean {
  const dir = path.join(podDir, 'volumes');
  let dev: number;
  let names: string[];
  try {
    dev = fs.statSync(dir).dev;
    names = fs.readdirSync(dir);
  } catch {
    return false; // no volumes directory: nothing mounted there
  }
  return names.some((name) => {
    try {
      return fs.statSync(path.join(dir, name)).dev !== dev;
    } catch {
      return true; // cannot tell: look it up
    }
  });
}

/** Unmounts what is mounted under the pod dir and removes it. */
export async function removePodDir(podDir: string): Promise<void> {
  // Skiff mounts only at volumes/<name>; mountinfo (large with many pods) is read only then
  const points = anyVolumeMounted(podDir)
    ? [...mountPoints()]
        .filter((m) => m === podDir || m.startsWith(`${podDir}/`))
        .sort((a, b) => b.length - a.length)
    : [];
  for (const m of points) {
    try {
      await run('umount', [m]);
    } catch {
      await run('umount', ['-l', m]).catch(() => {});
    }
  }
  fs.rmSync(podDir, { recursive: true, force: true });
}
