/**
 * Development tool, not part of the runtime: reads the facts Skiff's protobuf codec needs
 * (message names, field numbers, wire types, and from the Go struct tags the JSON name,
 * `omitempty` and pointer-ness of each field) out of checkouts of kubernetes/api and
 * kubernetes/apimachinery, and prints `schema.ts` in Skiff's compact notation.
 *
 *   node src/api/protobuf/tools/extract-schema.ts API_GIT_DIR MACHINERY_GIT_DIR > src/api/protobuf/schema.ts
 *
 * Both arguments are git directories (bare is fine); files are read at HEAD.
 */
import { execFileSync } from 'node:child_process';
import { KINDS } from '../kinds.ts';

interface ProtoField {
  name: string;
  num: number;
  label: 'optional' | 'repeated' | 'map';
  type: string;
}
interface GoField {
  json: string;
  omitempty: boolean;
  omitzero: boolean;
  pointer: boolean;
}

const [apiDir, machineryDir] = process.argv.slice(2);
if (!apiDir || !machineryDir) throw new Error('usage: extract-schema.ts API_GIT_DIR MACHINERY_GIT_DIR');

const show = (dir: string, path: string): string =>
  execFileSync('git', ['--git-dir', dir, 'show', `HEAD:${path}`], { encoding: 'utf8', maxBuffer: 1 << 26 });

/** Short aliases used in the compact notation, by protobuf package. */
const ALIASES: Record<string, string> = {
  'k8s.io.apimachinery.pkg.apis.meta.v1': 'meta',
  'k8s.io.apimachinery.pkg.runtime': 'runtime',
  'k8s.io.apimachinery.pkg.runtime.schema': 'schema',
  'k8s.io.apimachinery.pkg.api.resource': 'resource',
  'k8s.io.apimachinery.pkg.util.intstr': 'intstr',
};
const SOURCES: { dir: string; proto: string; go: string[] }[] = [
  { dir: machineryDir, proto: 'pkg/apis/meta/v1/generated.proto', go: ['pkg/apis/meta/v1/types.go'] },
  { dir: machineryDir, proto: 'pkg/runtime/generated.proto', go: [] },
  { dir: machineryDir, proto: 'pkg/api/resource/generated.proto', go: [] },
  { dir: machineryDir, proto: 'pkg/util/intstr/generated.proto', go: [] },
];
for (const group of [
  'core',
  'apps',
  'batch',
  'policy',
  'events',
  'coordination',
  'discovery',
  'autoscaling',
  'storage',
  'scheduling',
  'rbac',
  'authentication',
  'authorization',
]) {
  ALIASES[`k8s.io.api.${group}.v1`] = group;
  SOURCES.push({ dir: apiDir, proto: `${group}/v1/generated.proto`, go: [`${group}/v1/types.go`] });
}

const protoMessages = new Map<string, ProtoField[]>(); // full name → fields
const goStructs = new Map<string, Map<number, GoField>>(); // full name → field number → go facts

for (const src of SOURCES) {
  const text = show(src.dir, src.proto).replace(/\/\/[^\n]*/g, '');
  const pkg = /package\s+([\w.]+);/.exec(text)?.[1];
  if (!pkg) throw new Error(`no package in ${src.proto}`);
  for (const m of text.matchAll(/message\s+(\w+)\s*\{([^}]*)\}/g)) {
    const fields: ProtoField[] = [];
    for (const f of m[2].matchAll(
      /(optional|repeated|map<\s*string\s*,\s*([\w.]+)\s*>)\s*([\w.]*)\s+(\w+)\s*=\s*(\d+)/g,
    )) {
      const isMap = f[1].startsWith('map');
      const rawType = isMap ? f[2] : f[3];
      fields.push({
        name: f[4],
        num: Number(f[5]),
        label: isMap ? 'map' : (f[1] as 'optional' | 'repeated'),
        type: qualify(rawType, pkg),
      });
    }
    protoMessages.set(`${pkg}.${m[1]}`, fields);
  }
  for (const goPath of src.go) {
    const go = show(src.dir, goPath);
    for (const s of go.matchAll(/^type\s+(\w+)\s+struct\s*\{\n([\s\S]*?)^\}/gm)) {
      const fields = new Map<number, GoField>();
      for (const line of s[2].split('\n')) {
        const tag = /`([^`]*)`/.exec(line)?.[1];
        const pb = tag && /protobuf:"\w+,(\d+)/.exec(tag)?.[1];
        if (!tag || !pb) continue;
        const json = /json:"([^"]*)"/.exec(tag)?.[1] ?? '';
        const [jsonName, ...opts] = json.split(',');
        const decl = line.slice(0, line.indexOf('`')).trim().split(/\s+/);
        const goType = decl.length > 1 ? decl[1] : decl[0];
        fields.set(Number(pb), {
          json: decl.length === 1 && (jsonName === '' || opts.includes('inline')) ? '' : jsonName || decl[0],
          omitempty: opts.includes('omitempty'),
          omitzero: opts.includes('omitzero'),
          pointer: goType.startsWith('*'),
        });
      }
      goStructs.set(`${pkg}.${s[1]}`, fields);
    }
  }
}

