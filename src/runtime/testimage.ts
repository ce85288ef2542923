/**
 * A small real image for tests, built offline from Debian's busybox-static: `/bin/busybox` plus
 * applet symlinks, /etc/passwd and /etc/group (root and nobody), /tmp. Written as an OCI image
 * layout (directory and tar) and a docker-archive tarball, all named `skiff.local/busybox:1.35`.
 *
 *   const img = await buildTestImage(await fs.mkdtemp(...));
 *   await cri... import img.dockerArchive   // or ctr images import img.ociTar
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';

export const TEST_IMAGE = 'skiff.local/busybox:1.35';
export const BUSYBOX = '/bin/busybox';

const APPLETS = [
  'sh',
  'ash',
  'ls',
  'cat',
  'echo',
  'env',
  'sleep',
  'httpd',
  'wget',
  'nc',
  'id',
  'ps',
  'mount',
  'hostname',
  'ip',
  'nslookup',
  'true',
  'false',
  'test',
  'mkdir',
  'rm',
  'touch',
  'grep',
  'head',
  'tail',
  'sed',
  'awk',
  'printf',
  'kill',
  'whoami',
  'date',
  'dd',
  'cp',
  'mv',
  'ln',
  'chmod',
  'chown',
  'wc',
  'sort',
  'uname',
  'df',
  'free',
  'tar', // kubectl cp runs tar in the container
  'top',
  'ping',
  'ifconfig',
  'route',
  'netstat',
  'vi',
  'find',
  'xargs',
  'tr',
  'cut',
  'seq',
  'yes',
  'tee',
  'stat',
  'readlink',
  'pwd',
  'basename',
  'dirname',
  'expr',
  'timeout',
  'nohup',
  'ulimit',
  'umount',
];

export interface TestImage {
  name: string;
  /** OCI image layout directory */
  ociDir: string;
  /** the same layout as a tar file (what `ctr images import` takes) */
  ociTar: string;
  /** `docker save` format tarball */
  dockerArchive: string;
  /** sha256:… of the image config: the image ID */
  configDigest: string;
  manifestDigest: string;
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function packToBuffer(fill: (p: tar.Pack) => Promise<void> | void): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c) => {
    chunks.push(c as Buffer);
  });
  const done = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  await fill(pack);
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

function entry(pack: tar.Pack, header: Partial<tar.Header> & { name: string }, body?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const h = { ...header, uid: 0, gid: 0, mtime: new Date(0) };
    const cb = (err?: Error | null) => (err ? reject(err) : resolve());
    if (body === undefined) pack.entry(h, cb);
    else pack.entry(h, body, cb);
  });
}

async function buildLayer(): Promise<Buffer> {
  const busybox = await fs.readFile(BUSYBOX);
  return packToBuffer(async (p) => {
    for (const d of ['bin', 'etc', 'root', 'proc', 'sys', 'dev', 'home', 'var', 'usr']) {
      await entry(p, { name: `${d}/`, type: 'directory', mode: 0o755 });
    }
    await entry(p, { name: 'tmp/', type: 'directory', mode: 0o1777 });
    await entry(p, { name: 'bin/busybox', type: 'file', mode: 0o755 }, busybox);
    for (const a of APPLETS)
      await entry(p, { name: `bin/${a}`, type: 'symlink', linkname: 'busybox', mode: 0o777 });
    const passwd = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n';
    const group = 'root:x:0:\nnogroup:x:65534:\nnobody:x:65534:\n';
    await entry(p, { name: 'etc/passwd', type: 'file', mode: 0o644 }, Buffer.from(passwd));
    await entry(p, { name: 'etc/group', type: 'file', mode: 0o644 }, Buffer.from(group));
  });
}

export interface TestImageOptions {
  /** the reference (default `skiff.local/busybox:1.35`); files are named after its repository */
  name?: string;
  entrypoint?: string[];
  /** default `["sh"]` */
  cmd?: string[];
}

/**
 * Builds the image's three forms under `dir` (which must exist). Options make other images
 * from the same layer, e.g. a pause image for containerd:
 *
 *   buildTestImage(dir, { name: 'skiff.local/pause:1', entrypoint: ['sleep', '2147483647'], cmd: [] })
 */
export async function buildTestImage(dir: string, opts: TestImageOptions = {}): Promise<TestImage> {
  const name = opts.name ?? TEST_IMAGE;
  const slug = name === TEST_IMAGE ? 'busybox' : name.replace(/[:@].*$/, '').replace(/[^a-zA-Z0-9]+/g, '-');
  const tag = /:([^:/@]+)$/.exec(name)?.[1] ?? 'latest';
  const layerTar = await buildLayer();
  const layerGz = gzipSync(layerTar);
  const diffId = sha256(layerTar);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created: '2024-01-01T00:00:00Z',
      config: {
        Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
        ...(opts.entrypoint ? { Entrypoint: opts.entrypoint } : {}),
        Cmd: opts.cmd ?? ['sh'],
      },
      rootfs: { type: 'layers', diff_ids: [diffId] },
      history: [{ created: '2024-01-01T00:00:00Z', created_by: 'skiff testimage' }],
    }),
  );
  const configDigest = sha256(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: configDigest,
        size: config.length,
      },
      layers: [
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
          digest: sha256(layerGz),
          size: layerGz.length,
        },
      ],
    }),
  );
  const manifestDigest = sha256(manifest);
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: manifestDigest,
          size: manifest.length,
          platform: { architecture: 'amd64', os: 'linux' },
          annotations: {
            'io.containerd.image.name': name,
            'org.opencontainers.image.ref.name': tag,
          },
        },
      ],
    }),
  );
  const layoutFiles: [string, Buffer][] = [
    ['oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}')],
    ['index.json', index],
    [`blobs/sha256/${configDigest.slice(7)}`, config],
    [`blobs/sha256/${manifestDigest.slice(7)}`, manifest],
    [`blobs/sha256/${sha256(layerGz).slice(7)}`, layerGz],
  ];
  const ociDir = path.join(dir, `${slug}-oci`);
  await fs.mkdir(path.join(ociDir, 'blobs', 'sha256'), { recursive: true });
  for (const [name, body] of layoutFiles) await fs.writeFile(path.join(ociDir, name), body);
  const ociTar = path.join(dir, `${slug}-oci.tar`);
  await fs.writeFile(
    ociTar,
    await packToBuffer(async (p) => {
      await entry(p, { name: 'blobs/', type: 'directory', mode: 0o755 });
      await entry(p, { name: 'blobs/sha256/', type: 'directory', mode: 0o755 });
      for (const [name, body] of layoutFiles) await entry(p, { name, type: 'file', mode: 0o644 }, body);
    }),
  );
  const layerName = `${diffId.slice(7)}/layer.tar`;
  const dockerManifest = Buffer.from(
    JSON.stringify([{ Config: `${configDigest.slice(7)}.json`, RepoTags: [name], Layers: [layerName] }]),
  );
  const dockerArchive = path.join(dir, `${slug}-docker.tar`);
  await fs.writeFile(
    dockerArchive,
    await packToBuffer(async (p) => {
      await entry(p, { name: `${configDigest.slice(7)}.json`, type: 'file', mode: 0o644 }, config);
      await entry(p, { name: `${diffId.slice(7)}/`, type: 'directory', mode: 0o755 });
      await entry(p, { name: layerName, type: 'file', mode: 0o644 }, layerTar);
      await entry(p, { name: 'manifest.json', type: 'file', mode: 0o644 }, dockerManifest);
    }),
  );
  return { name, ociDir, ociTar, dockerArchive, configDigest, manifestDigest };
}
