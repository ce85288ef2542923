/**
 * A container's environment as the kubelet builds it: envFrom sources first, then env entries
 * in order (later wins), each value with `$(VAR)` references to earlier variables expanded.
 * Values may come from the pod itself (fieldRef), the container's resources (resourceFieldRef),
 * ConfigMaps and Secrets; a missing non-optional source is an error the pod worker reports as
 * CreateContainerConfigError.
 */
import { resourceFieldValue } from './resources.ts';

type Json = Record<string, any>;

/** Reads a ConfigMap or Secret; undefined when it does not exist. */
export type ObjectGetter = (
  kind: 'configmaps' | 'secrets',
  namespace: string,
  name: string,
) => Promise<Json | undefined>;

export class ConfigError extends Error {}

/** What a fieldRef path names on this pod, once it has its IPs. */
export function podFieldValue(pod: Json, path: string, ips: { podIPs: string[]; hostIP: string }): string {
  const m = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(path);
  if (m) return pod.metadata?.[m[1]]?.[m[2]] ?? '';
  switch (path) {
    case 'metadata.name':
      return pod.metadata.name;
    case 'metadata.namespace':
      return pod.metadata.namespace;
    case 'metadata.uid':
      return pod.metadata.uid;
    case 'metadata.labels':
    case 'metadata.annotations': {
      const map = pod.metadata?.[path.slice(9)] ?? {};
      return Object.keys(map)
        .sort()
        .map((k) => `${k}=${JSON.stringify(map[k])}`)
        .join('\n');
    }
    case 'spec.nodeName':
      return pod.spec.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec.serviceAccountName ?? '';
    case 'status.podIP':
      return ips.podIPs[0] ?? '';
    case 'status.podIPs':
      return ips.podIPs.join(',');
    case 'status.hostIP':
    case 'status.hostIPs':
      return ips.hostIP;
    default:
      throw new ConfigError(`unsupported fieldRef ${path}`);
  }
}

/** Expands `$(NAME)` from `vars`; `$$(NAME)` is a literal `$(NAME)`, unknown names stay as they are. */
export function expand(s: string, vars: Map<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (all, name?: string) => {
    if (all === '$$') return '$';
    return name !== undefined && vars.has(name) ? vars.get(name)! : all;
  });
}

export interface EnvContext {
  pod: Json;
  container: Json;
  podIPs: string[];
  hostIP: string;
  node: { cpu: number; memory: number };
  get: ObjectGetter;
}

function decode(secret: Json, key: string): string | undefined {
  const v = secret.data?.[key];
  if (v !== undefined) return Buffer.from(v, 'base64').toString('utf8');
  return secret.stringData?.[key];
}

function dataOf(kind: 'configmaps' | 'secrets', obj: Json): Map<string, string> {
  const out = new Map<string, string>();
  if (kind === 'secrets') {
    for (const k of Object.keys(obj.data ?? {})) out.set(k, decode(obj, k)!);
  } else {
    for (const [k, v] of Object.entries(obj.data ?? {})) out.set(k, String(v));
    for (const [k, v] of Object.entries(obj.binaryData ?? {}))
      out.set(k, Buffer.from(String(v), 'base64').toString('utf8'));
  }
  return out;
}

async function source(
  ctx: EnvContext,
  kind: 'configmaps' | 'secrets',
  ref: { name?: string; optional?: boolean },
): Promise<Map<string, string> | undefined> {
  const obj = await ctx.get(kind, ctx.pod.metadata.namespace, ref.name ?? '');
  if (!obj) {
    if (ref.optional) return undefined;
    throw new ConfigError(`${kind === 'secrets' ? 'secret' : 'configmap'} "${ref.name}" not found`);
  }
  return dataOf(kind, obj);
}

/** The container's environment, in order. */
export async function containerEnv(ctx: EnvContext): Promise<{ key: string; value: string }[]> {
  const vars = new Map<string, string>();
  for (const from of ctx.container.envFrom ?? []) {
    const kind = from.secretRef ? 'secrets' : 'configmaps';
    const data = await source(ctx, kind, from.secretRef ?? from.configMapRef ?? {});
    for (const [k, v] of data ?? []) vars.set(`${from.prefix ?? ''}${k}`, v);
  }
  for (const e of ctx.container.env ?? []) {
    const vf = e.valueFrom;
    if (!vf) {
      vars.set(e.name, expand(e.value ?? '', vars));
      continue;
    }
    if (vf.fieldRef) {
      vars.set(e.name, podFieldValue(ctx.pod, vf.fieldRef.fieldPath, ctx));
    } else if (vf.resourceFieldRef) {
      const name = vf.resourceFieldRef.containerName;
      const c = name
        ? [...(ctx.pod.spec.containers ?? []), ...(ctx.pod.spec.initContainers ?? [])].find(
            (x: Json) => x.name === name,
          )
        : ctx.container;
      vars.set(e.name, resourceFieldValue(c, vf.resourceFieldRef, ctx.node));
    } else {
      const kind = vf.secretKeyRef ? 'secrets' : 'configmaps';
      const ref = vf.secretKeyRef ?? vf.configMapKeyRef;
      const data = await source(ctx, kind, ref);
      if (!data) continue;
      if (!data.has(ref.key)) {
        if (ref.optional) continue;
        throw new ConfigError(
          `couldn't find key ${ref.key} in ${kind === 'secrets' ? 'Secret' : 'ConfigMap'} ${ctx.pod.metadata.namespace}/${ref.name}`,
        );
      }
      vars.set(e.name, data.get(ref.key)!);
    }
  }
  return [...vars].map(([key, value]) => ({ key, value }));
}

/** Decoded key/value data of a ConfigMap or Secret (for volumes). */
export { dataOf as objectData };
