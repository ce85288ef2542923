/**
 * A `skiff cluster create` cluster for the multi-node end-to-end tests: a random name, a work
 * dir, kubectl against its kubeconfig, and `deleteAndCheck()`, which deletes it and asserts that
 * nothing with its name is left on the machine. `t.after` deletes it if the test did not.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';
import { buildTestImage } from '../../src/runtime/index.ts';
import { until } from '../e2e/skiff.ts';
import { kubectlOutput } from '../support/kubectl.ts';

export const run = promisify(execFile);
const NODE = new URL('../../node_modules/.bin/node', import.meta.url).pathname;
export const SKIFF = new URL('../../bin/skiff', import.meta.url).pathname;
const CLUSTER_CLI = new URL('./skiff-cluster.ts', import.meta.url).pathname;

/** `skiff cluster ...` */
export const cluster = (...args: string[]) => run(NODE, [CLUSTER_CLI, ...args], { timeout: 150_000 });

export interface TestCluster {
  name: string;
  /** A temp dir of the test's own, removed afterwards. */
  work: string;
  kubeconfig: string;
  /** The environment for commands that use the cluster (KUBECONFIG). */
  env: NodeJS.ProcessEnv;
  /** kubectl's stdout; a non-zero exit throws. */
  kubectl(...args: string[]): Promise<string>;
  /** Waits up to a minute for `count` Ready nodes; answers all the Node objects. */
  readyNodes(count: number): Promise<any[]>;
  /** Builds the busybox test image and imports it with `skiff image import`; answers its output. */
  importTestImage(): Promise<string>;
  /** `cluster delete`, then asserts that nothing with the cluster's name is left. */
  deleteAndCheck(): Promise<void>;
}

/** Creates a cluster of `nodes` nodes named `<prefix><6 hex digits>`. */
export async function createTestCluster(t: TestContext, prefix: string, nodes: number): Promise<TestCluster> {
  if (process.getuid?.() !== 0) throw new Error('skiff cluster needs root (network and mount namespaces)');
  const name = `${prefix}${Math.floor(Math.random() * 0xffffff)
    .toString(16)
    .padStart(6, '0')}`;
  const work = await mkdtemp(join(tmpdir(), `skiff-cluster-${name}-`));
  let deleted = false;
  t.after(async () => {
    if (!deleted) await cluster('delete', name).catch((e) => process.stderr.write(`delete: ${e.message}\n`));
    await rm(work, { recursive: true, force: true });
  });

  const created = await cluster('create', '--name', name, '--nodes', String(nodes));
  const kubeconfig = /kubeconfig: (\S+)/.exec(created.stdout)?.[1];
  assert.ok(kubeconfig, created.stdout);
  const env = { ...process.env, KUBECONFIG: kubeconfig };
  const kubectl = (...args: string[]) => kubectlOutput(kubeconfig, args);
  return {
    name,
    work,
    kubeconfig,
    env,
    kubectl,
    readyNodes: (count) =>
      until(
        `${count} Ready nodes`,
        async () => {
          const items = JSON.parse(await kubectl('get', 'nodes', '-o', 'json')).items as any[];
          const ready = items.filter((n) =>
            n.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'),
          );
          return ready.length === count && items;
        },
        60_000,
      ),
    async importTestImage() {
      const image = await buildTestImage(work);
      return (await run(SKIFF, ['image', 'import', image.dockerArchive], { env, timeout: 120_000 })).stdout;
    },
    async deleteAndCheck() {
      await cluster('delete', name);
      deleted = true;
      assert.deepEqual(await traces(name), {
        netns: [],
        links: [],
        mounts: [],
        iptables: [],
        nftables: [],
        processes: [],
      });
      assert.equal(existsSync(`/var/lib/skiff-clusters/${name}`), false);
    },
  };
}

/** Everything on this machine that carries the cluster's name. */
async function traces(name: string): Promise<Record<string, string[]>> {
  const sh = async (cmd: string, args: string[]) => (await run(cmd, args)).stdout.split('\n');
  const procs: string[] = [];
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes(`/skiff-clusters/${name}`)) procs.push(`${pid}: ${cmd.replaceAll('\0', ' ')}`);
  }
  return {
    netns: (await sh('ip', ['netns', 'list'])).filter((l) => l.includes(name)),
    links: (await sh('ip', ['-o', 'link'])).filter((l) => l.includes(name)),
    mounts: (await readFile('/proc/mounts', 'utf8')).split('\n').filter((l) => l.includes(name)),
    iptables: (await sh('iptables', ['-S'])).filter((l) => l.includes(name)),
    // Other tests may add host tables meanwhile; the nodes' own tables live in their namespaces.
    nftables: (await sh('nft', ['list', 'tables'])).filter((l) => l.includes(name)),
    processes: procs,
  };
}
