/**
 * Naming in the cluster registry. The cluster registry mirrors every registry at once, so a
 * repository's path in it is the image's full name, host included:
 *
 *   skiff.local/busybox:1.35        → <mirror>/v2/skiff.local/busybox/manifests/1.35
 *   nginx:1.25 (docker.io/library/nginx:1.25) → <mirror>/v2/docker.io/library/nginx/manifests/1.25
 *   127.0.0.1:5000/app:v1           → <mirror>/v2/127.0.0.1_5000/app/manifests/v1
 *
 * A `:port` in the host becomes `_port`, because `:` is not allowed in a repository name. With
 * this naming, `skiff image ls` shows the names pods use, and containerd reaches the same path
 * through a hosts.toml whose mirror URL ends in `/v2/<host>` with `override_path = true`.
 */

/** The repository a registry host's images live under in the mirror: `docker.io`, `127.0.0.1_5000`. */
export function mirrorHostPrefix(host: string): string {
  return host.toLowerCase().replace(/:(\d+)$/, '_$1');
}

/** `mirrorRepository('docker.io', 'library/nginx')` → `docker.io/library/nginx`. */
export function mirrorRepository(host: string, path: string): string {
  return `${mirrorHostPrefix(host)}/${path}`;
}
