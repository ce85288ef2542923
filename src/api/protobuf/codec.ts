/**
 * Converts between protobufjs messages (decoded through reflection) and the JSON form Go's
 * encoding/json would give the same Kubernetes object.
 *
 * Presence is what makes this work: protobufjs sets a decoded message's own property only for
 * fields on the wire, which is how a Go pointer (`*int32 replicas`) tells "set to 0" from "unset".
 * Non-pointer fields follow `omitempty`, and the well-known apimachinery types (Time, Quantity,
 * IntOrString, ...) have the custom JSON their Go MarshalJSON methods give them.
 */
import { createRequire } from 'node:module';
import type protobuf from 'protobufjs';
import { badRequest } from '../errors.ts';
import { ALIASES, type FieldDef, type MessageDef, parseSchema, toDescriptor } from './notation.ts';
import { PACKAGES } from './schema.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };
type Decoded = Record<string, unknown>;

const META = ALIASES.meta;
const TIME = `${META}.Time`;
const MICRO_TIME = `${META}.MicroTime`;
const DURATION = `${META}.Duration`;
const FIELDS_V1 = `${META}.FieldsV1`;
const QUANTITY = `${ALIASES.resource}.Quantity`;
const INT_OR_STRING = `${ALIASES.intstr}.IntOrString`;
const RAW_EXTENSION = `${ALIASES.runtime}.RawExtension`;
const APIEXT = 'k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1';
/** apiextensions' `JSON`: any JSON value, kept as its bytes. */
const ANY_JSON = `${APIEXT}.JSON`;
const SCHEMA_PROPS = `${APIEXT}.JSONSchemaProps`;
/** JSON Schema unions whose Go MarshalJSON writes whichever side is set. */
const SCHEMA_OR_ARRAY = `${APIEXT}.JSONSchemaPropsOrArray`;
const SCHEMA_OR_BOOL = `${APIEXT}.JSONSchemaPropsOrBool`;
const SCHEMA_OR_STRINGS = `${APIEXT}.JSONSchemaPropsOrStringArray`;
/** Go named slice types (`type ExtraValue []string`) whose message wraps `repeated string items`. */
const STRING_LISTS = new Set([
  'k8s.io.api.authentication.v1.ExtraValue',
  'k8s.io.api.authorization.v1.ExtraValue',
]);

// protobufjs (with long.js, ~400 KB of JavaScript) loads with the first codec, i.e. the first
// protobuf request or watch: a server that only sees JSON clients never holds its code.
const require = createRequire(import.meta.url);

const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/;

/** Decodes an embedded object found in a RawExtension that holds protobuf rather than JSON. */
export type EmbeddedDecoder = (bytes: Uint8Array) => Json;

export class MessageCodec {
  readonly #defs: Map<string, MessageDef>;
  readonly #root: protobuf.Root;

  constructor() {
    this.#defs = parseSchema(PACKAGES);
    const { Root } = require('protobufjs') as typeof protobuf;
    this.#root = Root.fromJSON(toDescriptor(this.#defs) as protobuf.INamespace);
    this.#root.resolveAll();
  }

  has(message: string): boolean {
    return this.#defs.has(message);
  }

  decode(message: string, bytes: Uint8Array): Decoded {
    return this.#root.lookupType(message).decode(bytes) as unknown as Decoded;
  }

  encode(message: string, value: Decoded): Uint8Array {
    return this.#root.lookupType(message).encode(value).finish();
  }

