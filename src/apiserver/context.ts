/**
 * One API request in flight: what it names, who sent it, and how to answer it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import YAML from 'yaml';
import { badRequest, StatusError } from '../api/errors.ts';
import type { KubeObject, ResourceDef, ResourceRegistry } from '../api/resource.ts';
import type { Auth } from './auth/index.ts';
import type { KubeletClientOptions } from './handlers/kubelet.ts';
import { decodeBody, negotiate, type ProtobufCodec, type ResponseForm } from './negotiation.ts';
import type { Objects } from './objects.ts';
import type { RequestInfo } from './request-info.ts';
import type { ServiceIpAllocator } from './service-ips/index.ts';
import { toTable } from './table.ts';

export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export interface User {
  name: string;
  groups: string[];
  /** Service-account users carry the account's uid; impersonation may set one. */
  uid?: string;
  extra?: Record<string, string[]>;
}

/** What handlers share: the registry, the objects, optional codecs and hooks. */
export interface ServerParts {
  registry: ResourceRegistry;
  objects: Objects;
  protobuf?: ProtobufCodec;
  /** Patch functions from src/apiserver/patch, when present. */
  patch?: PatchEngine;
  /** Bearer tokens, impersonation, RBAC and service-account tokens (src/apiserver/auth), when enabled. */
  auth?: Auth;
  /** How pods/log, exec, attach and portforward reach node agents (default plain HTTP). */
  kubelet?: KubeletClientOptions;
  /** Cluster IPs and node ports of Services (src/apiserver/service-ips), when allocated here. */
  serviceIps?: ServiceIpAllocator;
}

/** The shape we use of src/apiserver/patch; every function returns a new object. */
export interface PatchEngine {
  jsonPatch(obj: KubeObject, patch: unknown): KubeObject;
  mergePatch(obj: KubeObject, patch: unknown): KubeObject;
  strategicMergePatch(
    obj: KubeObject,
    patch: unknown,
    def: ResourceDef,
    registry: ResourceRegistry,
  ): KubeObject;
  apply?(
    live: KubeObject | undefined,
    config: KubeObject,
    opts: { manager: string; force: boolean; def: ResourceDef; registry: ResourceRegistry },
  ): KubeObject;
  /** managedFields for an ordinary write (create, update, non-apply patch, scale). */
  recordUpdate?(
    old: KubeObject | undefined,
    updated: KubeObject,
    opts: { manager: string; def: ResourceDef; registry: ResourceRegistry; subresource?: string },
  ): KubeObject;
}

/** Records a write's field ownership into the object about to be stored. */
export type ManageFields = (old: KubeObject | undefined, updated: KubeObject) => KubeObject;

export class Ctx {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly query: URLSearchParams;
  readonly info: RequestInfo;
  readonly def: ResourceDef;
  readonly parts: ServerParts;
  readonly user: User;
  readonly warnings: string[] = [];

  constructor(
    req: IncomingMessage,
    res: ServerResponse,
    query: URLSearchParams,
    info: RequestInfo,
    def: ResourceDef,
    parts: ServerParts,
    user: User,
  ) {
    this.req = req;
    this.res = res;
    this.query = query;
    this.info = info;
    this.def = def;
    this.parts = parts;
    this.user = user;
  }

  get namespace(): string | undefined {
    return this.def.namespaced ? this.info.namespace : undefined;
  }

  get dryRun(): boolean {
    return this.query.getAll('dryRun').includes('All');
  }

  form(): ResponseForm {
    return negotiate(this.req.headers.accept, !!this.parts.protobuf);
  }

  async body(): Promise<unknown> {
    const raw = await readBody(this.req);
    if (raw.length === 0) throw badRequest('the request body is empty');
    return decodeBody(raw, this.req.headers['content-type'], this.parts.protobuf);
  }

  /** The body as an object (not an array, string or null). */
  async objectBody(): Promise<KubeObject> {
    const b = await this.body();
    if (!b || typeof b !== 'object' || Array.isArray(b)) {
      throw badRequest('the request body must be a JSON or YAML object');
    }
    return b as KubeObject;
  }

  send(code: number, obj: KubeObject): void {
    const form = this.form();
    let out: KubeObject = obj;
    if (form.table) out = toTable(this.def, obj, this.query.get('includeObject'), new Date());
    writeObject(this.res, code, out, form, this.parts.protobuf, this.warnings);
  }
}

export function writeObject(
  res: ServerResponse,
  code: number,
  obj: unknown,
  form: ResponseForm = { codec: 'json', table: false, partial: false },
  protobuf?: ProtobufCodec,
  warnings: string[] = [],
): void {
  const pb = form.codec === 'protobuf' && protobuf ? tryEncode(protobuf, obj) : undefined;
  let body: string | Uint8Array;
  let type: string;
  if (pb) {
    body = pb;
    type = 'application/vnd.kubernetes.protobuf';
  } else if (form.codec === 'yaml') {
    body = YAML.stringify(obj);
    type = 'application/yaml';
  } else {
    body = JSON.stringify(obj);
    type = 'application/json';
  }
  writeBody(res, code, type, body, warnings);
}

/** One response with its length known up front, so it goes out in one write, not chunked. */
export function writeBody(
  res: ServerResponse,
  code: number,
  type: string,
  body: string | Uint8Array,
  warnings: string[] = [],
): void {
  // a flat [name, value, ...] list: node:http takes it without walking an object's keys
  const headers: string[] = [
    'Content-Type',
    type,
    'Cache-Control',
    'no-cache, private',
    'Content-Length',
    String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength),
  ];
  for (const w of warnings) headers.push('Warning', `299 - ${JSON.stringify(w)}`);
  res.writeHead(code, headers);
  if (typeof body !== 'string' || body.length <= LARGE_BODY) res.end(body);
  else writeInPieces(res, body);
}

/** Bodies longer than this (in UTF-16 units) go out in pieces of this size. */
const LARGE_BODY = 256 * 1024;

/**
 * A large body (a list of thousands of objects) written a piece at a time as the client
 * reads it: written at once, the whole text would wait in native memory twice over (as
 * UTF-8 and as TLS records) for a slow reader, and the allocator keeps that memory.
 */
function writeInPieces(res: ServerResponse, body: string): void {
  let at = 0;
  const pump = (): void => {
    while (at < body.length) {
      let end = Math.min(at + LARGE_BODY, body.length);
      const last = body.charCodeAt(end - 1);
      if (last >= 0xd800 && last <= 0xdbff && end < body.length) end++; // keep a surrogate pair whole
      const more = res.write(body.slice(at, end));
      at = end;
      if (!more && at < body.length) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

function tryEncode(protobuf: ProtobufCodec, obj: unknown): Uint8Array | undefined {
  try {
    return protobuf.encodeObject(obj as KubeObject);
  } catch {
    return undefined; // a kind the codec does not know goes out as JSON
  }
}

export function writeError(res: ServerResponse, e: unknown): void {
  const err = e instanceof StatusError ? e : undefined;
  if (!err) console.error('apiserver: internal error:', e);
  const status = err
    ? err.toStatus()
    : new StatusError(
        'InternalError',
        `Internal error occurred: ${(e as Error)?.message ?? String(e)}`,
      ).toStatus();
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status.code, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  res.end(JSON.stringify(status));
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY_BYTES) {
      req.resume();
      reject(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        req.removeAllListeners('data');
        req.resume();
        reject(tooLarge());
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function tooLarge(): StatusError {
  return new StatusError('RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
}
