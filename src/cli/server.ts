/**
 * `skiff server`: the control plane in one process.
 *
 *   skiff server [--data-dir DIR] [--port N] [--bind ADDRESS] [--store sqlite|etcd|memory]
 *                [--etcd-endpoints URLS] [--disable-agent]
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { builtinRegistry } from '../api/index.ts';
import type { ResourceRegistry } from '../api/resource.ts';
import { patchEngine, type RunningServer, startApiServer } from '../apiserver/index.ts';
import { runGarbageCollector } from '../controllers/garbage-collector/index.ts';
import { runNamespaceController } from '../controllers/namespace/index.ts';
import { openBackend } from '../store/index.ts';

export interface ServerFlags {
  dataDir: string;
  port: number;
  bind: string;
  store: 'sqlite' | 'etcd' | 'memory';
  etcdEndpoints: string;
  disableAgent: boolean;
}

export class UsageError extends Error {}

export function parseServerFlags(args: string[]): ServerFlags {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        'data-dir': { type: 'string', default: '/var/lib/skiff' },
        port: { type: 'string', default: '6443' },
        bind: { type: 'string', default: '0.0.0.0' },
        store: { type: 'string', default: 'sqlite' },
        'etcd-endpoints': { type: 'string', default: 'http://127.0.0.1:2379' },
        'disable-agent': { type: 'boolean', default: false },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port: not a port number: ${values.port}`);
  const store = values.store as string;
  if (!['sqlite', 'etcd', 'memory'].includes(store))
    throw new UsageError(`--store: expected sqlite, etcd or memory, got ${store}`);
  return {
    dataDir: values['data-dir'] as string,
    port,
    bind: values.bind as string,
    store: store as ServerFlags['store'],
    etcdEndpoints: values['etcd-endpoints'] as string,
    disableAgent: values['disable-agent'] as boolean,
  };
}

export function storeUrl(f: Pick<ServerFlags, 'store' | 'dataDir' | 'etcdEndpoints'>): string {
  if (f.store === 'memory') return 'memory://';
  if (f.store === 'etcd')
    return `etcd://${f.etcdEndpoints.replace(/^https?:\/\//, '').replace(/,https?:\/\//g, ',')}`;
  return `sqlite://${join(f.dataDir, 'state.db')}`;
}

/**
 * Boot, in order: the store, the resource registry, the API server (PKI, default namespaces,
 * HTTPS), the in-process controllers (garbage collector, namespace lifecycle). The scheduler,
 * the workload controllers and the node agent join here as they are written.
 */
export async function boot(
  flags: ServerFlags,
  extra: { registry?: ResourceRegistry } = {},
): Promise<RunningServer> {
  const backend = await openBackend(storeUrl(flags)); // 1. store
  try {
    const registry = extra.registry ?? builtinRegistry(); // 2. the kinds served
    const server = await startApiServer({
      // 3. API server, 4. controllers
      dataDir: flags.dataDir,
      port: flags.port,
      bind: flags.bind,
      backend,
      registry,
      patch: patchEngine,
      controllers: [runGarbageCollector, runNamespaceController],
    });
    // 5. node agent: not written yet; --disable-agent is accepted and is what happens either way.
    return {
      ...server,
      async close() {
        await server.close();
        await backend.close();
      },
    };
  } catch (e) {
    await backend.close();
    throw e;
  }
}

export async function serverCommand(args: string[]): Promise<number> {
  let flags: ServerFlags;
  try {
    flags = parseServerFlags(args);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`skiff server: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const server = await boot(flags);
  if (!flags.disableAgent)
    process.stdout.write('note: the node agent is not part of Skiff yet; running the control plane only\n');
  process.stdout.write(
    `skiff: API server listening on ${server.url} (store: ${flags.store})\n` +
      `admin kubeconfig: ${server.kubeconfigPath}\n` +
      `  export KUBECONFIG=${server.kubeconfigPath}\n  kubectl get namespaces\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  process.stdout.write('skiff: shutting down\n');
  await server.close();
  return 0;
}