function isScalar(type: string): boolean {
  return /^(string|bool|bytes|int32|int64|uint32|uint64|double|float|sint32|sint64|fixed32|fixed64)$/.test(
    type,
  );
}

function qualify(type: string, pkg: string): string {
  if (isScalar(type)) return type;
  if (type.startsWith('.')) return type.slice(1);
  return `${pkg}.${type}`;
}

// Messages reachable from the served kinds.
const wanted = new Set<string>();
const queue = [...Object.values(KINDS).map((k) => k.message), 'k8s.io.apimachinery.pkg.runtime.Unknown'];
while (queue.length > 0) {
  const name = queue.pop() as string;
  if (wanted.has(name)) continue;
  const fields = protoMessages.get(name);
  if (!fields) throw new Error(`missing message ${name}`);
  wanted.add(name);
  for (const f of fields) if (protoMessages.has(f.type)) queue.push(f.type);
}

function short(full: string, pkg: string): string {
  if (!full.includes('.')) return full;
  const dot = full.lastIndexOf('.');
  const p = full.slice(0, dot);
  if (p === pkg) return full.slice(dot + 1);
  return `${ALIASES[p] ?? p}.${full.slice(dot + 1)}`;
}

const byPkg = new Map<string, string[]>();
const missing: string[] = [];
for (const full of [...wanted].sort()) {
  const dot = full.lastIndexOf('.');
  const pkg = full.slice(0, dot);
  const go = goStructs.get(full);
  const parts: string[] = [];
  for (const f of protoMessages.get(full) ?? []) {
    if (!isScalar(f.type) && !protoMessages.has(f.type)) {
      process.stderr.write(`skipping ${full}.${f.name}: ${f.type} is outside the served groups\n`);
      continue;
    }
    const g = go?.get(f.num);
    if (go && !g) missing.push(`${full}.${f.name}`);
    let type = short(f.type, pkg);
    if (f.label === 'repeated') type = `[]${type}`;
    if (f.label === 'map') type = `{${type}}`;
    let flags = '';
    if (g?.json === '') flags += '^';
    else if (g && g.json !== f.name) flags += `@${g.json}`;
    if (g?.pointer) flags += '?';
    else if (g?.omitzero) flags += '~';
    else if (g && !g.omitempty && g.json !== '') flags += '!';
    parts.push(`${f.name}=${f.num}:${type}${flags}`);
  }
  const list = byPkg.get(pkg) ?? [];
  list.push(`    ${full.slice(dot + 1)}: '${parts.join(' ')}',`);
  byPkg.set(pkg, list);
}
if (missing.length > 0) process.stderr.write(`no Go facts for: ${missing.join(', ')}\n`);

const out: string[] = [
  '// Generated by tools/extract-schema.ts from kubernetes/api and kubernetes/apimachinery; do not edit by hand.',
  "import type { SchemaPackages } from './notation.ts';",
  '',
  'export const PACKAGES: SchemaPackages = {',
];
for (const [pkg, lines] of byPkg) {
  out.push(`  '${pkg}': {`, ...lines, '  },');
}
out.push('};', '');
process.stdout.write(out.join('\n'));
