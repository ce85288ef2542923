import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import {
  type Descriptor,
  type ErrorCode,
  IMAGE_MANIFEST_TYPES,
  type ImageIndex,
  type ImageManifest,
  INDEX_TYPES,
  MediaType,
} from './distribution.ts';
import { RegistryError } from './errors.ts';
import { type FetchLike, type TlsOptions, tlsFetch } from './tls-fetch.ts';

const REF_NAME = 'org.opencontainers.image.ref.name';
const MANIFEST_ACCEPT = [...IMAGE_MANIFEST_TYPES, ...INDEX_TYPES].join(', ');

function blobPath(layout: string, digest: string): string {
  const [alg, hex] = digest.split(':');
  return join(layout, 'blobs', alg, hex);
}

async function failure(res: Response, what: string): Promise<RegistryError> {
  const text = await res.text().catch(() => '');
  let first: { code?: ErrorCode; message?: string; detail?: unknown } | undefined;
  try {
    first = JSON.parse(text).errors?.[0];
  } catch {}
  const code: ErrorCode = first?.code ?? (res.status === 404 ? 'NAME_UNKNOWN' : 'UNSUPPORTED');
  return new RegistryError(
    code,
    `${what}: ${res.status} ${first?.message ?? (text.slice(0, 200) || res.statusText)}`,
    first?.detail,
    res.status,
  );
}

/**
 * A plain-HTTP client for one registry (`http://127.0.0.1:5000`), enough to push and pull images.
 * Every method names the repository explicitly; errors are RegistryErrors with the server's code.
 */
export class RegistryClient {
  readonly #base: string;
  readonly #fetch: FetchLike;

  /** `tls` (CA, client certificate) switches to `node:https`, for the cluster registry. */
  constructor(baseUrl: string, tls?: TlsOptions) {
    this.#base = baseUrl.replace(/\/+$/, '');
    this.#fetch = tls ? tlsFetch(tls) : fetch;
  }

