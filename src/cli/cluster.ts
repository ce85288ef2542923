/**
 * `skiff cluster`: multi-node clusters on this machine, each node in its own network and mount
 * namespace on a private bridge (see src/cluster/).
 *
 *   skiff cluster create [--name NAME] [--nodes N] [--node-ipam]   prints the kubeconfig path
 *   skiff cluster delete NAME
 *   skiff cluster ls
 */
import { parseArgs } from 'node:util';
import { createCluster, deleteCluster, listClusters } from '../cluster/index.ts';

const usage = `usage: skiff cluster create [--name NAME] [--nodes N] [--node-ipam]
       skiff cluster delete NAME
       skiff cluster ls
`;

export async function clusterMain(args: string[]): Promise<number> {
  const [verb, ...rest] = args;
  try {
    if (verb === 'create') {
      const { values } = parseArgs({
        args: rest,
        strict: true,
        options: {
          name: { type: 'string', default: 'skiff' },
          nodes: { type: 'string', default: '1' },
          'node-ipam': { type: 'boolean', default: false },
        },
      });
      const s = await createCluster({
        name: values.name,
        nodes: Number(values.nodes),
        podCIDRs: values['node-ipam'] ? 'ipam' : 'static',
        log: (m) => process.stderr.write(`skiff cluster: ${m}\n`),
      });
      process.stdout.write(
        `cluster ${s.name}: ${s.nodes.length} node(s), API server ${s.serverUrl}\n` +
          `kubeconfig: ${s.kubeconfig}\n  export KUBECONFIG=${s.kubeconfig}\n  kubectl get nodes\n`,
      );
      return 0;
    }
    if (verb === 'delete' && rest.length === 1) {
      await deleteCluster(rest[0], (m) => process.stderr.write(`skiff cluster: ${m}\n`));
      process.stdout.write(`cluster ${rest[0]} deleted\n`);
      return 0;
    }
    if (verb === 'ls' && rest.length === 0) {
      const rows = [['NAME', 'NODES', 'RUNNING', 'SERVER', 'KUBECONFIG']];
      for (const c of await listClusters())
        rows.push([c.name, String(c.nodes), String(c.running), c.server, c.kubeconfig]);
      const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
      for (const r of rows)
        process.stdout.write(
          `${r
            .map((c, i) => c.padEnd(widths[i]))
            .join('   ')
            .trimEnd()}\n`,
        );
      return 0;
    }
  } catch (e) {
    process.stderr.write(`skiff cluster ${verb}: ${(e as Error).message}\n`);
    return 1;
  }
  process.stderr.write(usage);
  return 2;
}
