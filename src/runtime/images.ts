import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import * as tar from 'tar-stream';
import { criInvalid, criNotFound } from '../cri/index.ts';
import { ContentStore } from './content.ts';
import { formatReference, parseReference } from './reference.ts';
import { chainIds, unpackLayer } from './unpack.ts';

/** The parts of an OCI image config a runtime needs to run it. */
export interface ImageRuntimeConfig {
  Env?: string[];
  Cmd?: string[];
  Entrypoint?: string[];
  WorkingDir?: string;
  User?: string;
}

/** What Skiff knows about one image, stored as `<root>/images/<config hex>.json`. */
export interface ImageRecord {
  /** the config digest: the image ID */
  id: string;
  repoTags: string[];
  repoDigests: string[];
  manifestDigest?: string;
  layers: { digest: string; mediaType: string; size: number }[];
  diffIds: string[];
  chainIds: string[];
  size: number;
  config: ImageRuntimeConfig;
}

const MT = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
};

/** Reads files of an image archive (a directory or an in-memory tar) by relative path. */
type FileReader = (name: string) => Promise<Buffer | undefined>;

async function tarReader(file: string): Promise<FileReader> {
  const files = new Map<string, Buffer>();
  const extract = tar.extract();
  extract.on('entry', (h, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c) => {
      chunks.push(c as Buffer);
    });
    stream.on('end', () => {
      if (h.type === 'file' || h.type === 'contiguous-file')
        files.set(path.posix.normalize(h.name), Buffer.concat(chunks));
      next();
    });
    stream.on('error', next);
  });
  await new Promise<void>((resolve, reject) => {
    extract.on('finish', resolve);
    extract.on('error', reject);
    fs.createReadStream(file).on('error', reject).pipe(extract);
  });
  return async (name) => files.get(path.posix.normalize(name));
}

function dirReader(dir: string): FileReader {
  return async (name) => {
    try {
      return await fsp.readFile(path.join(dir, path.posix.normalize(`/${name}`)));
    } catch {
      return undefined;
    }
  };
}

/**
 * The image store: blobs in a ContentStore, each image's layers unpacked once into
 * `<root>/snapshots/<chain ID hex>` (shared read-only lower layers for overlayfs), and one JSON
 * record per image.
 */
export class ImageStore {
  readonly content: ContentStore;
  readonly #root: string;
  readonly #imagesDir: string;
  readonly #snapshotsDir: string;

