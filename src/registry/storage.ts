import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Descriptor } from './distribution.ts';

/** What the registry remembers about a manifest in a repository, for GET and the referrers API. */
export interface ManifestRecord {
  digest: string;
  mediaType: string;
  size: number;
  artifactType?: string;
  subject?: string;
  annotations?: Record<string, string>;
}

/**
 * The registry's disk layout under `root`:
 *
 *   blobs/<alg>/<hex>                       content, shared by every repository (manifests too)
 *   repositories/<name>/_layers/<alg>/<hex> the blob is in this repository (empty file)
 *   repositories/<name>/_manifests/<alg>/<hex>.json   a ManifestRecord
 *   repositories/<name>/_tags/<tag>         the tagged digest
 *   uploads/<uuid>, uploads/<uuid>.json     an upload in progress: bytes so far, and its repository
 *
 * Name components never start with `_`, so `_layers` and friends cannot clash with a nested name.
 * Every write goes to a temporary file first and is renamed into place.
 */
export class Storage {
  readonly #root: string;

  constructor(root: string) {
    this.#root = root;
  }

  async init(): Promise<void> {
    for (const d of ['blobs', 'repositories', 'uploads', 'tmp'])
      await mkdir(join(this.#root, d), { recursive: true });
  }

  #blob(digest: string): string {
    const [alg, hex] = digest.split(':');
    return join(this.#root, 'blobs', alg, hex);
  }

  #repo(name: string, ...rest: string[]): string {
    return join(this.#root, 'repositories', ...name.split('/'), ...rest);
  }

  #digestPath(name: string, kind: '_layers' | '_manifests', digest: string, ext = ''): string {
    const [alg, hex] = digest.split(':');
    return this.#repo(name, kind, alg, hex + ext);
  }

  async #atomicWrite(path: string, data: string | Buffer): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    const tmp = join(this.#root, 'tmp', randomUUID());
    await writeFile(tmp, data);
    await rename(tmp, path);
  }

