import {
  type Descriptor,
  DIGEST_RE,
  IMAGE_MANIFEST_TYPES,
  type ImageIndex,
  type ImageManifest,
  INDEX_TYPES,
  TAG_RE,
} from './distribution.ts';
import { RegistryError } from './errors.ts';
import { type Ctx, readBody, send } from './http.ts';
import { digestBytes, type ManifestRecord } from './storage.ts';

const MAX_MANIFEST = 4 * 1024 * 1024;

/** The digest a tag or digest reference names in this repository, or MANIFEST_UNKNOWN. */
async function resolve(c: Ctx): Promise<ManifestRecord> {
  const unknown = () =>
    new RegistryError('MANIFEST_UNKNOWN', `manifest ${c.ref} unknown to repository ${c.name}`, {
      name: c.name,
      reference: c.ref,
    });
  const digest = DIGEST_RE.test(c.ref) ? c.ref : await c.storage.resolveTag(c.name, c.ref);
  if (!digest) throw unknown();
  const record = await c.storage.getManifest(c.name, digest);
  if (!record) throw unknown();
  return record;
}

function checkReference(ref: string): void {
  if (!DIGEST_RE.test(ref) && !TAG_RE.test(ref)) {
    throw new RegistryError('MANIFEST_INVALID', `reference ${ref} is neither a tag nor a digest`);
  }
}

export async function getManifest(c: Ctx): Promise<void> {
  checkReference(c.ref);
  const record = await resolve(c);
  const headers = {
    'Content-Type': record.mediaType,
    'Docker-Content-Digest': record.digest,
    ETag: `"${record.digest}"`,
    'Content-Length': record.size,
  };
  if (c.req.method === 'HEAD') {
    send(c.res, 200, headers);
    return;
  }
  send(c.res, 200, headers, await c.storage.readBlobBytes(record.digest));
}

function isDescriptor(d: unknown): d is Descriptor {
  const o = d as Descriptor;
  return (
    !!o &&
    typeof o === 'object' &&
    typeof o.mediaType === 'string' &&
    typeof o.digest === 'string' &&
    DIGEST_RE.test(o.digest) &&
    Number.isSafeInteger(o.size) &&
    o.size >= 0
  );
}

/** Parses and checks a manifest; every blob or manifest it references must already be in the repository. */
async function validate(
  c: Ctx,
  bytes: Buffer,
  contentType: string | undefined,
): Promise<Omit<ManifestRecord, 'digest' | 'size'>> {
  const invalid = (why: string) => new RegistryError('MANIFEST_INVALID', `manifest invalid: ${why}`);
  let doc: Partial<ImageManifest & ImageIndex>;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalid('not JSON');
  }
  if (!doc || typeof doc !== 'object' || doc.schemaVersion !== 2) throw invalid('schemaVersion must be 2');
  const type = (contentType?.split(';')[0].trim() || undefined) ?? doc.mediaType;
  if (!type) throw invalid('no media type in Content-Type or mediaType');
  if (doc.mediaType && doc.mediaType !== type)
    throw invalid(`mediaType ${doc.mediaType} differs from Content-Type ${type}`);
  if (doc.subject !== undefined && !isDescriptor(doc.subject)) throw invalid('subject is not a descriptor');
  const record: Omit<ManifestRecord, 'digest' | 'size'> = { mediaType: type };
  if (doc.subject) record.subject = doc.subject.digest;
  if (doc.annotations) record.annotations = doc.annotations;

  if (IMAGE_MANIFEST_TYPES.includes(type)) {
    if (!isDescriptor(doc.config)) throw invalid('config is not a descriptor');
    if (!Array.isArray(doc.layers) || !doc.layers.every(isDescriptor))
      throw invalid('layers must be descriptors');
    for (const d of [doc.config, ...doc.layers]) {
      if (d.urls?.length) continue; // foreign layers live elsewhere
      const size = await c.storage.blobSize(c.name, d.digest);
      if (size === undefined) {
        throw new RegistryError('MANIFEST_BLOB_UNKNOWN', `blob ${d.digest} unknown to repository ${c.name}`, {
          digest: d.digest,
        });
      }
      if (size !== d.size) throw invalid(`blob ${d.digest} is ${size} bytes, descriptor says ${d.size}`);
    }
    record.artifactType = doc.artifactType ?? doc.config.mediaType;
  } else if (INDEX_TYPES.includes(type)) {
    if (!Array.isArray(doc.manifests) || !doc.manifests.every(isDescriptor))
      throw invalid('manifests must be descriptors');
    for (const d of doc.manifests) {
      if (!(await c.storage.getManifest(c.name, d.digest))) {
        throw new RegistryError(
          'MANIFEST_BLOB_UNKNOWN',
          `manifest ${d.digest} unknown to repository ${c.name}`,
          { digest: d.digest },
        );
      }
    }
    if (doc.artifactType) record.artifactType = doc.artifactType;
  } else {
    throw new RegistryError('MANIFEST_INVALID', `unsupported manifest media type ${type}`, undefined, 415);
  }
  return record;
}

export async function putManifest(c: Ctx): Promise<void> {
  checkReference(c.ref);
  const bytes = await readBody(c.req, MAX_MANIFEST);
  const isDigest = DIGEST_RE.test(c.ref);
  const digest = digestBytes(bytes, isDigest ? c.ref.split(':')[0] : 'sha256');
  if (isDigest && digest !== c.ref) {
    throw new RegistryError('DIGEST_INVALID', `manifest digest ${digest} does not match reference ${c.ref}`);
  }
  const meta = await validate(c, bytes, c.req.headers['content-type']);
  await c.storage.putManifest(c.name, { ...meta, digest, size: bytes.length }, bytes);
  if (!isDigest) await c.storage.setTag(c.name, c.ref, digest);
  const headers: Record<string, string> = {
    Location: `/v2/${c.name}/manifests/${digest}`,
    'Docker-Content-Digest': digest,
  };
  if (meta.subject) headers['OCI-Subject'] = meta.subject;
  send(c.res, 201, headers);
}

/** DELETE by digest removes the manifest and its tags; DELETE by tag removes only the tag. */
export async function deleteManifest(c: Ctx): Promise<void> {
  checkReference(c.ref);
  if (DIGEST_RE.test(c.ref)) {
    await resolve(c);
    await c.storage.deleteManifest(c.name, c.ref);
  } else if (!(await c.storage.deleteTag(c.name, c.ref))) {
    throw new RegistryError('MANIFEST_UNKNOWN', `tag ${c.ref} unknown to repository ${c.name}`);
  }
  send(c.res, 202);
}
