import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { type Descriptor, MediaType } from './distribution.ts';

/** Test helper: digest and descriptor of some bytes. */
export function describe(mediaType: string, bytes: Buffer): Descriptor {
  return {
    mediaType,
    digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
    size: bytes.length,
  };
}

async function tarOf(files: Record<string, string>): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    p.on('end', resolve);
    p.on('error', reject);
  });
  for (const [name, content] of Object.entries(files))
    p.entry({ name, mtime: new Date(0), mode: 0o644 }, content);
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

export interface TestImage {
  layer: Buffer;
  config: Buffer;
  manifest: Buffer;
  manifestDesc: Descriptor;
  layerDesc: Descriptor;
  configDesc: Descriptor;
}

/** A tiny single-layer image: a gzipped tar holding `files`, an OCI config and manifest. */
export async function testImage(files: Record<string, string>): Promise<TestImage> {
  const layer = gzipSync(await tarOf(files));
  const tar = await tarOf(files);
  const diffId = `sha256:${createHash('sha256').update(tar).digest('hex')}`;
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: [diffId] },
    }),
  );
  const layerDesc = describe(MediaType.ociLayerTarGzip, layer);
  const configDesc = describe(MediaType.ociConfig, config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: configDesc,
      layers: [layerDesc],
    }),
  );
  return {
    layer,
    config,
    manifest,
    manifestDesc: describe(MediaType.ociManifest, manifest),
    layerDesc,
    configDesc,
  };
}

/** Writes an OCI image layout holding `image` under the ref name `tag`. */
export async function writeLayout(dir: string, image: TestImage, tag: string): Promise<void> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  for (const [d, bytes] of [
    [image.layerDesc, image.layer],
    [image.configDesc, image.config],
    [image.manifestDesc, image.manifest],
  ] as const) {
    await writeFile(join(dir, 'blobs', 'sha256', d.digest.slice(7)), bytes);
  }
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const index = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: [{ ...image.manifestDesc, annotations: { 'org.opencontainers.image.ref.name': tag } }],
  };
  await writeFile(join(dir, 'index.json'), JSON.stringify(index));
}