  /** Every repository name, sorted: directories holding `_layers`, `_manifests` or `_tags`. */
  async listRepositories(): Promise<string[]> {
    const out: string[] = [];
    const walk = async (parts: string[]): Promise<void> => {
      const entries = await readdir(this.#repo(parts.join('/')), { withFileTypes: true }).catch(() => []);
      if (parts.length && entries.some((e) => e.name.startsWith('_'))) out.push(parts.join('/'));
      for (const e of entries) if (e.isDirectory() && !e.name.startsWith('_')) await walk([...parts, e.name]);
    };
    await walk([]);
    return out.sort();
  }

  async repoExists(name: string): Promise<boolean> {
    return (await stat(this.#repo(name)).catch(() => undefined))?.isDirectory() ?? false;
  }

  /** Size of the blob if the repository has it. */
  async blobSize(name: string, digest: string): Promise<number | undefined> {
    if (!(await stat(this.#digestPath(name, '_layers', digest)).catch(() => undefined))) return undefined;
    return (await stat(this.#blob(digest)).catch(() => undefined))?.size;
  }

  /** Size of the blob if any repository has it (for cross-repository mounts). */
  async globalBlobSize(digest: string): Promise<number | undefined> {
    return (await stat(this.#blob(digest)).catch(() => undefined))?.size;
  }

  readBlob(digest: string, range?: { start: number; end: number }): Readable {
    return createReadStream(this.#blob(digest), range);
  }

  async readBlobBytes(digest: string): Promise<Buffer> {
    return readFile(this.#blob(digest));
  }

  async linkBlob(name: string, digest: string): Promise<void> {
    await this.#atomicWrite(this.#digestPath(name, '_layers', digest), '');
  }

  async unlinkBlob(name: string, digest: string): Promise<boolean> {
    const p = this.#digestPath(name, '_layers', digest);
    if (!(await stat(p).catch(() => undefined))) return false;
    await rm(p, { force: true });
    return true;
  }

  /** Moves a verified file into the content store and links it to the repository. */
  async commitBlob(name: string, file: string, digest: string): Promise<void> {
    const dest = this.#blob(digest);
    await mkdir(dirname(dest), { recursive: true });
    await rename(file, dest);
    await this.linkBlob(name, digest);
  }

  async putBlobBytes(name: string, digest: string, bytes: Buffer): Promise<void> {
    await this.#atomicWrite(this.#blob(digest), bytes);
    await this.linkBlob(name, digest);
  }

  // Uploads

  async createUpload(name: string): Promise<string> {
    const id = randomUUID();
    await writeFile(join(this.#root, 'uploads', id), '');
    await writeFile(join(this.#root, 'uploads', `${id}.json`), JSON.stringify({ name }));
    return id;
  }

  /** The upload's size so far, if it exists and belongs to `name`. */
  async uploadSize(name: string, id: string): Promise<number | undefined> {
    if (!/^[0-9a-f-]{36}$/.test(id)) return undefined;
    try {
      const meta = JSON.parse(await readFile(join(this.#root, 'uploads', `${id}.json`), 'utf8'));
      if (meta.name !== name) return undefined;
      return (await stat(join(this.#root, 'uploads', id))).size;
    } catch {
      return undefined;
    }
  }

  uploadPath(id: string): string {
    return join(this.#root, 'uploads', id);
  }

  async appendUpload(id: string, body: Readable): Promise<void> {
    await pipeline(body, createWriteStream(this.uploadPath(id), { flags: 'a' }));
  }

  async deleteUpload(id: string): Promise<void> {
    await rm(this.uploadPath(id), { force: true });
    await rm(`${this.uploadPath(id)}.json`, { force: true });
  }

  /** A fresh temporary file path inside the store (same filesystem, so rename works). */
  tmpPath(): string {
    return join(this.#root, 'tmp', randomUUID());
  }

  // Manifests and tags

  async putManifest(name: string, record: ManifestRecord, bytes: Buffer): Promise<void> {
    await this.#atomicWrite(this.#blob(record.digest), bytes);
    await this.#atomicWrite(
      this.#digestPath(name, '_manifests', record.digest, '.json'),
      JSON.stringify(record),
    );
  }

  async getManifest(name: string, digest: string): Promise<ManifestRecord | undefined> {
    try {
      return JSON.parse(await readFile(this.#digestPath(name, '_manifests', digest, '.json'), 'utf8'));
    } catch {
      return undefined;
    }
  }

  async deleteManifest(name: string, digest: string): Promise<void> {
    await rm(this.#digestPath(name, '_manifests', digest, '.json'), { force: true });
    for (const tag of await this.listTags(name)) {
      if ((await this.resolveTag(name, tag)) === digest) await this.deleteTag(name, tag);
    }
  }

  async listManifests(name: string): Promise<ManifestRecord[]> {
    const out: ManifestRecord[] = [];
    for (const alg of await readdir(this.#repo(name, '_manifests')).catch(() => [] as string[])) {
      for (const f of await readdir(this.#repo(name, '_manifests', alg))) {
        const r = await this.getManifest(name, `${alg}:${f.replace(/\.json$/, '')}`);
        if (r) out.push(r);
      }
    }
    return out;
  }

  async setTag(name: string, tag: string, digest: string): Promise<void> {
    await this.#atomicWrite(this.#repo(name, '_tags', tag), digest);
  }

  async resolveTag(name: string, tag: string): Promise<string | undefined> {
    return readFile(this.#repo(name, '_tags', tag), 'utf8').catch(() => undefined);
  }

  async deleteTag(name: string, tag: string): Promise<boolean> {
    const p = this.#repo(name, '_tags', tag);
    if (!(await stat(p).catch(() => undefined))) return false;
    await rm(p, { force: true });
    return true;
  }

  async listTags(name: string): Promise<string[]> {
    return (await readdir(this.#repo(name, '_tags')).catch(() => [] as string[])).sort();
  }
}

/** `sha256:<hex>` (or sha512) of a file's bytes. */
export async function digestFile(path: string, algorithm = 'sha256'): Promise<string> {
  const h = createHash(algorithm);
  await pipeline(createReadStream(path), h);
  return `${algorithm}:${h.digest('hex')}`;
}

export function digestBytes(bytes: Buffer | string, algorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/** Sorting helper used by listings. */
export function descriptorOf(r: ManifestRecord): Descriptor {
  const d: Descriptor = { mediaType: r.mediaType, digest: r.digest, size: r.size };
  if (r.artifactType) d.artifactType = r.artifactType;
  if (r.annotations) d.annotations = r.annotations;
  return d;
}