  constructor(root: string) {
    this.#root = root;
    this.content = new ContentStore(root);
    this.#imagesDir = path.join(root, 'images');
    this.#snapshotsDir = path.join(root, 'snapshots');
    fs.mkdirSync(this.#imagesDir, { recursive: true });
    fs.mkdirSync(this.#snapshotsDir, { recursive: true });
  }

  get root(): string {
    return this.#root;
  }

  snapshotPath(chainId: string): string {
    return path.join(this.#snapshotsDir, chainId.replace(/^sha256:/, ''));
  }

  list(): ImageRecord[] {
    return fs
      .readdirSync(this.#imagesDir)
      .filter((n) => n.endsWith('.json'))
      .map((n) => JSON.parse(fs.readFileSync(path.join(this.#imagesDir, n), 'utf8')) as ImageRecord);
  }

  /** Finds an image by ID (`sha256:…` or its hex), tag, or `repo@digest`; undefined when absent. */
  find(ref: string): ImageRecord | undefined {
    const images = this.list();
    const id = ref.startsWith('sha256:') ? ref : /^[a-f0-9]{64}$/.test(ref) ? `sha256:${ref}` : undefined;
    if (id) return images.find((i) => i.id === id);
    let full: string;
    try {
      full = formatReference(parseReference(ref));
    } catch {
      return undefined;
    }
    return images.find((i) => i.repoTags.includes(full) || i.repoDigests.includes(full));
  }

  get(ref: string): ImageRecord {
    const img = this.find(ref);
    if (!img) throw criNotFound(`image "${ref}"`);
    return img;
  }

  /**
   * Imports an OCI image layout (directory or tar) or a docker-archive tarball. `name` tags an
   * image the archive leaves unnamed. Returns the images imported.
   */
  async importArchive(file: string, name?: string): Promise<ImageRecord[]> {
    const read = fs.statSync(file).isDirectory() ? dirReader(file) : await tarReader(file);
    const out: ImageRecord[] = [];
    const index = await read('index.json');
    const dockerManifest = await read('manifest.json');
    if (index && (await read('oci-layout'))) {
      const copyBlob = async (digest: string) => {
        const body = await read(`blobs/${digest.replace(':', '/')}`);
        if (!body) throw criInvalid(`archive lacks blob ${digest}`);
        await this.content.write(digest, body);
        return body;
      };
      for (const desc of JSON.parse(index.toString()).manifests ?? []) {
        const ann = desc.annotations ?? {};
        let tag: string | undefined =
          ann['io.containerd.image.name'] ?? ann['org.opencontainers.image.ref.name'];
        if (tag && !tag.includes('/') && !tag.includes(':'))
          tag = name ? `${name.replace(/:[^/:]*$/, '')}:${tag}` : undefined;
        tag ??= name;
        const manifestDigest = await this.#selectManifest(desc, copyBlob);
        const manifest = JSON.parse((await this.content.read(manifestDigest)).toString());
        await copyBlob(manifest.config.digest);
        for (const l of manifest.layers) await copyBlob(l.digest);
        out.push(await this.register(manifestDigest, tag ? [tag] : [], []));
      }
    } else if (dockerManifest) {
      for (const entry of JSON.parse(dockerManifest.toString())) {
        const config = await read(entry.Config);
        if (!config) throw criInvalid(`archive lacks ${entry.Config}`);
        const configDigest = await this.#putBuffer(config);
        const layers = [];
        for (const l of entry.Layers as string[]) {
          const body = await read(l);
          if (!body) throw criInvalid(`archive lacks ${l}`);
          const gz = body[0] === 0x1f && body[1] === 0x8b;
          layers.push({
            digest: await this.#putBuffer(body),
            size: body.length,
            mediaType: gz
              ? 'application/vnd.oci.image.layer.v1.tar+gzip'
              : 'application/vnd.oci.image.layer.v1.tar',
          });
        }
        const manifest = Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            config: {
              mediaType: 'application/vnd.oci.image.config.v1+json',
              digest: configDigest,
              size: config.length,
            },
            layers,
          }),
        );
        const manifestDigest = await this.#putBuffer(manifest);
        const tags: string[] = entry.RepoTags ?? (name ? [name] : []);
        out.push(await this.register(manifestDigest, tags, [], false));
      }
    } else {
      throw criInvalid(`${file} is neither an OCI image layout nor a docker archive`);
    }
    return out;
  }

  async #putBuffer(body: Buffer): Promise<string> {
    const { createHash } = await import('node:crypto');
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    await this.content.write(digest, body);
    return digest;
  }

  /** Follows an index (or Docker manifest list) down to the linux/amd64 manifest. */
  async #selectManifest(desc: any, fetchBlob: (digest: string) => Promise<Buffer>): Promise<string> {
    const body = await fetchBlob(desc.digest);
    const doc = JSON.parse(body.toString());
    const mt = doc.mediaType ?? desc.mediaType;
    if (mt === MT.ociIndex || mt === MT.dockerList || (Array.isArray(doc.manifests) && !doc.layers)) {
      const pick = pickPlatform(doc.manifests ?? []);
      if (!pick) throw criNotFound('a linux/amd64 manifest in the index');
      return this.#selectManifest(pick, fetchBlob);
    }
    return desc.digest;
  }

  /**
   * Records an image whose manifest, config and layer blobs are all in the content store:
   * unpacks missing snapshots, moves the given tags to it. `verifyManifestDigest` adds
   * `repo@manifestDigest` repo digests for the tags (only meaningful for registry manifests).
   */
  async register(
    manifestDigest: string,
    tags: string[],
    repoDigests: string[],
    registryManifest = true,
  ): Promise<ImageRecord> {
    const manifest = JSON.parse((await this.content.read(manifestDigest)).toString());
    const configDigest: string = manifest.config.digest;
    const config = JSON.parse((await this.content.read(configDigest)).toString());
    const diffIds: string[] = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== manifest.layers.length)
      throw criInvalid('image config and manifest disagree on layers');
    const chain = chainIds(diffIds);
    for (let i = 0; i < chain.length; i++) {
      const snap = this.snapshotPath(chain[i]);
      if (fs.existsSync(snap)) continue;
      const tmp = `${snap}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        const diffId = await unpackLayer(this.content.path(manifest.layers[i].digest), tmp);
        if (diffId !== diffIds[i])
          throw criInvalid(`layer ${i} has diff ID ${diffId}, config says ${diffIds[i]}`);
        await fsp.rename(tmp, snap).catch((err) => {
          if (!fs.existsSync(snap)) throw err;
        });
      } finally {
        await fsp.rm(tmp, { recursive: true, force: true });
      }
    }
    const fullTags = tags.map((t) => formatReference(parseReference(t)));
    const digests = [...repoDigests];
    if (registryManifest) {
      for (const t of fullTags) digests.push(`${parseReference(t).repository}@${manifestDigest}`);
    }
    const existing = this.find(configDigest);
    // A tag names one image: take it away from any other.
    for (const other of this.list()) {
      if (other.id === configDigest) continue;
      const kept = other.repoTags.filter((t) => !fullTags.includes(t));
      if (kept.length !== other.repoTags.length) this.#save({ ...other, repoTags: kept });
    }
    let size = (await this.content.size(manifest.config.digest)) ?? 0;
    for (const l of manifest.layers) size += await this.content.size(l.digest);
    const record: ImageRecord = {
      id: configDigest,
      repoTags: [...new Set([...(existing?.repoTags ?? []), ...fullTags])],
      repoDigests: [...new Set([...(existing?.repoDigests ?? []), ...digests])],
      manifestDigest,
      layers: manifest.layers.map((l: any) => ({ digest: l.digest, mediaType: l.mediaType, size: l.size })),
      diffIds,
      chainIds: chain,
      size,
      config: config.config ?? {},
    };
    this.#save(record);
    return record;
  }

  #save(record: ImageRecord): void {
    const file = path.join(this.#imagesDir, `${record.id.slice(7)}.json`);
    const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(record, null, 1));
    fs.renameSync(tmp, file);
  }

  /**
   * Removes an image and the blobs and snapshots no other image uses (snapshots in
   * `inUse`, lower layers of existing containers, stay).
   */
  async remove(ref: string, inUse: Set<string> = new Set()): Promise<void> {
    const img = this.find(ref);
    if (!img) return;
    await fsp.rm(path.join(this.#imagesDir, `${img.id.slice(7)}.json`), { force: true });
    const others = this.list();
    const blobsKept = new Set(
      others.flatMap((o) => [o.id, o.manifestDigest, ...o.layers.map((l) => l.digest)]),
    );
    const snapsKept = new Set([...others.flatMap((o) => o.chainIds), ...inUse]);
    for (const d of [img.id, img.manifestDigest, ...img.layers.map((l) => l.digest)]) {
      if (d && !blobsKept.has(d)) await this.content.remove(d);
    }
    for (const c of img.chainIds) {
      if (!snapsKept.has(c)) await fsp.rm(this.snapshotPath(c), { recursive: true, force: true });
    }
  }
}

/** Picks linux/amd64 from an index's manifest descriptors. */
export function pickPlatform(manifests: any[]): any | undefined {
  return (
    manifests.find((m) => m.platform?.os === 'linux' && m.platform?.architecture === 'amd64') ??
    manifests.find((m) => !m.platform)
  );
}
