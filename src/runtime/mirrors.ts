/**
 * The cluster registry as containerd's mirror: containerd (1.6 and later) reads per-registry
 * `hosts.toml` files from the CRI plugin's `registry.config_path`, one directory per registry
 * host. For each host we point it at the mirror's `/v2/<host>` (the naming in
 * src/registry/mirror.ts) with `override_path = true`, so containerd asks
 * `<mirror>/v2/skiff.local/busybox/manifests/1.35` for `skiff.local/busybox:1.35`, and falls back
 * to the host itself (`server`) when the mirror fails.
 *
 *   const { criConfig } = containerdMirrorConfig('/etc/containerd/certs.d', mirror, ['docker.io', 'skiff.local']);
 *   // add criConfig to containerd's config.toml
 */
import fs from 'node:fs';
import path from 'node:path';
import { mirrorHostPrefix } from '../registry/index.ts';
import type { RegistryMirror } from './pull.ts';

export interface ContainerdMirrorConfig {
  /** the directory to give containerd as `config_path` */
  configPath: string;
  /** the TOML section for containerd's config.toml (version 2) */
  criConfig: string;
}

const q = (s: string) => JSON.stringify(s);

/** Writes `<dir>/<host>/hosts.toml` for every host (and the mirror's CA beside them). */
export function containerdMirrorConfig(
  dir: string,
  mirror: RegistryMirror,
  hosts: string[],
): ContainerdMirrorConfig {
  fs.mkdirSync(dir, { recursive: true });
  const caFile = path.join(dir, 'skiff-registry-ca.crt');
  if (mirror.caPem) fs.writeFileSync(caFile, mirror.caPem);
  const base = mirror.url.replace(/\/+$/, '');
  for (const host of hosts) {
    const upstream = host === 'docker.io' ? 'https://registry-1.docker.io' : `https://${host}`;
    const lines = [
      `server = ${q(upstream)}`,
      '',
      `[host.${q(`${base}/v2/${mirrorHostPrefix(host)}`)}]`,
      '  capabilities = ["pull", "resolve"]',
      '  override_path = true',
    ];
    if (mirror.caPem) lines.push(`  ca = ${q(caFile)}`);
    fs.mkdirSync(path.join(dir, host), { recursive: true });
    fs.writeFileSync(path.join(dir, host, 'hosts.toml'), `${lines.join('\n')}\n`);
  }
  return {
    configPath: dir,
    criConfig: `[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = ${q(dir)}\n`,
  };
}
