/** The registry of built-in kinds: lookups by resource and by kind, and the named schemas. */
import type { ResourceDef, ResourceRegistry, Schema } from './resource.ts';

/** Builds a registry over these defs; throws on a duplicate resource or kind. */
export function makeRegistry(defs: ResourceDef[], schemas: () => Record<string, Schema>): ResourceRegistry {
  const byResource = new Map<string, ResourceDef>();
  const byKind = new Map<string, ResourceDef>();
  for (const d of defs) {
    const rk = `${d.group}/${d.version}/${d.plural}`;
    const kk = `${d.group}/${d.version}/${d.kind}`;
    if (byResource.has(rk)) throw new Error(`duplicate resource ${rk}`);
    if (byKind.has(kk)) throw new Error(`duplicate kind ${kk}`);
    byResource.set(rk, d);
    byKind.set(kk, d);
  }
  let cached: Record<string, Schema> | undefined;
  return {
    all: () => [...defs],
    byResource: (group, version, plural) => byResource.get(`${group}/${version}/${plural}`),
    byKind: (group, version, kind) => byKind.get(`${group}/${version}/${kind}`),
    definitions: () => {
      cached ??= schemas();
      return cached;
    },
  };
}
