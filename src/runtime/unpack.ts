import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar-stream';

/** Overlayfs spellings of OCI whiteouts, made in one python3 call (Node has no mknod or setxattr). */
const SPECIAL_NODES = `
import json, os, stat, sys
for kind, p, major, minor, mode in json.load(sys.stdin):
    if kind == 'opaque':
        os.setxattr(p, 'trusted.overlay.opaque', b'y')
    elif kind == 'whiteout':
        os.mknod(p, stat.S_IFCHR, os.makedev(0, 0))
    else:
        t = {'char': stat.S_IFCHR, 'block': stat.S_IFBLK, 'fifo': stat.S_IFIFO}[kind]
        os.mknod(p, t | mode, os.makedev(major, minor))
`;

function safeJoin(root: string, name: string): string {
  const clean = path.posix.normalize(`/${name}`).replace(/\/+$/, '');
  if (clean.split('/').includes('..')) throw new Error(`layer entry escapes root: ${name}`);
  return path.join(root, clean);
}

/**
 * Unpacks one layer blob (tar, gzip-compressed or not) into `dir` as an overlayfs lower layer:
 * `.wh.<name>` becomes a 0/0 character device, `.wh..wh..opq` an opaque directory
 * (`trusted.overlay.opaque=y`). Returns the sha256 of the uncompressed tar (the layer's diff ID).
 */
export async function unpackLayer(blobPath: string, dir: string): Promise<string> {
  await fsp.mkdir(dir, { recursive: true });
  const head = Buffer.alloc(2);
  const fd = await fsp.open(blobPath, 'r');
  await fd.read(head, 0, 2, 0);
  await fd.close();
  const gz = head[0] === 0x1f && head[1] === 0x8b;
  const hash = createHash('sha256');
  const tap = new Transform({
    transform(chunk, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  const special: [string, string, number, number, number][] = [];
  const dirModes: [string, number, number, number][] = [];
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    handle(header, stream).then(
      () => next(),
      (err) => next(err),
    );
  });
  async function handle(h: tar.Header, stream: any): Promise<void> {
    const drain = async () => {
      for await (const _ of stream as AsyncIterable<unknown>);
    };
    const full = safeJoin(dir, h.name);
    const base = path.basename(full);
    const parent = path.dirname(full);
    if (base.startsWith('.wh.')) {
      await drain();
      await fsp.mkdir(parent, { recursive: true });
      if (base === '.wh..wh..opq') special.push(['opaque', parent, 0, 0, 0]);
      else special.push(['whiteout', path.join(parent, base.slice(4)), 0, 0, 0]);
      return;
    }
    if (full === dir) {
      await drain();
      return;
    }
    await fsp.mkdir(parent, { recursive: true });
    const uid = h.uid ?? 0;
    const gid = h.gid ?? 0;
    const mode = (h.mode ?? 0o644) & 0o7777;
    if (h.type !== 'directory') await fsp.rm(full, { force: true, recursive: true });
    switch (h.type) {
      case 'directory':
        await fsp.mkdir(full, { recursive: true });
        dirModes.push([full, mode, uid, gid]);
        await drain();
        return;
      case 'file':
      case 'contiguous-file':
        await pipeline(stream, fs.createWriteStream(full, { mode }));
        await fsp.chown(full, uid, gid);
        await fsp.chmod(full, mode);
        if (h.mtime) await fsp.utimes(full, h.mtime, h.mtime);
        return;
      case 'symlink':
        await drain();
        await fsp.symlink(h.linkname ?? '', full);
        await fsp.lchown(full, uid, gid);
        return;
      case 'link':
        await drain();
        await fsp.link(safeJoin(dir, h.linkname ?? ''), full);
        return;
      case 'character-device':
      case 'block-device':
      case 'fifo':
        await drain();
        special.push([
          h.type === 'fifo' ? 'fifo' : h.type === 'block-device' ? 'block' : 'char',
          full,
          h.devmajor ?? 0,
          h.devminor ?? 0,
          mode,
        ]);
        return;
      default:
        await drain();
    }
  }
  if (gz) await pipeline(fs.createReadStream(blobPath), createGunzip(), tap, extract);
  else await pipeline(fs.createReadStream(blobPath), tap, extract);
  // Directory modes last, so a read-only directory does not block its own contents.
  for (const [p, mode, uid, gid] of dirModes.reverse()) {
    await fsp.chown(p, uid, gid);
    await fsp.chmod(p, mode);
  }
  if (special.length > 0) {
    const child = execFile('python3', ['-c', SPECIAL_NODES]);
    child.stdin!.end(JSON.stringify(special));
    await new Promise<void>((resolve, reject) =>
      child.on('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`making special files failed (${code})`)),
      ),
    );
  }
  return `sha256:${hash.digest('hex')}`;
}

/** The chain IDs of a layer stack, per the OCI image spec: each names a layer and all below it. */
export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) {
    const prev = out.at(-1);
    out.push(prev ? `sha256:${createHash('sha256').update(`${prev} ${d}`).digest('hex')}` : d);
  }
  return out;
}
