/**
 * Skiff's compact notation for Kubernetes' protobuf messages, with the JSON facts the codec needs.
 *
 * A package maps each message name to a space-separated list of fields, each written
 *
 *   name=number:type[flags]
 *
 * where `type` is a scalar (`string`, `int32`, `int64`, `bool`, `bytes`, `double`, ...) or a message
 * name (unqualified within its own package, otherwise `alias.Name`, see ALIASES), prefixed with `[]`
 * for a repeated field or wrapped in `{...}` for a `map<string, type>`. Flags describe the Go field
 * behind it, which decides how the JSON form looks:
 *
 *   ?        Go pointer: emitted whenever set on the wire, even to a zero value (`replicas: 0`)
 *   !        no `omitempty`: always emitted (zero value, or `null` for a nil slice or map)
 *   ~        `omitzero`: a zero struct is left out
 *   ^        embedded struct: its fields are inlined into the parent's JSON object
 *   @json    the JSON name differs from the protobuf name
 *
 * Without flags a scalar, list or map is `omitempty`, and a non-pointer message is always emitted
 * (Go's `omitempty` never drops a struct).
 *
 *   DeploymentSpec: 'replicas=1:int32? selector=2:meta.LabelSelector? template=3:core.PodTemplateSpec!'
 */

export type SchemaPackages = Record<string, Record<string, string>>;

export const ALIASES: Readonly<Record<string, string>> = {
  meta: 'k8s.io.apimachinery.pkg.apis.meta.v1',
  runtime: 'k8s.io.apimachinery.pkg.runtime',
  schema: 'k8s.io.apimachinery.pkg.runtime.schema',
  resource: 'k8s.io.apimachinery.pkg.api.resource',
  intstr: 'k8s.io.apimachinery.pkg.util.intstr',
};

const SCALARS = new Set([
  'string',
  'bool',
  'bytes',
  'int32',
  'int64',
  'uint32',
  'uint64',
  'sint32',
  'sint64',
  'fixed32',
  'fixed64',
  'double',
  'float',
]);

export interface FieldDef {
  /** protobuf field name */
  name: string;
  /** JSON property name ('' when inlined) */
  json: string;
  num: number;
  /** scalar name, or fully qualified message name */
  type: string;
  scalar: boolean;
  repeated: boolean;
  map: boolean;
  pointer: boolean;
  always: boolean;
  omitzero: boolean;
  inline: boolean;
}

export interface MessageDef {
  fullName: string;
  fields: FieldDef[];
}

function resolveType(type: string, pkg: string): string {
  if (SCALARS.has(type)) return type;
  const dot = type.indexOf('.');
  if (dot < 0) return `${pkg}.${type}`;
  const alias = type.slice(0, dot);
  const full = ALIASES[alias] ?? `k8s.io.api.${alias}.v1`;
  return `${full}.${type.slice(dot + 1)}`;
}

const FIELD = /^(\w+)=(\d+):(\[\])?(\{)?([\w.]+)\}?([?!~^]*)(?:@([\w$-]+))?([?!~^]*)$/;

/** Parses the compact notation into message definitions keyed by fully qualified name. */
export function parseSchema(packages: SchemaPackages): Map<string, MessageDef> {
  const out = new Map<string, MessageDef>();
  for (const [pkg, messages] of Object.entries(packages)) {
    for (const [name, spec] of Object.entries(messages)) {
      const fields: FieldDef[] = [];
      for (const token of spec.split(' ').filter(Boolean)) {
        const m = FIELD.exec(token);
        if (!m) throw new Error(`bad field ${token} in ${pkg}.${name}`);
        const flags = m[6] + m[8];
        const type = resolveType(m[5], pkg);
        const inline = flags.includes('^');
        fields.push({
          name: m[1],
          json: inline ? '' : (m[7] ?? m[1]),
          num: Number(m[2]),
          type,
          scalar: SCALARS.has(type),
          repeated: m[3] !== undefined,
          map: m[4] !== undefined,
          pointer: flags.includes('?'),
          always: flags.includes('!'),
          omitzero: flags.includes('~'),
          inline,
        });
      }
      out.set(`${pkg}.${name}`, { fullName: `${pkg}.${name}`, fields });
    }
  }
  return out;
}

/** The protobufjs JSON descriptor (`Root.fromJSON` input) for the parsed messages, proto2 semantics. */
export function toDescriptor(messages: Map<string, MessageDef>): Record<string, unknown> {
  const root: { nested: Record<string, unknown> } = { nested: {} };
  for (const def of messages.values()) {
    const parts = def.fullName.split('.');
    const name = parts.pop() as string;
    let ns = root;
    for (const p of parts) {
      ns.nested[p] ??= { nested: {} };
      ns = ns.nested[p] as { nested: Record<string, unknown> };
    }
    const fields: Record<string, unknown> = {};
    for (const f of def.fields) {
      const type = f.scalar ? f.type : `.${f.type}`;
      if (f.map) fields[f.name] = { keyType: 'string', type, id: f.num };
      else if (f.repeated && f.scalar && f.type !== 'string' && f.type !== 'bytes')
        // proto2: repeated numbers are written one tag per element, not packed
        fields[f.name] = { rule: 'repeated', type, id: f.num, options: { packed: false } };
      else if (f.repeated) fields[f.name] = { rule: 'repeated', type, id: f.num };
      else fields[f.name] = { type, id: f.num };
    }
    ns.nested[name] = { edition: 'proto2', fields };
  }
  return root;
}
