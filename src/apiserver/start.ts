/**
 * Starting the API server programmatically: PKI and kubeconfig in the data dir, the store,
 * default namespaces, in-process controllers, then HTTPS. Used by `skiff server`, tests and
 * benchmarks.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { isReason } from '../api/errors.ts';
import * as protobufCodec from '../api/protobuf/index.ts';
import type { ResourceRegistry } from '../api/resource.ts';
import type { Backend } from '../store/backend.ts';
import { Auth } from './auth/index.ts';
import { WatchCache } from './cache/watch-cache.ts';
import type { PatchEngine } from './context.ts';
import type { KubeletClientOptions } from './handlers/kubelet.ts';
import { podStreamUpgrade } from './handlers/pod-stream.ts';
import { createLoopback } from './loopback.ts';
import type { ProtobufCodec } from './negotiation.ts';
import { Objects } from './objects.ts';
import { patchEngine } from './patch-engine.ts';
import { adminKubeconfig, ensurePki } from './pki/index.ts';
import { ApiHandler, authenticate, createHttpsServer } from './server.ts';
import { serviceIpAllocator } from './service-ips/index.ts';

export const DEFAULT_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export interface StartOptions {
  dataDir: string;
  /** 0 picks a free port. */
  port: number;
  /** Address to listen on; default 127.0.0.1 (tests) — the CLI passes 0.0.0.0. */
  bind?: string;
  backend: Backend;
  registry: ResourceRegistry;
  /** Default: src/api/protobuf's codec. */
  protobuf?: ProtobufCodec;
  /** Default: src/apiserver/patch through patchEngine. */
  patch?: PatchEngine;
  /** Daemons to run beside the server (garbage collector, namespace controller, ...). */
  controllers?: ((objects: Objects, registry: ResourceRegistry, signal: AbortSignal) => Promise<void>)[];
  /** Serve reads and watches from the watch cache (default true); false reads the store every time. */
  watchCache?: boolean;
  /**
   * Whether the watch cache keeps every object and answers gets and lists (default: only for a
   * store outside this process, see Backend.inProcess); tests set it to cover both ways.
   */
  watchCacheObjects?: boolean;
  /** Bearer tokens, RBAC and service-account tokens (default true); false trusts every verified certificate. */
  auth?: boolean;
  /** How pods/log, exec, attach and portforward reach node agents (default plain HTTP). */
  kubelet?: KubeletClientOptions;
  /** Service cluster IPs and node ports: false leaves them unallocated (default on, 10.43.0.0/16, 30000-32767). */
  serviceIps?: false | { cidr?: string; nodePortRange?: string };
}

export interface RunningServer {
  url: string;
  port: number;
  kubeconfigPath: string;
  objects: Objects;
  handler: ApiHandler;
  /**
   * An in-process connection for a client in this process (RestConfig `connect`): the same
   * request path as HTTPS, as user `system:apiserver` (system:masters), without TLS or sockets.
   */
  connect(): Duplex;
  close(): Promise<void>;
}

/** Create the default namespaces that are missing. */
export async function ensureDefaultNamespaces(objects: Objects, registry: ResourceRegistry): Promise<void> {
  const def = registry.byResource('', 'v1', 'namespaces');
  if (!def) return;
  for (const name of DEFAULT_NAMESPACES) {
    const ns = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name,
        uid: crypto.randomUUID(),
        creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        labels: { 'kubernetes.io/metadata.name': name },
      },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    };
    try {
      await objects.create(def, ns);
    } catch (e) {
      if (!isReason(e, 'AlreadyExists')) throw e;
    }
  }
}

export async function startApiServer(o: StartOptions): Promise<RunningServer> {
  await mkdir(o.dataDir, { recursive: true });
  const pki = await ensurePki(o.dataDir);
  const cache =
    o.watchCache === false ? undefined : new WatchCache(o.backend, { objects: o.watchCacheObjects });
  await cache?.start();
  const objects = new Objects(o.backend, { cache });
  const auth =
    o.auth === false ? undefined : await Auth.open({ dataDir: o.dataDir, objects, registry: o.registry });
  const handler = new ApiHandler({
    registry: o.registry,
    objects,
    protobuf: o.protobuf ?? protobufCodec,
    patch: o.patch ?? patchEngine,
    auth,
    kubelet: o.kubelet,
    serviceIps:
      o.serviceIps === false ? undefined : serviceIpAllocator({ backend: o.backend, ...o.serviceIps }),
  });
  try {
    await ensureDefaultNamespaces(objects, o.registry);
    await auth?.boot();
  } catch (e) {
    await cache?.close();
    throw e;
  }
  const abort = new AbortController();
  const serviceIps = handler.parts.serviceIps;
  const daemons = [
    ...(o.controllers ?? []),
    ...(serviceIps
      ? [(_o: Objects, _r: ResourceRegistry, signal: AbortSignal) => serviceIps.repair(signal)]
      : []),
  ].map((c) =>
    c(objects, o.registry, abort.signal).catch((e) => {
      if (!abort.signal.aborted) console.error('apiserver: controller stopped:', e);
    }),
  );
  const server = createHttpsServer(handler, {
    port: o.port,
    host: o.bind ?? '127.0.0.1',
    // The chain includes the CA, so a joining agent can check it against the hash in its token.
    cert: `${pki.server.cert.trimEnd()}\n${pki.ca.cert}`,
    key: pki.server.key,
    ca: pki.ca.cert,
  });
  const upgrade = podStreamUpgrade(handler.parts, authenticate);
  server.on('upgrade', upgrade);
  const loopback = createLoopback(handler.handle, upgrade);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.bind ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = o.bind && o.bind !== '0.0.0.0' && o.bind !== '::' ? o.bind : '127.0.0.1';
  const url = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  handler.address = `${host}:${port}`;
  const kubeconfigPath = join(o.dataDir, 'kubeconfig');
  await writeFile(kubeconfigPath, adminKubeconfig(pki, url), { mode: 0o600 });
  handler.ready = true;
  return {
    url,
    port,
    kubeconfigPath,
    objects,
    handler,
    connect: loopback.connect,
    async close() {
      abort.abort();
      loopback.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all(daemons);
      await cache?.close();
    },
  };
}