  #url(path: string): string {
    return new URL(path, `${this.#base}/`).toString();
  }

  async ping(): Promise<void> {
    const res = await this.#fetch(this.#url('/v2/'));
    await res.body?.cancel();
    if (res.status !== 200) throw await failure(res, 'GET /v2/');
  }

  /** The blob's size, or undefined when the repository does not have it. */
  async blobSize(name: string, digest: string): Promise<number | undefined> {
    const res = await this.#fetch(this.#url(`/v2/${name}/blobs/${digest}`), { method: 'HEAD' });
    if (res.status === 404) return undefined;
    if (!res.ok) throw await failure(res, `HEAD blob ${digest}`);
    return Number(res.headers.get('content-length'));
  }

  /**
   * Uploads a file as a blob unless the repository has it. Monolithic (POST, then PUT with the
   * bytes) by default; with `chunkSize`, PATCHes of that many bytes with Content-Range, then PUT.
   */
  async pushBlobFile(
    name: string,
    file: string,
    digest: string,
    opts: { chunkSize?: number; onProgress?: (p: BlobProgress) => void } = {},
  ): Promise<void> {
    const total = (await stat(file)).size;
    if ((await this.blobSize(name, digest)) !== undefined) {
      opts.onProgress?.({ digest, sent: total, total, existed: true, done: true });
      return;
    }
    const start = await this.#fetch(this.#url(`/v2/${name}/blobs/uploads/`), { method: 'POST' });
    await start.body?.cancel();
    if (start.status !== 202) throw await failure(start, `POST upload for ${digest}`);
    let location = this.#url(start.headers.get('location') ?? '');
    const size = (await stat(file)).size;
    if (opts.chunkSize && size > 0) {
      const fh = await open(file);
      try {
        for (let offset = 0; offset < size; offset += opts.chunkSize) {
          const length = Math.min(opts.chunkSize, size - offset);
          const chunk = Buffer.alloc(length);
          await fh.read(chunk, 0, length, offset);
          const res = await this.#fetch(location, {
            method: 'PATCH',
            headers: {
              'Content-Type': 'application/octet-stream',
              'Content-Range': `${offset}-${offset + length - 1}`,
            },
            body: chunk,
          });
          await res.body?.cancel();
          if (res.status !== 202) throw await failure(res, `PATCH upload for ${digest}`);
          location = this.#url(res.headers.get('location') ?? location);
        }
      } finally {
        await fh.close();
      }
      await this.#finish(location, digest, undefined);
      opts.onProgress?.({ digest, sent: total, total, existed: false, done: true });
      return;
    }
    await this.#finish(location, digest, file, (sent) =>
      opts.onProgress?.({ digest, sent, total, existed: false, done: false }),
    );
    opts.onProgress?.({ digest, sent: total, total, existed: false, done: true });
  }

  async #finish(
    location: string,
    digest: string,
    file: string | undefined,
    onBytes?: (sent: number) => void,
  ): Promise<void> {
    const url = new URL(location);
    url.searchParams.set('digest', digest);
    const init: RequestInit & { duplex?: 'half' } = {
      method: 'PUT',
      headers: { 'Content-Type': 'application/octet-stream' },
    };
    if (file) {
      const stream = createReadStream(file);
      let sent = 0;
      stream.on('data', (b) => {
        sent += b.length;
        onBytes?.(sent);
      });
      init.body = Readable.toWeb(stream) as ReadableStream;
      init.duplex = 'half';
      (init.headers as Record<string, string>)['Content-Length'] = String((await stat(file)).size);
    }
    const res = await this.#fetch(url, init);
    await res.body?.cancel();
    if (res.status !== 201) throw await failure(res, `PUT upload for ${digest}`);
  }

  async putManifest(name: string, reference: string, mediaType: string, bytes: Buffer): Promise<string> {
    const res = await this.#fetch(this.#url(`/v2/${name}/manifests/${reference}`), {
      method: 'PUT',
      headers: { 'Content-Type': mediaType },
      body: bytes,
    });
    await res.body?.cancel();
    if (res.status !== 201) throw await failure(res, `PUT manifest ${name}:${reference}`);
    return res.headers.get('docker-content-digest') ?? '';
  }

  /** The manifest's bytes, media type and digest (verified when `reference` is a digest). */
  async getManifest(
    name: string,
    reference: string,
  ): Promise<{ bytes: Buffer; mediaType: string; digest: string }> {
    const res = await this.#fetch(this.#url(`/v2/${name}/manifests/${reference}`), {
      headers: { Accept: MANIFEST_ACCEPT },
    });
    if (res.status !== 200) throw await failure(res, `GET manifest ${name}:${reference}`);
    const bytes = Buffer.from(await res.arrayBuffer());
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (reference.startsWith('sha256:') && digest !== reference) {
      throw new RegistryError('DIGEST_INVALID', `manifest ${reference} arrived with digest ${digest}`);
    }
    const mediaType =
      res.headers.get('content-type')?.split(';')[0] ?? JSON.parse(bytes.toString()).mediaType;
    return { bytes, mediaType, digest };
  }

  /** Downloads a blob to `file`, verifying its digest. */
  async getBlobToFile(name: string, digest: string, file: string): Promise<void> {
    const res = await this.#fetch(this.#url(`/v2/${name}/blobs/${digest}`));
    if (res.status !== 200 || !res.body) throw await failure(res, `GET blob ${digest}`);
    const tmp = `${file}.partial`;
    const hash = createHash(digest.split(':')[0]);
    const body = Readable.fromWeb(res.body as WebReadableStream);
    body.on('data', (b: Buffer) => hash.update(b));
    await pipeline(body, createWriteStream(tmp));
    const actual = `${digest.split(':')[0]}:${hash.digest('hex')}`;
    if (actual !== digest) {
      await rm(tmp, { force: true });
      throw new RegistryError('DIGEST_INVALID', `blob ${digest} arrived with digest ${actual}`);
    }
    await rename(tmp, file);
  }

  async listTags(
    name: string,
    opts: { n?: number; last?: string } = {},
  ): Promise<{ tags: string[]; next?: string }> {
    const url = new URL(this.#url(`/v2/${name}/tags/list`));
    if (opts.n !== undefined) url.searchParams.set('n', String(opts.n));
    if (opts.last) url.searchParams.set('last', opts.last);
    const res = await this.#fetch(url);
    if (res.status !== 200) throw await failure(res, `GET tags of ${name}`);
    const body = (await res.json()) as { tags: string[] };
    const link = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get('link') ?? '');
    return link ? { tags: body.tags, next: link[1] } : { tags: body.tags };
  }

  /** Repository names (`GET /v2/_catalog`), every page of them. */
  async catalog(): Promise<string[]> {
    const names: string[] = [];
    let next: string | undefined = '/v2/_catalog?n=1000';
    while (next) {
      const res = await this.#fetch(this.#url(next));
      if (res.status !== 200) throw await failure(res, 'GET /v2/_catalog');
      names.push(...(((await res.json()) as { repositories?: string[] }).repositories ?? []));
      next = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get('link') ?? '')?.[1];
    }
    return names;
  }

  async referrers(name: string, digest: string, artifactType?: string): Promise<ImageIndex> {
    const url = new URL(this.#url(`/v2/${name}/referrers/${digest}`));
    if (artifactType) url.searchParams.set('artifactType', artifactType);
    const res = await this.#fetch(url);
    if (res.status !== 200) throw await failure(res, `GET referrers of ${digest}`);
    return (await res.json()) as ImageIndex;
  }
}

export interface PushLayoutOptions {
  /** An OCI image layout directory (oci-layout, index.json, blobs/). */
  layout: string;
  /** `http://host:port` */
  registry: string;
  /** The repository, e.g. `library/busybox`. */
  name: string;
  /** Which image of the layout: its `org.opencontainers.image.ref.name`; needed when it holds several. */
  ref?: string;
  /** Which image of the layout, by its manifest's digest (instead of `ref`). */
  digest?: string;
  /** The tag to push as; `ref`, else `latest`. */
  tag?: string;
  /** Upload blobs in chunks of this size instead of one request. */
  chunkSize?: number;
  /** CA and client certificate for an HTTPS registry (the cluster registry). */
  tls?: TlsOptions;
  /** Called as each blob's bytes go out (and once when it is done, or already there). */
  onProgress?: (p: BlobProgress) => void;
}

