/**
 * The cluster registry: Skiff's registry served over HTTPS with the cluster's serving
 * certificate, where `skiff image import` puts images and every node's runtime looks first
 * (see mirror.ts for the naming).
 *
 * Who may do what:
 *   - reads (GET, HEAD) are open to anyone who can reach the port. The registry listens on the
 *     node network, where every kubelet and runtime must pull without credentials, so anonymous
 *     pulls are intended: treat images in it as readable by the whole cluster.
 *   - writes (POST, PUT, PATCH, DELETE) need a client certificate signed by the cluster CA (the
 *     admin kubeconfig's, or any other the CA issued): TLS asks for one, and a write over a
 *     connection without a verified certificate is answered 401 UNAUTHORIZED (none presented)
 *     or 403 DENIED (presented but not issued by the cluster CA), with an OCI error body.
 *
 * The server publishes where it is in the ConfigMap `kube-public/skiff-registry` (`url`,
 * `ca.crt`), which clients read with `findClusterRegistry`.
 */
import type { IncomingMessage } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import type { RestClient } from '../client/index.ts';
import { RegistryError } from './errors.ts';
import { registryListener } from './server.ts';
import { Storage } from './storage.ts';

export const REGISTRY_CONFIGMAP = { namespace: 'kube-public', name: 'skiff-registry' } as const;
const CONFIGMAPS = { group: '', version: 'v1', resource: 'configmaps' };
const READ_METHODS = new Set(['GET', 'HEAD']);

export interface ClusterRegistryOptions {
  /** Blobs and manifests live in `<dataDir>/registry`. */
  dataDir: string;
  /** The cluster PKI (`ensurePki` from the API server): its CA and serving certificate. */
  pki?: { ca: { cert: string }; server: { cert: string; key: string } };
  caCertPem?: string;
  serverCertPem?: string;
  serverKeyPem?: string;
  /** 127.0.0.1 by default; the node network's address in a real cluster. */
  host?: string;
  /** 0 (a free port) by default. */
  port?: number;
}

export interface ClusterRegistry {
  /** `https://host:port` */
  url: string;
  port: number;
  /** the CA clients must trust (PEM) */
  caPem: string;
  close(): Promise<void>;
}

/** Refuses writes on connections without a certificate the cluster CA issued. */
function pushGate(req: IncomingMessage): void {
  if (READ_METHODS.has(req.method ?? '')) return;
  const socket = req.socket as TLSSocket;
  if (socket.authorized) return;
  const presented = Object.keys(socket.getPeerCertificate?.() ?? {}).length > 0;
  if (!presented)
    throw new RegistryError('UNAUTHORIZED', 'pushing needs a client certificate issued by the cluster CA');
  throw new RegistryError(
    'DENIED',
    `client certificate refused: ${socket.authorizationError ?? 'not issued by the cluster CA'}`,
  );
}

/**
 * Starts the cluster registry.
 *
 *   const pki = await ensurePki(dataDir);
 *   const reg = await startClusterRegistry({ dataDir, pki, host: '0.0.0.0', port: 5443 });
 *   await publishRegistry(client, { url: reg.url, caPem: reg.caPem });
 */
export async function startClusterRegistry(o: ClusterRegistryOptions): Promise<ClusterRegistry> {
  const ca = o.pki?.ca.cert ?? o.caCertPem;
  const cert = o.pki?.server.cert ?? o.serverCertPem;
  const key = o.pki?.server.key ?? o.serverKeyPem;
  if (!ca || !cert || !key) throw new Error('cluster registry: a CA, serving certificate and key are needed');
  const storage = new Storage(join(o.dataDir, 'registry'));
  await storage.init();
  const server = createServer(
    { cert, key, ca, requestCert: true, rejectUnauthorized: false },
    registryListener(storage, pushGate),
  );
  const host = o.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    url: `https://${shown.includes(':') ? `[${shown}]` : shown}:${port}`,
    port,
    caPem: ca,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Where the cluster registry is, as published in `kube-public/skiff-registry`. */
export interface RegistryLocation {
  url: string;
  caPem: string;
}

/** Creates or updates the ConfigMap `kube-public/skiff-registry` with `url` and `ca.crt`. */
export async function publishRegistry(client: RestClient, where: RegistryLocation): Promise<void> {
  const { namespace, name } = REGISTRY_CONFIGMAP;
  const data = { url: where.url, 'ca.crt': where.caPem };
  const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data };
  try {
    await client.create(CONFIGMAPS, body, { namespace });
  } catch (e) {
    if ((e as { reason?: string }).reason !== 'AlreadyExists') throw e;
    const current = await client.get(CONFIGMAPS, name, { namespace });
    await client.update(CONFIGMAPS, { ...current, data } as typeof body, { namespace });
  }
}

/** Reads the published location; undefined when no cluster registry has been published. */
export async function findClusterRegistry(client: RestClient): Promise<RegistryLocation | undefined> {
  const { namespace, name } = REGISTRY_CONFIGMAP;
  let cm: { data?: Record<string, string> };
  try {
    cm = (await client.get(CONFIGMAPS, name, { namespace })) as typeof cm;
  } catch (e) {
    if ((e as { reason?: string }).reason === 'NotFound') return undefined;
    throw e;
  }
  const url = cm.data?.url;
  const caPem = cm.data?.['ca.crt'];
  return url && caPem ? { url, caPem } : undefined;
}
