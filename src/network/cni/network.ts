import { existsSync } from 'node:fs';
import { readCache, removeCache, writeCache } from './cache.ts';
import { loadConfDir, loopbackConflist, selectVersion, validateConflist } from './conflist.ts';
import { CniError } from './errors.ts';
import { type CniCommand, execPlugin, findPlugin, type PluginExec } from './exec.ts';
import type {
  AttachOptions,
  CniConflist,
  CniPluginConf,
  CniResult,
  PodNetwork,
  SandboxRef,
} from './types.ts';

export interface CniNetworkOptions {
  /** The network's configuration list (validated here), or ... */
  conflist?: object;
  /** ... a directory whose lexically first `*.conflist` is the network (read on every call). */
  confDir?: string;
  /** Where plugin executables live; becomes CNI_PATH. */
  binDirs: string[];
  /** Where ADD results are kept for CHECK and DEL. */
  cacheDir: string;
  /** Interface name inside the pod; `eth0` by default. */
  ifName?: string;
  /** Per plugin run; 60 s by default. */
  timeoutMs?: number;
  /** How plugin executables are started; by default a child process of this one (`spawnPlugin`). */
  exec?: PluginExec;
  /**
   * Bring up `lo` with the loopback plugin (default true). A runtime that brings `lo` up itself as
   * it makes the namespace passes false and saves a plugin run per pod; teardown still deletes a
   * loopback attachment an earlier setUp left in the cache.
   */
  loopback?: boolean;
}

interface Attachment {
  list: CniConflist;
  containerId: string;
  netns: string;
  ifName: string;
  cniArgs: string;
  capabilityArgs: Record<string, unknown>;
}

/**
 * A pod network run by real CNI plugins. `setUp` brings up loopback with the loopback plugin
 * (unless `loopback: false`), then attaches `eth0` through the configured list; `tearDown`
 * undoes both.
 *
 *   const net = cniNetwork({ conflist: defaultConflist({...}), binDirs: ['/usr/lib/cni'], cacheDir });
 *   const { ips } = await net.setUp({ id, name, namespace, netnsPath }, { portMappings });
 */
