/**
 * Image references the way Docker and containerd normalise them:
 * `busybox` → `docker.io/library/busybox:latest`, `reg:5000/a/b@sha256:…` kept with its digest.
 */
export interface ImageReference {
  /** repository with registry host, e.g. `docker.io/library/busybox` */
  repository: string;
  /** registry host, e.g. `docker.io` or `127.0.0.1:5000` */
  host: string;
  /** path below the host, e.g. `library/busybox` */
  path: string;
  tag?: string;
  digest?: string;
}

export function parseReference(ref: string): ImageReference {
  let rest = ref.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  if (!rest || !/^[a-zA-Z0-9._\-/:[\]]+$/.test(rest)) throw new Error(`invalid image reference "${ref}"`);
  const parts = rest.split('/');
  let host = 'docker.io';
  if (parts.length > 1 && (parts[0].includes('.') || parts[0].includes(':') || parts[0] === 'localhost')) {
    host = parts.shift()!;
  }
  if (host === 'docker.io' && parts.length === 1) parts.unshift('library');
  if (!tag && !digest) tag = 'latest';
  const p = parts.join('/').toLowerCase();
  return { repository: `${host}/${p}`, host, path: p, tag, digest };
}

/** `repo:tag` (or `repo@digest` when untagged). */
export function formatReference(r: ImageReference): string {
  return r.tag ? `${r.repository}:${r.tag}` : `${r.repository}@${r.digest}`;
}
