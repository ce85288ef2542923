import { type AuthConfig, CriError, criInvalid, GrpcStatus } from '../cri/index.ts';
import { type FetchLike, mirrorRepository, tlsFetch } from '../registry/index.ts';
import { type ImageRecord, type ImageStore, pickPlatform } from './images.ts';
import { formatReference, parseReference } from './reference.ts';

const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export interface PullOptions {
  auth?: AuthConfig;
  /** hosts spoken to over plain HTTP; loopback hosts always are */
  insecureRegistries?: string[];
  /**
   * Registries to try first for every reference (the cluster registry): the image is looked up
   * at `<url>/v2/<host>/<path>` (see src/registry/mirror.ts); any failure there falls through to
   * the next mirror, then to the image's own registry.
   */
  mirrors?: RegistryMirror[];
}

/** A mirror of every registry: `https://host:port` and the CA that signed its certificate. */
export interface RegistryMirror {
  url: string;
  caPem?: string;
}

function baseUrl(host: string, insecure: string[]): string {
  const h = host === 'docker.io' ? 'registry-1.docker.io' : host;
  const plain = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/.test(h) || insecure.includes(h);
  return `${plain ? 'http' : 'https'}://${h}`;
}

/**
 * Pulls an image from an OCI distribution registry: the manifest by tag or digest (picking
 * linux/amd64 from an index), then config and layers into the content store, each verified
 * against its digest; supports anonymous or basic-auth bearer token challenges.
 */
export async function pullImage(
  store: ImageStore,
  ref: string,
  opts: PullOptions = {},
): Promise<ImageRecord> {
  const r = parseReference(ref);
  const failures: string[] = [];
  for (const m of opts.mirrors ?? []) {
    try {
      const doFetch = m.caPem ? tlsFetch({ ca: m.caPem }) : fetch;
      const base = m.url.replace(/\/+$/, '');
      return await pullFrom(store, ref, base, mirrorRepository(r.host, r.path), doFetch, {});
    } catch (e) {
      failures.push(`${m.url}: ${(e as Error).message}`);
    }
  }
  try {
    return await pullFrom(store, ref, baseUrl(r.host, opts.insecureRegistries ?? []), r.path, fetch, opts);
  } catch (e) {
    if (failures.length && e instanceof Error) e.message += ` (mirrors: ${failures.join('; ')})`;
    throw e;
  }
}

async function pullFrom(
  store: ImageStore,
  ref: string,
  base: string,
  repoPath: string,
  fetch: FetchLike,
  opts: PullOptions,
): Promise<ImageRecord> {
  const r = parseReference(ref);
  let token: string | undefined;
  const basic =
    opts.auth?.auth ||
    (opts.auth?.username
      ? Buffer.from(`${opts.auth.username}:${opts.auth.password ?? ''}`).toString('base64')
      : '');
  const get = async (url: string, accept?: string): Promise<Response> => {
    for (let attempt = 0; attempt < 2; attempt++) {
      const headers: Record<string, string> = {};
      if (accept) headers.accept = accept;
      if (token) headers.authorization = `Bearer ${token}`;
      else if (basic) headers.authorization = `Basic ${basic}`;
      const res = await fetch(url, { headers });
      if (res.status === 401 && attempt === 0) {
        const challenge = res.headers.get('www-authenticate') ?? '';
        const m = /^Bearer\s+(.*)$/i.exec(challenge);
        if (!m) throw new CriError(GrpcStatus.UNAUTHENTICATED, `registry refused ${url}: ${challenge}`);
        const params = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
        const q = new URLSearchParams();
        if (params.service) q.set('service', params.service);
        if (params.scope) q.set('scope', params.scope);
        const tr = await fetch(`${params.realm}?${q}`, {
          headers: basic ? { authorization: `Basic ${basic}` } : {},
        });
        if (!tr.ok) throw new CriError(GrpcStatus.UNAUTHENTICATED, `token request failed: ${tr.status}`);
        const body = (await tr.json()) as { token?: string; access_token?: string };
        token = body.token ?? body.access_token;
        continue;
      }
      return res;
    }
    throw new CriError(GrpcStatus.UNAUTHENTICATED, `not authorised for ${url}`);
  };
  const fetchBlob = async (digest: string): Promise<void> => {
    if (store.content.has(digest)) return;
    const res = await get(`${base}/v2/${repoPath}/blobs/${digest}`);
    if (!res.ok || !res.body) throw new CriError(GrpcStatus.NOT_FOUND, `blob ${digest}: HTTP ${res.status}`);
    await store.content.write(digest, res.body as unknown as AsyncIterable<Uint8Array>);
  };
  const fetchManifest = async (
    reference: string,
    expected?: string,
  ): Promise<{ digest: string; doc: any }> => {
    const res = await get(`${base}/v2/${repoPath}/manifests/${reference}`, MANIFEST_ACCEPT);
    if (res.status === 404) throw new CriError(GrpcStatus.NOT_FOUND, `image "${ref}" not found in ${r.host}`);
    if (!res.ok) throw new CriError(GrpcStatus.UNAVAILABLE, `manifest ${reference}: HTTP ${res.status}`);
    const body = Buffer.from(await res.arrayBuffer());
    const { createHash } = await import('node:crypto');
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    const want = expected ?? (reference.startsWith('sha256:') ? reference : undefined);
    if (want && want !== digest)
      throw criInvalid(`manifest digest mismatch: expected ${want}, got ${digest}`);
    await store.content.write(digest, body);
    return { digest, doc: JSON.parse(body.toString()) };
  };
  let { digest, doc } = await fetchManifest(r.digest ?? r.tag!);
  const topDigest = digest;
  if (Array.isArray(doc.manifests)) {
    const pick = pickPlatform(doc.manifests);
    if (!pick) throw new CriError(GrpcStatus.NOT_FOUND, `no linux/amd64 image in ${ref}`);
    ({ digest, doc } = await fetchManifest(pick.digest, pick.digest));
  }
  await fetchBlob(doc.config.digest);
  for (const l of doc.layers) await fetchBlob(l.digest);
  const tags = r.tag ? [formatReference({ ...r, digest: undefined })] : [];
  return store.register(digest, tags, [`${r.repository}@${topDigest}`]);
}
