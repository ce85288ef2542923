import fs from 'node:fs';
import path from 'node:path';
import type {
  ContainerMetadata,
  ImageSpec,
  Labels,
  LinuxContainerResources,
  Mount,
  PodSandboxConfig,
  PodSandboxMetadata,
} from '../cri/index.ts';

/** A sandbox as persisted in `<stateDir>/sandboxes/<id>/sandbox.json`. */
export interface SandboxRecord {
  id: string;
  metadata: PodSandboxMetadata;
  labels: Labels;
  annotations: Labels;
  createdAt: number;
  state: 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
  ips: string[];
  config: PodSandboxConfig;
  hostNetwork: boolean;
  /** cgroup parent its containers go under; `ownCgroup` when Skiff made it */
  cgroupParent: string;
  ownCgroup: boolean;
}

/** A container as persisted in `<stateDir>/containers/<id>/container.json`. */
export interface ContainerRecord {
  id: string;
  sandboxId: string;
  metadata: ContainerMetadata;
  image: ImageSpec;
  imageRef: string;
  imageId: string;
  labels: Labels;
  annotations: Labels;
  logPath: string;
  mounts: Mount[];
  resources?: LinuxContainerResources;
  cgroupsPath: string;
  chainIds: string[];
  createdAt: number;
  startedAt?: number;
}

export function writeJson(file: string, value: unknown): void {
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(value, null, 1));
  fs.renameSync(`${file}.tmp`, file);
}

export function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Lists records stored as `<dir>/<id>/<file>`. */
export function listRecords<T>(dir: string, file: string): T[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .map((id) => readJson<T>(path.join(dir, id, file)))
    .filter((r): r is T => r !== undefined);
}

export function matchLabels(labels: Labels, selector: Labels | undefined): boolean {
  return Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
}

export const nowNs = (): number => Date.now() * 1e6;
