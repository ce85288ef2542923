import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CniConflist, CniResult } from './types.ts';

/**
 * What ADD left behind for one attachment, kept on disk so CHECK and DEL can hand plugins the
 * result as `prevResult` (and the capability arguments they were given) even after a restart.
 */
export interface CachedAttachment {
  kind: 'cniCacheV1';
  containerId: string;
  networkName: string;
  ifName: string;
  cniArgs: string;
  capabilityArgs: Record<string, unknown>;
  config: CniConflist;
  result: CniResult;
}

function cachePath(dir: string, networkName: string, containerId: string, ifName: string): string {
  return join(dir, 'results', `${networkName}-${containerId}-${ifName}`);
}

export async function readCache(
  dir: string,
  networkName: string,
  containerId: string,
  ifName: string,
): Promise<CachedAttachment | undefined> {
  try {
    const c = JSON.parse(await readFile(cachePath(dir, networkName, containerId, ifName), 'utf8'));
    return c?.kind === 'cniCacheV1' ? (c as CachedAttachment) : undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || e instanceof SyntaxError) return undefined;
    throw e;
  }
}

export async function writeCache(dir: string, entry: CachedAttachment): Promise<void> {
  const path = cachePath(dir, entry.networkName, entry.containerId, entry.ifName);
  await mkdir(join(dir, 'results'), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await writeFile(tmp, JSON.stringify(entry), { mode: 0o600 });
  await rename(tmp, path);
}

export async function removeCache(dir: string, networkName: string, containerId: string, ifName: string) {
  await rm(cachePath(dir, networkName, containerId, ifName), { force: true });
}
