/**
 * What every crictl command gets: the runtime and image clients (one endpoint may serve both)
 * and where to write. A command is `(ctx, argv) => exit status`.
 */
import fs from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { CriClient } from '../../cri/index.ts';
import { usageError } from './output.ts';

export interface CrictlContext {
  runtime: CriClient;
  image: CriClient;
  /** the runtime endpoint, for error messages */
  endpoint: string;
  out(text: string): void;
  err(text: string): void;
}

export type CrictlCommand = (ctx: CrictlContext, argv: string[]) => Promise<number>;

/** Map fields whose keys are data (label names), not message fields. */
const MAPS = new Set(['labels', 'annotations', 'sysctls', 'unified']);

const camel = (k: string) => k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** crictl's config files use protobuf field names (`log_directory`) or JSON names (`logDirectory`). */
function camelKeys(value: unknown, isMap = false): unknown {
  if (Array.isArray(value)) return value.map((v) => camelKeys(v));
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => (isMap ? [k, v] : [camel(k), camelKeys(v, MAPS.has(camel(k)))])),
  );
}

/** Reads a pod or container config file, JSON or YAML. */
export function loadConfig<T>(file: string | undefined, what: string): T {
  if (!file) throw usageError(`${what} config file is required`);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw usageError(`load ${what} config ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  let parsed: unknown;
  try {
    parsed = /\.ya?ml$/.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw usageError(`parse ${what} config ${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw usageError(`parse ${what} config ${file}: not an object`);
  return camelKeys(parsed) as T;
}

/** Exactly `n` positional arguments, or a usage error naming them. */
export function needArgs(args: string[], min: number, usage: string): void {
  if (args.length < min) throw usageError(`expected ${usage}`);
}
