/**
 * Sets of field paths, as server-side apply records ownership, and their FieldsV1 encoding.
 *
 * A path is a list of path elements, each written as in FieldsV1:
 *   `f:spec`                    a field of an object
 *   `k:{"name":"web"}`          the element of an associative list with these key values
 *   `v:"foreground"`            the element of a set-list with this value
 *   `i:0`                       an element by index (lists without keys; rare)
 * A set is a trie of path elements; a node is a *member* when the path to it is in the set.
 * In FieldsV1 a member leaf is `{}`, and a member with children also has `".": {}`:
 *
 *   {"f:metadata":{"f:labels":{".":{},"f:app":{}}},
 *    "f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{}}}}}
 */

export class FieldSet {
  member = false;
  readonly children = new Map<string, FieldSet>();

  static fromFieldsV1(v: unknown): FieldSet {
    const s = new FieldSet();
    if (typeof v !== 'object' || v === null) return s;
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length === 0) s.member = true;
    for (const [k, child] of entries) {
      if (k === '.') s.member = true;
      else s.children.set(k, FieldSet.fromFieldsV1(child));
    }
    return s;
  }

  /** The FieldsV1 object; children sorted as Kubernetes serialises them. */
  toFieldsV1(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (this.member && this.children.size > 0) out['.'] = {};
    for (const k of [...this.children.keys()].sort()) out[k] = this.children.get(k)?.toFieldsV1();
    return out;
  }

  insert(path: readonly string[]): void {
    let n: FieldSet = this;
    for (const pe of path) {
      let c = n.children.get(pe);
      if (!c) {
        c = new FieldSet();
        n.children.set(pe, c);
      }
      n = c;
    }
    n.member = true;
  }

  has(path: readonly string[]): boolean {
    const n = this.node(path);
    return n?.member === true;
  }

  /** The sub-trie at `path`, if any. */
  node(path: readonly string[]): FieldSet | undefined {
    let n: FieldSet | undefined = this;
    for (const pe of path) {
      n = n.children.get(pe);
      if (!n) return undefined;
    }
    return n;
  }

  /** Does the set hold `path` or anything below it? */
  hasPrefix(path: readonly string[]): boolean {
    const n = this.node(path);
    return n !== undefined && !n.isEmpty();
  }

  isEmpty(): boolean {
    if (this.member) return false;
    for (const c of this.children.values()) if (!c.isEmpty()) return false;
    return true;
  }

  /** Every member path, depth first, children in sorted order. */
  paths(prefix: string[] = []): string[][] {
    const out: string[][] = [];
    if (this.member) out.push(prefix);
    for (const k of [...this.children.keys()].sort()) {
      out.push(...(this.children.get(k)?.paths([...prefix, k]) ?? []));
    }
    return out;
  }

  union(other: FieldSet): FieldSet {
    const s = new FieldSet();
    s.member = this.member || other.member;
    for (const k of new Set([...this.children.keys(), ...other.children.keys()])) {
      const a = this.children.get(k);
      const b = other.children.get(k);
      const c = a && b ? a.union(b) : (a ?? b)?.copy();
      if (c && !c.isEmpty()) s.children.set(k, c);
    }
    return s;
  }

  difference(other: FieldSet): FieldSet {
    const s = new FieldSet();
    s.member = this.member && !other.member;
    for (const [k, a] of this.children) {
      const b = other.children.get(k);
      const c = b ? a.difference(b) : a.copy();
      if (!c.isEmpty()) s.children.set(k, c);
    }
    return s;
  }

  intersection(other: FieldSet): FieldSet {
    const s = new FieldSet();
    s.member = this.member && other.member;
    for (const [k, a] of this.children) {
      const b = other.children.get(k);
      if (!b) continue;
      const c = a.intersection(b);
      if (!c.isEmpty()) s.children.set(k, c);
    }
    return s;
  }

  /** Remove every path that starts with `path` (used for ignored fields such as `status`). */
  withoutPrefix(path: readonly string[]): FieldSet {
    const s = this.copy();
    if (path.length === 0) return new FieldSet();
    const parent = s.node(path.slice(0, -1));
    parent?.children.delete(path[path.length - 1]);
    return s;
  }

  copy(): FieldSet {
    const s = new FieldSet();
    s.member = this.member;
    for (const [k, c] of this.children) s.children.set(k, c.copy());
    return s;
  }

  equals(other: FieldSet): boolean {
    return (
      JSON.stringify(this.toFieldsV1()) === JSON.stringify(other.toFieldsV1()) && this.member === other.member
    );
  }
}

/** `.spec.template.spec.containers[name="web"].image`, as Kubernetes prints a field path. */
export function pathString(path: readonly string[]): string {
  return path
    .map((pe) => {
      const body = pe.slice(2);
      switch (pe[0]) {
        case 'f':
          return `.${body}`;
        case 'k': {
          const key = JSON.parse(body) as Record<string, unknown>;
          return `[${Object.entries(key)
            .map(([n, v]) => `${n}=${JSON.stringify(v)}`)
            .join(',')}]`;
        }
        case 'v':
          return `[=${body}]`;
        case 'i':
          return `[${body}]`;
        default:
          return pe;
      }
    })
    .join('');
}

/** The path element for an associative-list element: key fields in sorted order. */
export function keyElement(keys: Record<string, unknown>): string {
  const sorted: Record<string, unknown> = {};
  for (const k of Object.keys(keys).sort()) sorted[k] = keys[k];
  return `k:${JSON.stringify(sorted)}`;
}

export function valueElement(v: unknown): string {
  return `v:${JSON.stringify(v)}`;
}

export function fieldElement(name: string): string {
  return `f:${name}`;
}
