/**
 * Label and field selectors as the API accepts them in `labelSelector` / `fieldSelector`.
 * Labels: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, comma-separated (AND).
 * Fields: `path=value`, `path==value`, `path!=value` over a fixed set of selectable fields.
 */
import { badRequest } from '../api/errors.ts';
import type { KubeObject, ResourceDef } from '../api/resource.ts';

export type Matcher = (obj: KubeObject) => boolean;

interface Requirement {
  key: string;
  op: 'in' | 'notin' | 'exists' | '!exists';
  values: string[];
}

/** Split at commas that are not inside parentheses. */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((t) => t.trim()).filter((t) => t !== '');
}

const LABEL_KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;

export function parseLabelSelector(s: string | null | undefined): Matcher | undefined {
  if (!s) return undefined;
  const reqs: Requirement[] = [];
  for (const term of splitTerms(s)) {
    const set = /^([^\s!=()]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
    const eq = /^([^\s!=()]+)\s*(==|=|!=)\s*([^\s!=()]*)$/.exec(term);
    const not = /^!\s*([^\s!=()]+)$/.exec(term);
    const has = /^([^\s!=()]+)$/.exec(term);
    if (set) {
      reqs.push({
        key: set[1],
        op: set[2] as 'in' | 'notin',
        values: set[3].split(',').map((v) => v.trim()),
      });
    } else if (eq) {
      reqs.push({ key: eq[1], op: eq[2] === '!=' ? 'notin' : 'in', values: [eq[3]] });
    } else if (not) {
      reqs.push({ key: not[1], op: '!exists', values: [] });
    } else if (has) {
      reqs.push({ key: has[1], op: 'exists', values: [] });
    } else {
      throw badRequest(
        `unable to parse requirement: found '${term}', expected: in, notin, =, ==, !=, gt, lt`,
      );
    }
    const key = reqs[reqs.length - 1].key;
    if (!LABEL_KEY.test(key)) throw badRequest(`unable to parse requirement: invalid label key "${key}"`);
  }
  return (obj) => {
    const labels = obj.metadata?.labels ?? {};
    for (const r of reqs) {
      const has = Object.hasOwn(labels, r.key);
      switch (r.op) {
        case 'exists':
          if (!has) return false;
          break;
        case '!exists':
          if (has) return false;
          break;
        case 'in':
          if (!has || !r.values.includes(labels[r.key])) return false;
          break;
        case 'notin':
          if (has && r.values.includes(labels[r.key])) return false;
          break;
      }
    }
    return true;
  };
}

export function parseFieldSelector(s: string | null | undefined, def: ResourceDef): Matcher | undefined {
  if (!s) return undefined;
  const tests: Matcher[] = [];
  for (const term of splitTerms(s)) {
    const m = /^([^!=]+?)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid selector: '${term}'; can't understand '${term}'`);
    const [, field, op, value] = m;
    const get = fieldGetter(field, def);
    if (!get) {
      throw badRequest(`field label not supported: ${field}`);
    }
    tests.push(op === '!=' ? (o) => (get(o) ?? '') !== value : (o) => (get(o) ?? '') === value);
  }
  return (obj) => tests.every((t) => t(obj));
}

function fieldGetter(field: string, def: ResourceDef): ((o: KubeObject) => string | undefined) | undefined {
  if (field === 'metadata.name') return (o) => o.metadata?.name;
  if (field === 'metadata.namespace') return def.namespaced ? (o) => o.metadata?.namespace : () => '';
  return def.selectableFields?.[field];
}

export function and(a: Matcher | undefined, b: Matcher | undefined): Matcher | undefined {
  if (a && b) return (o) => a(o) && b(o);
  return a ?? b;
}
