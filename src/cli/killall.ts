/**
 * `skiff killall [--data-dir DIR] [--cni-bridge NAME]`: stop every pod a node of this data dir
 * runs and remove what it made (containers, sandboxes and their network namespaces, mounts,
 * IP allocations, the CNI bridge), like k3s-killall.sh. Containers outlive `skiff server`
 * on purpose (a restarted node adopts them); this is how to make them go.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { criClient } from '../cri/index.ts';
import { cniNetwork, defaultConflist } from '../network/cni/index.ts';
import { startRuntime } from '../runtime/index.ts';
import { nodePaths } from './node.ts';

const run = promisify(execFile);

export interface KillallOptions {
  dataDir: string;
  bridge: string;
  podCIDR: string;
}

/** Removes every sandbox and container of the node at `dataDir`; returns how many sandboxes went. */
export async function killall(o: KillallOptions): Promise<number> {
  const paths = nodePaths(o.dataDir);
  let removed = 0;
  if (existsSync(paths.runtimeState)) {
    // A runtime over the same state dirs: it reads its sandboxes and containers from disk.
    const socket = join(paths.runtimeState, `killall-${process.pid}.sock`);
    const network = cniNetwork({
      conflist: defaultConflist({
        name: 'skiff',
        bridge: o.bridge,
        podCIDR: o.podCIDR,
        dataDir: join(paths.cniDir, 'ipam'),
      }),
      binDirs: ['/usr/lib/cni', '/opt/cni/bin'],
      cacheDir: join(paths.cniDir, 'cache'),
    });
    const rt = await startRuntime({ root: paths.runtimeRoot, stateDir: paths.runtimeState, socket, network });
    const cri = criClient(`unix://${socket}`);
    try {
      for (const c of (await cri.listContainers({})).containers ?? []) {
        await cri.stopContainer({ containerId: c.id, timeout: 0 }).catch(() => {});
        await cri.removeContainer({ containerId: c.id }).catch(() => {});
      }
      for (const s of (await cri.listPodSandbox({})).items ?? []) {
        await cri.stopPodSandbox({ podSandboxId: s.id }).catch(() => {});
        await cri.removePodSandbox({ podSandboxId: s.id }).catch(() => {});
        removed++;
      }
    } finally {
      cri.close();
      await rt.close();
    }
  }
  await run('ip', ['link', 'delete', o.bridge]).catch(() => {});
  // The node's Service proxy and NetworkPolicy tables are named after its network id (the bridge).
  for (const table of [`skiff-${o.bridge}`, `skiff-${o.bridge}-policy`])
    await run('nft', ['delete', 'table', 'ip', table]).catch(() => {});
  return removed;
}

export async function killallCommand(args: string[]): Promise<number> {
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      options: {
        'data-dir': { type: 'string', default: '/var/lib/skiff' },
        'cni-bridge': { type: 'string', default: 'skiff0' },
        'pod-cidr': { type: 'string', default: '10.42.0.0/24' },
      },
    }) as { values: Record<string, string | undefined> });
  } catch (e) {
    process.stderr.write(`skiff killall: ${(e as Error).message}\n`);
    return 2;
  }
  const n = await killall({
    dataDir: values['data-dir']!,
    bridge: values['cni-bridge']!,
    podCIDR: values['pod-cidr']!,
  });
  process.stdout.write(`skiff killall: removed ${n} pod sandbox(es)\n`);
  return 0;
}