export function cniNetwork(opts: CniNetworkOptions): PodNetwork & {
  /** The same network with plugins started by `exec` (a runtime passes its command helper). */
  withExec(exec: PluginExec, more?: Pick<CniNetworkOptions, 'loopback'>): PodNetwork;
} {
  if (!opts.conflist === !opts.confDir)
    throw new TypeError('cniNetwork: give exactly one of conflist and confDir');
  const fixed = opts.conflist ? validateConflist(opts.conflist) : undefined;
  const ifName = opts.ifName ?? 'eth0';
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const loopback = opts.loopback ?? true;
  const versions = new Map<string, Promise<string[]>>();
  /** where each plugin type was found: searching costs a syscall per directory per call */
  const located = new Map<string, Promise<string>>();

  const network = async () => fixed ?? (await loadConfDir(opts.confDir as string));

  /** Asks each plugin type once which versions it speaks. */
  function supportedVersions(type: string): Promise<string[]> {
    let p = versions.get(type);
    if (!p) {
      p = execPlugin({
        command: 'VERSION',
        type,
        binDirs: opts.binDirs,
        stdin: { cniVersion: '1.0.0' },
        timeoutMs,
        exec: opts.exec,
      }).then((r) => {
        const s = (r as { supportedVersions?: unknown })?.supportedVersions;
        return Array.isArray(s) ? (s as string[]) : [];
      });
      p.catch(() => versions.delete(type));
      versions.set(type, p);
    }
    return p;
  }

  async function version(list: CniConflist): Promise<string> {
    const supported = await Promise.all(list.plugins.map((p) => supportedVersions(p.type)));
    return selectVersion(list, supported);
  }

  /** The stdin for one plugin: its entry plus the list's name and version, runtimeConfig and prevResult. */
  function pluginConfig(
    list: CniConflist,
    plugin: CniPluginConf,
    cniVersion: string,
    capabilityArgs: Record<string, unknown>,
    prevResult: CniResult | undefined,
  ): object {
    const { capabilities, ...conf } = plugin;
    const out: Record<string, unknown> = { ...conf, name: list.name, cniVersion };
    const runtimeConfig: Record<string, unknown> = {};
    for (const [cap, on] of Object.entries(capabilities ?? {})) {
      if (on && capabilityArgs[cap] !== undefined) runtimeConfig[cap] = capabilityArgs[cap];
    }
    if (Object.keys(runtimeConfig).length > 0) out.runtimeConfig = runtimeConfig;
    else delete out.runtimeConfig;
    if (prevResult) out.prevResult = prevResult;
    return out;
  }

  async function run(
    a: Attachment,
    command: CniCommand,
    plugin: CniPluginConf,
    cniVersion: string,
    prev?: CniResult,
  ) {
    let path = located.get(plugin.type);
    if (!path) {
      path = findPlugin(plugin.type, opts.binDirs);
      located.set(plugin.type, path);
    }
    try {
      return await execPlugin({
        command,
        type: plugin.type,
        binDirs: opts.binDirs,
        path: await path,
        stdin: pluginConfig(a.list, plugin, cniVersion, a.capabilityArgs, prev),
        containerId: a.containerId,
        netns: a.netns,
        ifName: a.ifName,
        args: a.cniArgs,
        timeoutMs,
        exec: opts.exec,
      });
    } catch (e) {
      located.delete(plugin.type); // perhaps moved or removed: search again next time
      throw e;
    }
  }

  async function add(a: Attachment): Promise<CniResult> {
    const cniVersion = await version(a.list);
    let prev: CniResult | undefined;
    for (const plugin of a.list.plugins) {
      const r = await run(a, 'ADD', plugin, cniVersion, prev);
      if (!r || typeof r !== 'object') {
        throw new CniError({ plugin: plugin.type, command: 'ADD', code: 0, msg: 'printed no result' });
      }
      prev = r as CniResult;
    }
    const result = prev as CniResult;
    await writeCache(opts.cacheDir, {
      kind: 'cniCacheV1',
      containerId: a.containerId,
      networkName: a.list.name,
      ifName: a.ifName,
      cniArgs: a.cniArgs,
      capabilityArgs: a.capabilityArgs,
      config: a.list,
      result,
    });
    return result;
  }

  async function check(a: Attachment): Promise<void> {
    if (a.list.disableCheck) return;
    const cached = await readCache(opts.cacheDir, a.list.name, a.containerId, a.ifName);
    if (!cached) {
      throw new CniError({
        plugin: a.list.name,
        command: 'CHECK',
        code: 3,
        msg: `no attachment for ${a.containerId}`,
      });
    }
    const cniVersion = cached.result.cniVersion ?? (await version(a.list));
    for (const plugin of a.list.plugins) await run(a, 'CHECK', plugin, cniVersion, cached.result);
  }

  /** `onlyCached`: nothing to do when ADD left no cache entry. */
  async function del(a: Attachment, onlyCached = false): Promise<void> {
    const cached = await readCache(opts.cacheDir, a.list.name, a.containerId, a.ifName);
    if (!cached && onlyCached) return;
    // DEL undoes what ADD did: with ADD's configuration and capability arguments when we have them.
    const b: Attachment = cached
      ? { ...a, list: cached.config, capabilityArgs: { ...cached.capabilityArgs, ...a.capabilityArgs } }
      : a;
    const cniVersion = cached?.result.cniVersion ?? (await version(b.list));
    // Every plugin gets its DEL even when one fails, so one broken plugin does not leak the others'
    // resources; the first failure is reported and the cache kept so that a retry can finish.
    let failure: unknown;
    for (const plugin of [...b.list.plugins].reverse()) {
      await run(b, 'DEL', plugin, cniVersion, cached?.result).catch((e) => {
        failure ??= e;
      });
    }
    if (failure) throw failure;
    await removeCache(opts.cacheDir, a.list.name, a.containerId, a.ifName);
  }

  function attachments(sandbox: SandboxRef, list: CniConflist, o?: AttachOptions): [Attachment, Attachment] {
    if (!sandbox.id) throw new TypeError('sandbox id is required');
    const cniArgs = [
      'IgnoreUnknown=1',
      `K8S_POD_NAMESPACE=${sandbox.namespace}`,
      `K8S_POD_NAME=${sandbox.name}`,
      `K8S_POD_INFRA_CONTAINER_ID=${sandbox.id}`,
    ].join(';');
    const capabilityArgs: Record<string, unknown> = {};
    if (o?.portMappings?.length) capabilityArgs.portMappings = o.portMappings;
    const base = { containerId: sandbox.id, netns: sandbox.netnsPath, cniArgs };
    return [
      { ...base, list: loopbackConflist(), ifName: 'lo', capabilityArgs: {} },
      { ...base, list, ifName, capabilityArgs },
    ];
  }

  return {
    withExec: (exec, more) => cniNetwork({ ...opts, ...more, exec }),
    async setUp(sandbox, o) {
      const [lo, pod] = attachments(sandbox, await network(), o);
      if (loopback) await add(lo);
      let result: CniResult;
      try {
        result = await add(pod);
      } catch (e) {
        // Leave nothing half-made behind: the caller sees the ADD error, not a cleanup one.
        await del(pod).catch(() => {});
        throw e;
      }
      const ips = (result.ips ?? []).map((ip) => ip.address.split('/')[0]);
      return { ips, result };
    },
    async check(sandbox, o) {
      const [lo, pod] = attachments(sandbox, await network(), o);
      if (loopback) await check(lo);
      await check(pod);
    },
    async tearDown(sandbox, o) {
      // Once the namespace is gone, plugins still release addresses and host rules with CNI_NETNS empty.
      const netnsPath = sandbox.netnsPath && existsSync(sandbox.netnsPath) ? sandbox.netnsPath : '';
      const [lo, pod] = attachments({ ...sandbox, netnsPath }, await network(), o);
      await del(pod);
      await del(lo, !loopback);
    },
  };
}