/** Where one blob's upload is. */
export interface BlobProgress {
  digest: string;
  sent: number;
  total: number;
  /** the registry had it already: nothing was sent */
  existed: boolean;
  done: boolean;
}

async function readLayoutIndex(layout: string): Promise<ImageIndex> {
  const marker = JSON.parse(await readFile(join(layout, 'oci-layout'), 'utf8'));
  if (marker.imageLayoutVersion !== '1.0.0') {
    throw new RegistryError(
      'UNSUPPORTED',
      `${layout}: unsupported imageLayoutVersion ${marker.imageLayoutVersion}`,
    );
  }
  return JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as ImageIndex;
}

/**
 * Pushes one image (or image index) of an OCI layout: blobs first, then manifests from the leaves
 * up, then the tag. Returns the top manifest's digest.
 */
export async function pushLayout(o: PushLayoutOptions): Promise<{ digest: string }> {
  const client = new RegistryClient(o.registry, o.tls);
  const index = await readLayoutIndex(o.layout);
  const candidates = o.digest
    ? index.manifests.filter((d) => d.digest === o.digest).slice(0, 1)
    : o.ref
      ? index.manifests.filter((d) => d.annotations?.[REF_NAME] === o.ref)
      : index.manifests;
  if (candidates.length !== 1) {
    throw new RegistryError(
      'MANIFEST_UNKNOWN',
      o.ref
        ? `${o.layout}: ${candidates.length} images named ${o.ref}`
        : `${o.layout} holds ${candidates.length} images; name one with ref`,
    );
  }
  const top = candidates[0];
  const pushManifest = async (d: Descriptor): Promise<void> => {
    const bytes = await readFile(blobPath(o.layout, d.digest));
    const doc = JSON.parse(bytes.toString('utf8')) as ImageManifest & ImageIndex;
    if (INDEX_TYPES.includes(d.mediaType)) {
      for (const child of doc.manifests) await pushManifest(child);
    } else if (IMAGE_MANIFEST_TYPES.includes(d.mediaType)) {
      for (const blob of [doc.config, ...doc.layers]) {
        await client.pushBlobFile(o.name, blobPath(o.layout, blob.digest), blob.digest, {
          chunkSize: o.chunkSize,
          onProgress: o.onProgress,
        });
      }
    } else {
      throw new RegistryError('UNSUPPORTED', `cannot push ${d.digest} of media type ${d.mediaType}`);
    }
    await client.putManifest(o.name, d.digest, d.mediaType, bytes);
  };
  await pushManifest(top);
  const tag = o.tag ?? o.ref ?? 'latest';
  await client.putManifest(o.name, tag, top.mediaType, await readFile(blobPath(o.layout, top.digest)));
  return { digest: top.digest };
}

export interface PullLayoutOptions {
  registry: string;
  name: string;
  /** A tag or digest. */
  reference: string;
  /** Created if missing; an existing layout gains the image (its index.json entry is replaced). */
  layout: string;
}

/** Pulls an image (and, for an index, every image in it) into an OCI layout directory. */
export async function pullLayout(o: PullLayoutOptions): Promise<{ digest: string }> {
  const client = new RegistryClient(o.registry);
  await mkdir(join(o.layout, 'blobs', 'sha256'), { recursive: true });
  const have = async (digest: string) =>
    (await stat(blobPath(o.layout, digest)).catch(() => undefined)) !== undefined;
  const pullManifest = async (reference: string): Promise<Descriptor> => {
    const m = await client.getManifest(o.name, reference);
    const doc = JSON.parse(m.bytes.toString('utf8')) as ImageManifest & ImageIndex;
    if (INDEX_TYPES.includes(m.mediaType)) {
      for (const child of doc.manifests) await pullManifest(child.digest);
    } else {
      for (const blob of [doc.config, ...doc.layers]) {
        if (blob.urls?.length || (await have(blob.digest))) continue;
        await mkdir(join(o.layout, 'blobs', blob.digest.split(':')[0]), { recursive: true });
        await client.getBlobToFile(o.name, blob.digest, blobPath(o.layout, blob.digest));
      }
    }
    await writeFile(blobPath(o.layout, m.digest), m.bytes);
    return { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length };
  };
  const top = await pullManifest(o.reference);
  await writeFile(join(o.layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  let index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] };
  try {
    index = JSON.parse(await readFile(join(o.layout, 'index.json'), 'utf8'));
  } catch {}
  const refName = o.reference.includes(':') ? undefined : o.reference;
  index.manifests = index.manifests.filter((d) =>
    refName ? d.annotations?.[REF_NAME] !== refName : d.digest !== top.digest,
  );
  index.manifests.push(refName ? { ...top, annotations: { [REF_NAME]: refName } } : top);
  await writeFile(join(o.layout, 'index.json'), JSON.stringify(index));
  return { digest: top.digest };
}
