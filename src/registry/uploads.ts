import { rename, rm } from 'node:fs/promises';
import { DIGEST_RE } from './distribution.ts';
import { RegistryError } from './errors.ts';
import { type Ctx, drain, send } from './http.ts';
import { digestFile } from './storage.ts';

function location(name: string, id: string): string {
  return `/v2/${name}/blobs/uploads/${id}`;
}

function progress(name: string, id: string, size: number): Record<string, string | number> {
  // Range is inclusive; an empty upload reports 0-0 as registries conventionally do.
  return { Location: location(name, id), Range: `0-${Math.max(0, size - 1)}`, 'Docker-Upload-UUID': id };
}

function wantedDigest(c: Ctx): string {
  const digest = c.url.searchParams.get('digest');
  if (!digest || !DIGEST_RE.test(digest)) {
    throw new RegistryError('DIGEST_INVALID', `missing or invalid digest parameter ${digest ?? ''}`.trim());
  }
  return digest;
}

/** Hashes the upload file, and on a match moves it into the store; on a mismatch discards it. */
async function finish(c: Ctx, file: string, digest: string): Promise<void> {
  const actual = await digestFile(file, digest.split(':')[0]);
  if (actual !== digest) {
    await rm(file, { force: true });
    throw new RegistryError('DIGEST_INVALID', `provided digest ${digest} does not match content ${actual}`, {
      expected: digest,
      actual,
    });
  }
  await c.storage.commitBlob(c.name, file, digest);
  send(c.res, 201, { Location: `/v2/${c.name}/blobs/${digest}`, 'Docker-Content-Digest': digest });
}

/** POST /v2/<name>/blobs/uploads/: start, one-shot (?digest=), or mount (?mount=&from=). */
export async function startUpload(c: Ctx): Promise<void> {
  const mount = c.url.searchParams.get('mount');
  if (mount) {
    await drain(c.req);
    const from = c.url.searchParams.get('from');
    if (DIGEST_RE.test(mount) && from && (await c.storage.blobSize(from, mount)) !== undefined) {
      await c.storage.linkBlob(c.name, mount);
      send(c.res, 201, { Location: `/v2/${c.name}/blobs/${mount}`, 'Docker-Content-Digest': mount });
      return;
    }
    // Cannot mount: fall back to a normal upload session, as the spec allows.
  }
  if (!mount && c.url.searchParams.has('digest')) {
    const digest = wantedDigest(c);
    const file = c.storage.tmpPath();
    const id = await c.storage.createUpload(c.name);
    try {
      await c.storage.appendUpload(id, c.req);
      await finishMoved(c, id, file, digest);
    } finally {
      await c.storage.deleteUpload(id);
    }
    return;
  }
  if (!mount) await drain(c.req);
  const id = await c.storage.createUpload(c.name);
  send(c.res, 202, progress(c.name, id, 0));
}

async function finishMoved(c: Ctx, id: string, file: string, digest: string) {
  await rename(c.storage.uploadPath(id), file);
  await finish(c, file, digest);
}

async function sizeOf(c: Ctx): Promise<number> {
  const size = await c.storage.uploadSize(c.name, c.ref);
  if (size === undefined) {
    await drain(c.req);
    throw new RegistryError('BLOB_UPLOAD_UNKNOWN', `upload ${c.ref} unknown to repository ${c.name}`);
  }
  return size;
}

/** PATCH: append a chunk; a Content-Range must start where the upload ends. */
export async function patchUpload(c: Ctx): Promise<void> {
  const size = await sizeOf(c);
  const range = c.req.headers['content-range'];
  if (range) {
    const m = /^(?:bytes[ =])?(\d+)-(\d+)$/.exec(range.trim());
    if (!m || Number(m[1]) !== size || Number(m[2]) < Number(m[1])) {
      await drain(c.req);
      send(c.res, 416, progress(c.name, c.ref, size));
      return;
    }
  }
  await c.storage.appendUpload(c.ref, c.req);
  const after = await sizeOf(c);
  send(c.res, 202, progress(c.name, c.ref, after));
}

/** PUT: optional last chunk, then verify the digest and commit. */
export async function putUpload(c: Ctx): Promise<void> {
  await sizeOf(c);
  let digest: string;
  try {
    digest = wantedDigest(c);
  } catch (e) {
    await drain(c.req);
    throw e;
  }
  await c.storage.appendUpload(c.ref, c.req);
  const file = c.storage.tmpPath();
  try {
    await finishMoved(c, c.ref, file, digest);
  } finally {
    await c.storage.deleteUpload(c.ref);
  }
}

export async function getUpload(c: Ctx): Promise<void> {
  const size = await sizeOf(c);
  send(c.res, 204, progress(c.name, c.ref, size));
}

export async function cancelUpload(c: Ctx): Promise<void> {
  await sizeOf(c);
  await c.storage.deleteUpload(c.ref);
  send(c.res, 204);
}
