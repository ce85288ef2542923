import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StatusError } from '../../api/errors.ts';
import type { CniConflist, CniPluginConf } from './types.ts';

const SEMVER = /^(\d+)\.(\d+)\.(\d+)$/;
const NETWORK_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function invalidConf(message: string): StatusError {
  return new StatusError('Invalid', `invalid CNI network configuration: ${message}`);
}

/** Checks a parsed conflist against the CNI 1.0.0 configuration format and returns it typed. */
export function validateConflist(raw: unknown): CniConflist {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw invalidConf('not a JSON object');
  const c = raw as Record<string, unknown>;
  if (typeof c.name !== 'string' || !NETWORK_NAME.test(c.name)) {
    throw invalidConf(`name ${JSON.stringify(c.name)} must be letters, digits, '.', '_' or '-'`);
  }
  if (typeof c.cniVersion !== 'string' || !SEMVER.test(c.cniVersion)) {
    throw invalidConf(`cniVersion ${JSON.stringify(c.cniVersion)} is not a version`);
  }
  if (c.cniVersions !== undefined) {
    if (
      !Array.isArray(c.cniVersions) ||
      c.cniVersions.some((v) => typeof v !== 'string' || !SEMVER.test(v))
    ) {
      throw invalidConf('cniVersions must be a list of versions');
    }
  }
  if (c.disableCheck !== undefined && typeof c.disableCheck !== 'boolean') {
    throw invalidConf('disableCheck must be a boolean');
  }
  if (!Array.isArray(c.plugins) || c.plugins.length === 0)
    throw invalidConf('plugins must be a non-empty list');
  c.plugins.forEach((p: unknown, i: number) => {
    if (!p || typeof p !== 'object' || Array.isArray(p)) throw invalidConf(`plugins[${i}] is not an object`);
    const q = p as Record<string, unknown>;
    if (typeof q.type !== 'string' || !/^[A-Za-z0-9._-]+$/.test(q.type)) {
      throw invalidConf(`plugins[${i}].type ${JSON.stringify(q.type)} is not a plugin name`);
    }
    if (q.capabilities !== undefined) {
      const caps = q.capabilities;
      if (!caps || typeof caps !== 'object' || Object.values(caps).some((v) => typeof v !== 'boolean')) {
        throw invalidConf(`plugins[${i}].capabilities must map names to booleans`);
      }
    }
  });
  return c as unknown as CniConflist;
}

/** Parses conflist JSON text; a `.conf` file with a single plugin is not accepted (removed in CNI 1.0.0). */
export function parseConflist(text: string, source = 'conflist'): CniConflist {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw invalidConf(`${source}: ${(e as Error).message}`);
  }
  return validateConflist(raw);
}

/**
 * Loads the network from a configuration directory the way Kubernetes runtimes do: the
 * lexically first `*.conflist` (or `*.json` holding a `plugins` list) wins.
 */
export async function loadConfDir(dir: string): Promise<CniConflist> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.conflist') || n.endsWith('.json')).sort();
  for (const n of names) {
    const text = await readFile(join(dir, n), 'utf8');
    if (n.endsWith('.json')) {
      try {
        if (!Array.isArray(JSON.parse(text).plugins)) continue;
      } catch {
        continue;
      }
    }
    return parseConflist(text, join(dir, n));
  }
  throw new StatusError('NotFound', `no CNI network configuration list in ${dir}`);
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
  return 0;
}

/**
 * The version to speak: the highest of the list's `cniVersion` and `cniVersions` that every plugin
 * reports supporting (all of them when `supported` is not known).
 */
export function selectVersion(list: CniConflist, supported?: string[][]): string {
  const candidates = [list.cniVersion, ...(list.cniVersions ?? [])].sort(compareVersions).reverse();
  const ok = candidates.find((v) => !supported || supported.every((s) => s.includes(v)));
  if (!ok) {
    throw invalidConf(
      `network ${list.name}: no version among ${candidates.join(', ')} is supported by all plugins`,
    );
  }
  return ok;
}

export interface DefaultConflistOptions {
  /** The network name. */
  name: string;
  /** The Linux bridge pods attach to, e.g. `skiff0`. */
  bridge: string;
  /** The node's pod CIDR, e.g. `10.244.1.0/24`; the bridge takes its first address as the gateway. */
  podCIDR: string;
  /** Where host-local keeps its allocations. */
  dataDir: string;
}

/**
 * Skiff's default pod network: a bridge that is the pods' gateway and masquerades their egress,
 * host-local addresses out of the node's podCIDR, and portmap for hostPorts (with SNAT so a pod
 * can reach itself through its own hostPort).
 */
export function defaultConflist(o: DefaultConflistOptions): CniConflist {
  const v6 = o.podCIDR.includes(':');
  const bridge: CniPluginConf = {
    type: 'bridge',
    bridge: o.bridge,
    isGateway: true,
    ipMasq: true,
    hairpinMode: true,
    ipam: {
      type: 'host-local',
      ranges: [[{ subnet: o.podCIDR }]],
      routes: [{ dst: v6 ? '::/0' : '0.0.0.0/0' }],
      dataDir: o.dataDir,
    },
  };
  const portmap: CniPluginConf = { type: 'portmap', capabilities: { portMappings: true }, snat: true };
  return { cniVersion: '1.0.0', name: o.name, plugins: [bridge, portmap] };
}

/** The list that brings up `lo` in a new network namespace. */
export function loopbackConflist(): CniConflist {
  return { cniVersion: '1.0.0', name: 'cni-loopback', plugins: [{ type: 'loopback' }] };
}
