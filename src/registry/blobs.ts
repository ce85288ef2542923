import { DIGEST_RE } from './distribution.ts';
import { RegistryError } from './errors.ts';
import { type Ctx, send } from './http.ts';

function checkDigest(digest: string): void {
  if (!DIGEST_RE.test(digest)) throw new RegistryError('DIGEST_INVALID', `invalid digest ${digest}`);
}

/** `bytes=a-b`, `bytes=a-` or `bytes=-n` for one range; undefined when absent or unusable. */
function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'invalid' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start > end || start >= size) return 'invalid';
  return { start, end };
}

export async function getBlob(c: Ctx): Promise<void> {
  checkDigest(c.ref);
  const size = await c.storage.blobSize(c.name, c.ref);
  if (size === undefined)
    throw new RegistryError('BLOB_UNKNOWN', `blob ${c.ref} unknown to repository ${c.name}`, {
      digest: c.ref,
    });
  const headers: Record<string, string | number> = {
    'Content-Type': 'application/octet-stream',
    'Docker-Content-Digest': c.ref,
    'Accept-Ranges': 'bytes',
    ETag: `"${c.ref}"`,
  };
  const range = c.req.method === 'GET' ? parseRange(c.req.headers.range, size) : undefined;
  if (range === 'invalid') {
    send(c.res, 416, { 'Content-Range': `bytes */${size}` });
    return;
  }
  if (c.req.method === 'HEAD') {
    send(c.res, 200, { ...headers, 'Content-Length': size });
    return;
  }
  if (range) {
    c.res.writeHead(206, {
      ...headers,
      'Content-Length': range.end - range.start + 1,
      'Content-Range': `bytes ${range.start}-${range.end}/${size}`,
    });
  } else {
    c.res.writeHead(200, { ...headers, 'Content-Length': size });
  }
  const stream = c.storage.readBlob(c.ref, range);
  stream.on('error', () => c.res.destroy());
  stream.pipe(c.res);
}

export async function deleteBlob(c: Ctx): Promise<void> {
  checkDigest(c.ref);
  if (!(await c.storage.unlinkBlob(c.name, c.ref))) {
    throw new RegistryError('BLOB_UNKNOWN', `blob ${c.ref} unknown to repository ${c.name}`, {
      digest: c.ref,
    });
  }
  send(c.res, 202, { 'Docker-Content-Digest': c.ref });
}
