/**
 * Content negotiation: which body codec a request uses and which form a response takes
 * (JSON, YAML, protobuf, or a server-side `Table`).
 */
import YAML from 'yaml';
import { badRequest, StatusError } from '../api/errors.ts';
import type { KubeObject } from '../api/resource.ts';

export const JSON_TYPE = 'application/json';
export const YAML_TYPE = 'application/yaml';
export const PROTOBUF_TYPE = 'application/vnd.kubernetes.protobuf';

export interface MediaRange {
  type: string;
  params: Record<string, string>;
}

export function parseAccept(header: string | undefined): MediaRange[] {
  if (!header) return [{ type: '*/*', params: {} }];
  return header.split(',').map((part) => {
    const [type, ...ps] = part.split(';').map((s) => s.trim());
    const params: Record<string, string> = {};
    for (const p of ps) {
      const i = p.indexOf('=');
      if (i > 0) params[p.slice(0, i).trim()] = p.slice(i + 1).trim();
    }
    return { type: type.toLowerCase(), params };
  });
}

/** An optional protobuf codec (src/api/protobuf), plugged in when it is available. */
export interface ProtobufCodec {
  decodeObject(bytes: Uint8Array): KubeObject;
  encodeObject(obj: KubeObject): Uint8Array;
}

export type ResponseForm = { codec: 'json' | 'yaml' | 'protobuf'; table: boolean; partial: boolean };

/**
 * Forms already chosen, by Accept header: clients send the same few headers on every
 * request. Frozen, since every request with that header shares the answer.
 */
const chosen = new Map<string, Readonly<ResponseForm>>();
const CHOSEN_MAX = 256;

/** Pick the response form from an Accept header; 406 when nothing acceptable is offered. */
export function negotiate(accept: string | undefined, protobuf: boolean): ResponseForm {
  const key = `${protobuf ? 'p' : 'n'}${accept ?? ''}`;
  let form = chosen.get(key);
  if (!form) {
    form = Object.freeze(choose(accept, protobuf)); // throws NotAcceptable, which is not remembered
    if (chosen.size >= CHOSEN_MAX) chosen.clear();
    chosen.set(key, form);
  }
  return form as ResponseForm;
}

function choose(accept: string | undefined, protobuf: boolean): ResponseForm {
  const ranges = parseAccept(accept);
  // JSON is preferred whenever it is acceptable: protobuf answers only clients that take nothing else.
  let wantsProtobuf = false;
  for (const r of ranges) {
    const as = r.params.as;
    const isJsonish = r.type === JSON_TYPE || r.type === '*/*' || r.type === 'application/*';
    if (as === 'Table' && (r.params.g ?? 'meta.k8s.io') === 'meta.k8s.io') {
      if (isJsonish) return { codec: 'json', table: true, partial: false };
      if (r.type === YAML_TYPE) return { codec: 'yaml', table: true, partial: false };
      continue;
    }
    if (as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') {
      if (isJsonish) return { codec: 'json', table: false, partial: true };
      continue;
    }
    if (as) continue;
    if (isJsonish) return { codec: 'json', table: false, partial: false };
    if (r.type === YAML_TYPE) return { codec: 'yaml', table: false, partial: false };
    if (r.type === PROTOBUF_TYPE && protobuf) wantsProtobuf = true;
  }
  if (wantsProtobuf) return { codec: 'protobuf', table: false, partial: false };
  throw new StatusError(
    'NotAcceptable',
    `only the following media types are accepted: ${JSON_TYPE}, ${YAML_TYPE}${protobuf ? `, ${PROTOBUF_TYPE}` : ''}`,
  );
}

/** Decode a request body by its Content-Type. */
export function decodeBody(body: Buffer, contentType: string | undefined, protobuf?: ProtobufCodec): unknown {
  const type = (contentType ?? JSON_TYPE).split(';')[0].trim().toLowerCase();
  if (type === PROTOBUF_TYPE) {
    if (!protobuf) throw unsupported(type);
    try {
      return protobuf.decodeObject(body);
    } catch (e) {
      throw badRequest(`unable to decode protobuf body: ${(e as Error).message}`);
    }
  }
  const text = body.toString('utf8');
  if (
    type === JSON_TYPE ||
    type === '' ||
    type === 'application/merge-patch+json' ||
    type === 'application/json-patch+json' ||
    type === 'application/strategic-merge-patch+json'
  ) {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw badRequest(
        `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml; error: ${(e as Error).message}`,
      );
    }
  }
  if (
    type === YAML_TYPE ||
    type === 'application/apply-patch+yaml' ||
    type === 'application/apply-patch+json' ||
    type === 'text/yaml' ||
    type === 'application/x-yaml'
  ) {
    try {
      return YAML.parse(text, { uniqueKeys: false });
    } catch (e) {
      throw badRequest(`error converting YAML to JSON: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  throw unsupported(type);
}

function unsupported(type: string): StatusError {
  return new StatusError(
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got ${type})`,
  );
}
