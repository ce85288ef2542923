/**
 * The OCI Distribution Specification (v1.1) as Skiff's registry and client speak it.
 *
 * A registry holds *repositories* (`library/busybox`). A repository holds *blobs* (layers and
 * configs, opaque bytes) and *manifests* (JSON documents that reference blobs or other manifests),
 * all addressed by *digest* (`sha256:<hex>` of the exact bytes). A *tag* is a mutable name for one
 * manifest. Every API path starts at `/v2/`:
 *
 *   GET    /v2/                                    is this a registry? (200)
 *   HEAD   /v2/<name>/blobs/<digest>               blob exists? size in Content-Length
 *   GET    /v2/<name>/blobs/<digest>               blob bytes (Range: bytes=a-b honoured)
 *   DELETE /v2/<name>/blobs/<digest>               unlink from the repository (202)
 *   POST   /v2/<name>/blobs/uploads/               start an upload (202 + Location); with
 *                                                   ?digest= and a body, a one-shot upload (201);
 *                                                   with ?mount=<digest>&from=<repo>, a mount (201)
 *   PATCH  <location>                              append a chunk (Content-Range: <start>-<end>)
 *   PUT    <location>?digest=<digest>              finish (optionally with the last bytes); the
 *                                                   registry verifies the digest (DIGEST_INVALID)
 *   GET    <location>                              upload progress in Range: 0-<last byte>
 *   DELETE <location>                              cancel
 *   HEAD|GET|PUT|DELETE /v2/<name>/manifests/<tag or digest>
 *   GET    /v2/<name>/tags/list?n=<count>&last=<tag>   lexical order, Link header for the next page
 *   GET    /v2/<name>/referrers/<digest>?artifactType=  an image index of manifests whose
 *                                                   `subject` is <digest>
 *
 * Failures answer `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"…","detail":…}]}`.
 */

export const MediaType = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerTarGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerTar: 'application/vnd.oci.image.layer.v1.tar',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
} as const;

/** Manifest media types that reference blobs (config + layers). */
export const IMAGE_MANIFEST_TYPES: readonly string[] = [MediaType.ociManifest, MediaType.dockerManifest];
/** Manifest media types that reference other manifests. */
export const INDEX_TYPES: readonly string[] = [MediaType.ociIndex, MediaType.dockerManifestList];

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string; variant?: string; [k: string]: unknown };
  urls?: string[];
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export type ErrorCode =
  | 'BLOB_UNKNOWN'
  | 'BLOB_UPLOAD_INVALID'
  | 'BLOB_UPLOAD_UNKNOWN'
  | 'DIGEST_INVALID'
  | 'MANIFEST_BLOB_UNKNOWN'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'NAME_INVALID'
  | 'NAME_UNKNOWN'
  | 'SIZE_INVALID'
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'UNSUPPORTED'
  | 'TOOMANYREQUESTS'
  | 'RANGE_INVALID';

/** Repository names: lower-case components separated by `/`, as the distribution spec defines them. */
export const NAME_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
export const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
export const DIGEST_RE = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;
