/**
 * Reading a kubeconfig: the current (or a named) context's server URL and credentials, with
 * `*-data` fields (base64) preferred over file paths, which are relative to the kubeconfig.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import { parse } from 'yaml';

/** Where and how to connect: what a RestClient needs. */
export interface RestConfig {
  /** `https://127.0.0.1:6443` */
  server: string;
  /** PEM */
  ca?: string;
  cert?: string;
  key?: string;
  token?: string;
  insecureSkipTLSVerify?: boolean;
  /** Sent as User-Agent. */
  userAgent?: string;
  /**
   * Opens a connection that reaches the API server without dialing `server` (the in-process
   * one of `startApiServer`'s `connect`): plain HTTP/1.1 over it, no TLS.
   */
  connect?: () => Duplex;
}

interface Named<T> {
  name: string;
  [k: string]: unknown;
  cluster?: T;
  user?: T;
  context?: T;
}

/** Parse kubeconfig YAML text; `baseDir` resolves relative file paths. */
export async function restConfigFromKubeconfigText(
  text: string,
  baseDir: string,
  context?: string,
): Promise<RestConfig> {
  const doc = (parse(text) ?? {}) as Record<string, any>;
  const ctxName = context ?? doc['current-context'];
  const find = <T>(list: Named<T>[] | undefined, name: string, what: string): T => {
    const hit = (list ?? []).find((x) => x.name === name);
    if (!hit) throw new Error(`kubeconfig: ${what} "${name}" not found`);
    return (hit.cluster ?? hit.user ?? hit.context ?? {}) as T;
  };
  let clusterName: string;
  let userName: string | undefined;
  if (ctxName) {
    const ctx = find<{ cluster: string; user?: string }>(doc.contexts, ctxName, 'context');
    clusterName = ctx.cluster;
    userName = ctx.user;
  } else {
    clusterName = doc.clusters?.[0]?.name;
    userName = doc.users?.[0]?.name;
  }
  const cluster = find<Record<string, any>>(doc.clusters, clusterName, 'cluster');
  const user = userName ? find<Record<string, any>>(doc.users, userName, 'user') : {};
  const material = async (data: unknown, file: unknown): Promise<string | undefined> => {
    if (typeof data === 'string' && data) return Buffer.from(data, 'base64').toString('utf8');
    if (typeof file === 'string' && file) return readFile(resolve(baseDir, file), 'utf8');
    return undefined;
  };
  const cfg: RestConfig = { server: String(cluster.server ?? '').replace(/\/+$/, '') };
  if (!cfg.server) throw new Error(`kubeconfig: cluster "${clusterName}" has no server`);
  cfg.ca = await material(cluster['certificate-authority-data'], cluster['certificate-authority']);
  cfg.cert = await material(user['client-certificate-data'], user['client-certificate']);
  cfg.key = await material(user['client-key-data'], user['client-key']);
  if (typeof user.token === 'string') cfg.token = user.token;
  else if (typeof user.tokenFile === 'string')
    cfg.token = (await readFile(resolve(baseDir, user.tokenFile), 'utf8')).trim();
  if (cluster['insecure-skip-tls-verify'] === true) cfg.insecureSkipTLSVerify = true;
  return cfg;
}

/** Read a kubeconfig file (`~/.kube/config`, or what `skiff server` writes). */
export async function restConfigFromKubeconfig(path: string, context?: string): Promise<RestConfig> {
  return restConfigFromKubeconfigText(await readFile(path, 'utf8'), dirname(resolve(path)), context);
}
