/**
 * Image archives as OCI image layouts, so one push path serves them all: an OCI layout
 * directory is used in place; an OCI layout tar is unpacked; a docker-archive tarball
 * (`docker save`: manifest.json, config JSON, layer tars) is unpacked and rewritten as a layout
 * with an OCI manifest over the same config and layer bytes, so the image ID stays the same.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { type Descriptor, type ImageIndex, MediaType } from './distribution.ts';
import { RegistryError } from './errors.ts';
import { digestFile } from './storage.ts';

/** One image an archive holds: its descriptor in the layout's index and the name it carries. */
export interface ArchivedImage {
  descriptor: Descriptor;
  /** `io.containerd.image.name`, a full `org.opencontainers.image.ref.name`, or a docker RepoTag */
  name?: string;
}

export interface ImageLayout {
  /** the OCI layout directory */
  layout: string;
  images: ArchivedImage[];
}

const exists = async (p: string) => (await stat(p).catch(() => undefined)) !== undefined;

/** Unpacks regular files of a tar under `dir`, refusing paths that leave it. */
async function untar(file: string, dir: string): Promise<void> {
  const extract = tar.extract();
  extract.on('entry', (h, stream, next) => {
    const name = posix.normalize(h.name).replace(/^(\.\/)+/, '');
    if (
      (h.type !== 'file' && h.type !== 'contiguous-file') ||
      name.startsWith('..') ||
      posix.isAbsolute(name)
    ) {
      stream.resume();
      stream.on('end', next);
      return;
    }
    const target = join(dir, name);
    mkdir(join(target, '..'), { recursive: true })
      .then(() => pipeline(stream, createWriteStream(target)))
      .then(() => next(), next);
  });
  await pipeline(createReadStream(file), extract);
}

async function layoutImages(layout: string): Promise<ArchivedImage[]> {
  const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as ImageIndex;
  return (index.manifests ?? []).map((d) => {
    const a = d.annotations ?? {};
    const refName = a['org.opencontainers.image.ref.name'];
    const name = a['io.containerd.image.name'] ?? (refName?.includes('/') ? refName : undefined);
    return { descriptor: d, name };
  });
}

async function blobFromFile(layout: string, file: string): Promise<{ digest: string; size: number }> {
  const digest = await digestFile(file);
  const target = join(layout, 'blobs', 'sha256', digest.slice(7));
  await rename(file, target);
  return { digest, size: (await stat(target)).size };
}

async function blobFromBytes(
  layout: string,
  bytes: Buffer,
  name: string,
): Promise<{ digest: string; size: number }> {
  const tmp = join(layout, name);
  await writeFile(tmp, bytes);
  return blobFromFile(layout, tmp);
}

/** Rewrites an unpacked docker archive in `dir` as an OCI layout in the same directory. */
async function dockerToLayout(dir: string): Promise<ArchivedImage[]> {
  const entries = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as {
    Config: string;
    RepoTags?: string[] | null;
    Layers: string[];
  }[];
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  const images: ArchivedImage[] = [];
  for (const [i, e] of entries.entries()) {
    const configBytes = await readFile(join(dir, e.Config));
    const config = await blobFromBytes(dir, configBytes, `.config-${i}`);
    const layers: Descriptor[] = [];
    for (const l of e.Layers) {
      const file = join(dir, l);
      const head = Buffer.alloc(2);
      const fh = await open(file);
      await fh.read(head, 0, 2, 0);
      await fh.close();
      const gz = head[0] === 0x1f && head[1] === 0x8b;
      const copy = join(dir, `.layer-${i}-${layers.length}`);
      await pipeline(createReadStream(file), createWriteStream(copy)); // a layer may be listed twice
      const b = await blobFromFile(dir, copy);
      layers.push({ mediaType: gz ? MediaType.ociLayerTarGzip : MediaType.ociLayerTar, ...b });
    }
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        config: { mediaType: MediaType.ociConfig, ...config },
        layers,
      }),
    );
    const m = await blobFromBytes(dir, manifest, `.manifest-${i}`);
    const name = e.RepoTags?.[0];
    images.push({
      descriptor: {
        mediaType: MediaType.ociManifest,
        ...m,
        ...(name ? { annotations: { 'io.containerd.image.name': name } } : {}),
      },
      name,
    });
  }
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: images.map((i) => i.descriptor),
  };
  await writeFile(join(dir, 'index.json'), JSON.stringify(index));
  return images;
}

/**
 * Opens `file` (OCI layout directory, OCI layout tar, or docker-archive tar) as an OCI layout.
 * Tars are unpacked into `scratch` (a directory the caller creates and removes).
 */
export async function openImageArchive(file: string, scratch: string): Promise<ImageLayout> {
  const st = await stat(file).catch(() => undefined);
  if (!st) throw new RegistryError('NAME_UNKNOWN', `${file}: no such file or directory`);
  let dir = file;
  if (!st.isDirectory()) {
    try {
      await untar(file, scratch);
    } catch (e) {
      throw new RegistryError('UNSUPPORTED', `${file}: not a tar archive (${(e as Error).message})`);
    }
    dir = scratch;
  }
  if ((await exists(join(dir, 'oci-layout'))) && (await exists(join(dir, 'index.json')))) {
    return { layout: dir, images: await layoutImages(dir) };
  }
  if (!st.isDirectory() && (await exists(join(dir, 'manifest.json')))) {
    return { layout: dir, images: await dockerToLayout(dir) };
  }
  throw new RegistryError('UNSUPPORTED', `${file} is neither an OCI image layout nor a docker archive`);
}
