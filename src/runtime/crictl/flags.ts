/**
 * crictl's flag syntax: `--name value`, `--name=value`, `-n value`, boolean `-a`, grouped short
 * booleans (`-it`), repeatable flags (`--label a=b --label c=d`) and `--` ending the flags.
 * Flags may come before or between positional arguments, except for commands that run a
 * command line (`exec`), where the first positional argument ends the flags.
 */
import { usageError } from './output.ts';

export interface FlagSpec {
  /** long name → short aliases */
  bool?: Record<string, string[]>;
  value?: Record<string, string[]>;
  /** value flags that may repeat; their values collect into a list */
  repeat?: Record<string, string[]>;
  /** stop parsing flags at the first positional argument */
  stopAtPositional?: boolean;
}

export interface ParsedFlags {
  args: string[];
  bool(name: string): boolean;
  value(name: string): string | undefined;
  list(name: string): string[];
  /** an integer flag, or `fallback` when absent; a malformed number is a usage error */
  int(name: string, fallback: number): number;
}

export function parseFlags(argv: string[], spec: FlagSpec): ParsedFlags {
  const lookup = new Map<string, { name: string; kind: 'bool' | 'value' | 'repeat' }>();
  for (const kind of ['bool', 'value', 'repeat'] as const) {
    for (const [name, aliases] of Object.entries(spec[kind] ?? {})) {
      lookup.set(name, { name, kind });
      for (const a of aliases) lookup.set(a, { name, kind });
    }
  }
  const bools = new Set<string>();
  const values = new Map<string, string[]>();
  const args: string[] = [];
  const take = (flag: string, i: number, inline: string | undefined): number => {
    const def = lookup.get(flag);
    if (!def) throw usageError(`flag provided but not defined: -${flag}`);
    if (def.kind === 'bool') {
      if (inline !== undefined && !/^(true|false)$/.test(inline))
        throw usageError(`invalid boolean value ${JSON.stringify(inline)} for -${flag}`);
      if (inline === 'false') bools.delete(def.name);
      else bools.add(def.name);
      return i + 1;
    }
    let v = inline;
    let next = i + 1;
    if (v === undefined) {
      if (i + 1 >= argv.length) throw usageError(`flag needs an argument: -${flag}`);
      v = argv[i + 1];
      next = i + 2;
    }
    values.set(def.name, def.kind === 'repeat' ? [...(values.get(def.name) ?? []), v] : [v]);
    return next;
  };
  for (let i = 0; i < argv.length; ) {
    const a = argv[i];
    if (a === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      i = take(eq < 0 ? a.slice(2) : a.slice(2, eq), i, eq < 0 ? undefined : a.slice(eq + 1));
    } else if (a.startsWith('-') && a.length > 1 && !/^-\d/.test(a)) {
      const eq = a.indexOf('=');
      const body = eq < 0 ? a.slice(1) : a.slice(1, eq);
      const inline = eq < 0 ? undefined : a.slice(eq + 1);
      // `-it`: a group of short booleans; otherwise one short flag
      if (body.length > 1 && [...body].every((c) => lookup.get(c)?.kind === 'bool')) {
        for (const c of body) take(c, i, undefined);
        i++;
      } else i = take(body, i, inline);
    } else {
      args.push(a);
      i++;
      if (spec.stopAtPositional) {
        args.push(...argv.slice(i));
        break;
      }
    }
  }
  return {
    args,
    bool: (name) => bools.has(name),
    value: (name) => values.get(name)?.[0],
    list: (name) => values.get(name) ?? [],
    int(name, fallback) {
      const v = values.get(name)?.[0];
      if (v === undefined) return fallback;
      if (!/^-?\d+$/.test(v))
        throw usageError(`invalid value ${JSON.stringify(v)} for --${name}: not an integer`);
      return Number(v);
    },
  };
}

/** `key=value` label flags → a label map. */
export function labelMap(list: string[]): Record<string, string> | undefined {
  if (list.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const l of list) {
    const eq = l.indexOf('=');
    if (eq <= 0) throw usageError(`invalid label ${JSON.stringify(l)}: want key=value`);
    out[l.slice(0, eq)] = l.slice(eq + 1);
  }
  return out;
}