  /** The JSON object for a decoded message (or for an absent one, its Go zero value). */
  toJson(message: string, m: Decoded | undefined, embedded: EmbeddedDecoder): JsonObject {
    const def = this.#def(message);
    const out: JsonObject = {};
    for (const f of def.fields) {
      const present = m !== undefined && Object.hasOwn(m, f.name);
      const v = present ? m[f.name] : undefined;
      if (f.repeated) {
        const list = (v as unknown[] | undefined) ?? [];
        if (list.length > 0) out[f.json] = list.map((e) => this.#valueToJson(f, e, embedded));
        else if (f.always) out[f.json] = null;
      } else if (f.map) {
        const entries = Object.entries((v as Decoded | undefined) ?? {});
        if (entries.length > 0) {
          const obj: JsonObject = {};
          for (const [k, e] of entries) setOwn(obj, k, this.#valueToJson(f, e, embedded));
          out[f.json] = obj;
        } else if (f.always) out[f.json] = null;
      } else if (f.inline) {
        Object.assign(out, this.toJson(f.type, v as Decoded | undefined, embedded));
      } else if (f.pointer) {
        if (present) out[f.json] = this.#valueToJson(f, v, embedded);
      } else if (f.scalar) {
        const json = scalarToJson(f.type, present ? v : undefined);
        if (f.always || !isZeroScalar(json)) out[f.json] = json;
      } else {
        const json = this.#valueToJson(f, v, embedded);
        const zero =
          json === null ||
          (typeof json === 'object' && !Array.isArray(json) && Object.keys(json).length === 0);
        if (!(f.omitzero && zero)) out[f.json] = json;
      }
    }
    return out;
  }

  /** The plain object protobufjs encodes for a JSON object of the given message. */
  fromJson(message: string, obj: JsonObject, path: string): Decoded {
    const def = this.#def(message);
    const out: Decoded = {};
    for (const f of def.fields) {
      if (f.inline) {
        const sub = this.fromJson(f.type, obj, path);
        if (Object.keys(sub).length > 0) out[f.name] = sub;
        continue;
      }
      const v = Object.hasOwn(obj, f.json) ? obj[f.json] : undefined;
      if (v === undefined || v === null) continue;
      const at = `${path}.${f.json}`;
      if (f.repeated) {
        if (!Array.isArray(v)) throw badRequest(`${at}: expected an array`);
        out[f.name] = v.map((e, i) => this.#valueFromJson(f, e, `${at}[${i}]`));
      } else if (f.map) {
        if (!isObject(v)) throw badRequest(`${at}: expected an object`);
        const entries: Decoded = {};
        for (const [k, e] of Object.entries(v)) setOwn(entries, k, this.#valueFromJson(f, e, `${at}.${k}`));
        out[f.name] = entries;
      } else {
        out[f.name] = this.#valueFromJson(f, v, at);
      }
    }
    return out;
  }

  #def(message: string): MessageDef {
    const def = this.#defs.get(message);
    if (!def) throw badRequest(`protobuf: no message ${message}`);
    return def;
  }

  #valueToJson(f: FieldDef, v: unknown, embedded: EmbeddedDecoder): Json {
    if (f.scalar) return scalarToJson(f.type, v);
    const m = v as Decoded | undefined;
    const has = (name: string) => m !== undefined && m !== null && Object.hasOwn(m, name);
    switch (f.type) {
      case TIME:
      case MICRO_TIME: {
        if (!has('seconds') && !has('nanos')) return null;
        return formatTime(toNumber(m?.seconds), toNumber(m?.nanos), f.type === MICRO_TIME);
      }
      case DURATION:
        return formatDuration(toNumber(m?.duration));
      case QUANTITY:
        return has('string') && m?.string !== '' ? String(m?.string) : '0';
      case INT_OR_STRING:
        return toNumber(m?.type) === 1 ? String(m?.strVal ?? '') : toNumber(m?.intVal);
      case RAW_EXTENSION:
      case FIELDS_V1: {
        const raw = (f.type === FIELDS_V1 ? m?.Raw : m?.raw) as Uint8Array | undefined;
        if (!raw || raw.length === 0) return null;
        if (raw.length >= 4 && raw[0] === 0x6b && raw[1] === 0x38 && raw[2] === 0x73 && raw[3] === 0)
          return embedded(raw);
        return parseJson(raw, f.json);
      }
      case ANY_JSON: {
        const raw = m?.raw as Uint8Array | undefined;
        return raw && raw.length > 0 ? parseJson(raw, f.json) : null;
      }
      case SCHEMA_OR_ARRAY: {
        const list = (m?.jSONSchemas as Decoded[] | undefined) ?? [];
        if (list.length > 0) return list.map((e) => this.toJson(SCHEMA_PROPS, e, embedded));
        return has('schema') ? this.toJson(SCHEMA_PROPS, m?.schema as Decoded, embedded) : null;
      }
      case SCHEMA_OR_BOOL:
        if (has('schema')) return this.toJson(SCHEMA_PROPS, m?.schema as Decoded, embedded);
        return m?.allows === true;
      case SCHEMA_OR_STRINGS: {
        const list = (m?.property as string[] | undefined) ?? [];
        if (list.length > 0) return [...list];
        return has('schema') ? this.toJson(SCHEMA_PROPS, m?.schema as Decoded, embedded) : null;
      }
    }
    if (STRING_LISTS.has(f.type)) {
      const items = (m?.items as string[] | undefined) ?? [];
      return items.length > 0 ? [...items] : null;
    }
    return this.toJson(f.type, m ?? undefined, embedded);
  }

  #schemaFromJson(v: Json, at: string): Decoded {
    if (!isObject(v)) throw badRequest(`${at}: expected a JSON schema object`);
    return this.fromJson(SCHEMA_PROPS, v, at);
  }

  #valueFromJson(f: FieldDef, v: Json, at: string): unknown {
    if (f.scalar) return scalarFromJson(f.type, v, at);
    switch (f.type) {
      case TIME:
      case MICRO_TIME:
        return parseTime(v, at);
      case DURATION:
        throw badRequest(`${at}: Duration is not supported in protobuf`);
      case QUANTITY:
        if (typeof v === 'number') return { string: String(v) };
        if (typeof v !== 'string') throw badRequest(`${at}: expected a quantity string`);
        return { string: v };
      case INT_OR_STRING:
        if (typeof v === 'number' && Number.isInteger(v)) return { type: 0, intVal: v };
        if (typeof v === 'string') return { type: 1, strVal: v };
        throw badRequest(`${at}: expected an integer or a string`);
      case RAW_EXTENSION:
        return { raw: Buffer.from(JSON.stringify(v)) };
      case FIELDS_V1:
        return { Raw: Buffer.from(JSON.stringify(v)) };
      case ANY_JSON:
        return { raw: Buffer.from(JSON.stringify(v)) };
      case SCHEMA_OR_ARRAY:
        if (Array.isArray(v)) return { jSONSchemas: v.map((e, i) => this.#schemaFromJson(e, `${at}[${i}]`)) };
        return { schema: this.#schemaFromJson(v, at) };
      case SCHEMA_OR_BOOL:
        // as Go's UnmarshalJSON: a schema allows
        if (typeof v === 'boolean') return { allows: v };
        return { allows: true, schema: this.#schemaFromJson(v, at) };
      case SCHEMA_OR_STRINGS:
        if (Array.isArray(v))
          return { property: v.map((e, i) => scalarFromJson('string', e, `${at}[${i}]`)) };
        return { schema: this.#schemaFromJson(v, at) };
    }
    if (STRING_LISTS.has(f.type)) {
      if (!Array.isArray(v)) throw badRequest(`${at}: expected an array`);
      return { items: v.map((e, i) => scalarFromJson('string', e, `${at}[${i}]`)) };
    }
    if (!isObject(v)) throw badRequest(`${at}: expected an object`);
    return this.fromJson(f.type, v, at);
  }
}

/** Map keys are user data: a key named `__proto__` must stay a plain property. */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** int64 values arrive as Long objects; Kubernetes' JSON writes them as plain numbers. */
function toNumber(v: unknown): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  return Number(String(v));
}

function scalarToJson(type: string, v: unknown): Json {
  switch (type) {
    case 'string':
      return (v as string | undefined) ?? '';
    case 'bool':
      return (v as boolean | undefined) ?? false;
    case 'bytes': {
      // Go: a nil []byte is null, an empty one ""; only a field absent from the wire is nil
      const b = v as Uint8Array | undefined;
      return b ? Buffer.from(b.buffer, b.byteOffset, b.length).toString('base64') : null;
    }
    default:
      return toNumber(v);
  }
}

/** Go's omitempty test: false, 0, "" and nil or empty byte slices. */
function isZeroScalar(v: Json): boolean {
  return v === null || v === '' || v === 0 || v === false;
}

function scalarFromJson(type: string, v: Json, at: string): unknown {
  switch (type) {
    case 'string':
      if (typeof v !== 'string') throw badRequest(`${at}: expected a string`);
      return v;
    case 'bool':
      if (typeof v !== 'boolean') throw badRequest(`${at}: expected a boolean`);
      return v;
    case 'bytes':
      if (typeof v !== 'string') throw badRequest(`${at}: expected a base64 string`);
      return Buffer.from(v, 'base64');
    case 'double':
    case 'float':
      if (typeof v !== 'number') throw badRequest(`${at}: expected a number`);
      return v;
    default:
      if (typeof v !== 'number' || !Number.isInteger(v)) throw badRequest(`${at}: expected an integer`);
      return v;
  }
}

function parseJson(raw: Uint8Array, field: string): Json {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw)) as Json;
  } catch {
    throw badRequest(`protobuf: ${field} does not hold valid JSON`);
  }
}

/** Go's metav1.Time marshals as RFC 3339 in UTC with whole seconds; MicroTime keeps six digits. */
function formatTime(seconds: number, nanos: number, micro: boolean): string {
  const ms = seconds * 1000;
  if (!Number.isFinite(ms) || Math.abs(ms) > 253402300799000 || seconds < -62135596800) {
    throw badRequest('protobuf: time outside the years 0000-9999');
  }
  const base = new Date(ms).toISOString().slice(0, 19);
  if (!micro) return `${base}Z`;
  const us = Math.floor(Math.min(Math.max(nanos, 0), 999_999_999) / 1000);
  return `${base}.${String(us).padStart(6, '0')}Z`;
}

function parseTime(v: Json, at: string): Decoded {
  const m = typeof v === 'string' ? RFC3339.exec(v) : null;
  if (!m) throw badRequest(`${at}: expected an RFC 3339 time`);
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) throw badRequest(`${at}: expected an RFC 3339 time`);
  const out: Decoded = { seconds: Math.floor(ms / 1000) };
  const nanos = m[2] ? Number(m[2].slice(1).padEnd(9, '0')) : 0;
  if (nanos !== 0) out.nanos = nanos;
  return out;
}

/** Go's time.Duration.String(), for whole-unit durations as Kubernetes uses them. */
function formatDuration(nanos: number): string {
  if (nanos === 0) return '0s';
  const sign = nanos < 0 ? '-' : '';
  let n = Math.abs(nanos);
  if (n < 1e9) {
    if (n < 1e3) return `${sign}${n}ns`;
    if (n < 1e6) return `${sign}${n / 1e3}µs`;
    return `${sign}${n / 1e6}ms`;
  }
  const h = Math.floor(n / 3.6e12);
  n -= h * 3.6e12;
  const min = Math.floor(n / 6e10);
  n -= min * 6e10;
  const s = `${n / 1e9}s`;
  if (h > 0) return `${sign}${h}h${min}m${s}`;
  if (min > 0) return `${sign}${min}m${s}`;
  return `${sign}${s}`;
}
