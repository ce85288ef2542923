import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar-stream';
import { execCommand } from './exec.ts';

/**
 * Makes the special files of a layer in one shell: overlayfs whiteouts (0/0 character devices),
 * opaque directories (the `trusted.overlay.opaque=y` xattr, set with `setfattr` from Debian's
 * `attr` package) and device nodes and FIFOs (Node has neither mknod nor setxattr). Arguments
 * come in fives: kind, path, major, minor, octal mode.
 */
const SPECIAL_NODES = `
while [ $# -ge 5 ]; do
  case "$1" in
    opaque) setfattr -n trusted.overlay.opaque -v y "$2" ;;
    whiteout) mknod "$2" c 0 0 ;;
    c|b) mknod -m "$5" "$2" "$1" "$3" "$4" ;;
    p) mknod -m "$5" "$2" p ;;
    *) echo "unknown special file kind $1" >&2; false ;;
  esac || exit 1
  shift 5
done
`;

type SpecialKind = 'opaque' | 'whiteout' | 'c' | 'b' | 'p';

async function makeSpecialFiles(special: [SpecialKind, string, number, number, number][]): Promise<void> {
  // Chunks keep the argument list well under the kernel's limit.
  for (let i = 0; i < special.length; i += 1000) {
    const args = special
      .slice(i, i + 1000)
      .flatMap(([kind, p, major, minor, mode]) => [kind, p, String(major), String(minor), mode.toString(8)]);
    const r = await execCommand('sh', ['-c', SPECIAL_NODES, 'sh', ...args]);
    if (r.exitCode !== 0) {
      const hint = /setfattr: not found|setfattr: No such/.test(r.stderr.toString())
        ? ' (install the Debian package "attr")'
        : '';
      throw new Error(`making special files failed: ${r.stderr.toString().trim()}${hint}`);
    }
  }
}

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
  const special: [SpecialKind, string, number, number, number][] = [];
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
          h.type === 'fifo' ? 'p' : h.type === 'block-device' ? 'b' : 'c',
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
  await makeSpecialFiles(special);
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
