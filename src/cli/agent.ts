/**
 * `skiff agent`: a node that joins a running server.
 *
 *   skiff agent --server https://10.0.0.1:6443 --token T [--data-dir DIR] [--node-name NAME]
 *               [--pod-cidr CIDR] [--cni-bridge NAME] [--container-runtime-endpoint URL]
 *               [--node-ip ADDRESS] [--kubelet-port N]
 *   skiff agent --kubeconfig FILE ...
 *
 * Without --pod-cidr the node waits for the server's node IPAM controller to give it one.
 * --node-ip is the node's InternalIP, where the kubelet listens (default: the first non-loopback
 * IPv4 address, kubelet on 127.0.0.1). Pulls try the cluster registry the server publishes.
 */
import { parseArgs } from 'node:util';
import { RestClient } from '../client/index.ts';
import { findClusterRegistry } from '../registry/index.ts';
import { fetchPinnedCa, parseJoinToken } from './join-token.ts';
import { startNode } from './node.ts';

export async function agentCommand(args: string[]): Promise<number> {
  let values: Record<string, string | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      options: {
        server: { type: 'string' },
        token: { type: 'string' },
        kubeconfig: { type: 'string' },
        'data-dir': { type: 'string', default: '/var/lib/skiff-agent' },
        'node-name': { type: 'string' },
        'pod-cidr': { type: 'string' },
        'node-ip': { type: 'string' },
        'cni-bridge': { type: 'string', default: 'skiff0' },
        'container-runtime-endpoint': { type: 'string' },
        'kubelet-port': { type: 'string', default: '10250' },
      },
    }) as { values: Record<string, string | undefined> });
  } catch (e) {
    process.stderr.write(`skiff agent: ${(e as Error).message}\n`);
    return 2;
  }
  let client: RestClient;
  if (values.kubeconfig) client = await RestClient.fromKubeconfig(values.kubeconfig);
  else if (values.server && values.token) {
    // The token authenticates the node; the CA hash in it decides which server certificate to trust.
    try {
      const { caHash, bootstrapToken } = parseJoinToken(values.token);
      const ca = await fetchPinnedCa(values.server, caHash);
      client = new RestClient({ server: values.server, token: bootstrapToken, ca });
      values.token = bootstrapToken;
    } catch (e) {
      process.stderr.write(`skiff agent: ${(e as Error).message}\n`);
      return 1;
    }
  } else {
    process.stderr.write('skiff agent: give --server URL and --token T, or --kubeconfig FILE\n');
    return 2;
  }
  const stop = new AbortController();
  let node: Awaited<ReturnType<typeof startNode>>;
  try {
    const registry = await findClusterRegistry(client).catch(() => undefined);
    node = await startNode(
      {
        client,
        dataDir: values['data-dir']!,
        nodeName: values['node-name'],
        podCIDR: values['pod-cidr'],
        hostIP: values['node-ip'],
        kubeletAddress: values['node-ip'],
        mirrors: registry ? [{ url: registry.url, caPem: registry.caPem }] : undefined,
        bridge: values['cni-bridge']!,
        criEndpoint: values['container-runtime-endpoint'],
        kubeletPort: Number(values['kubelet-port']),
        // The API server presents the join token when it calls this kubelet (logs, exec).
        ...(values.token ? { kubeletAuth: { tokens: [values.token] } } : {}),
      },
      stop.signal,
    );
  } catch (e) {
    process.stderr.write(`skiff agent: ${(e as Error).message}\n`);
    client.close();
    return 1;
  }
  process.stdout.write(
    `skiff agent: node ${node.nodeName} (pod CIDR ${node.podCIDR}) joined ${values.server ?? values.kubeconfig}\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  stop.abort();
  await node.close();
  client.close();
  return 0;
}
