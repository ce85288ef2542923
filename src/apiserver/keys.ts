/**
 * Where objects live in the store:
 *
 *   /registry/<group>/<plural>/<namespace>/<name>   namespaced kinds
 *   /registry/<group>/<plural>/<name>               cluster-scoped kinds
 *
 * `<group>` is `core` for the legacy group (''), so every kind has a non-empty segment and a
 * prefix never matches another resource (`/registry/core/pods/` vs `/registry/core/podtemplates/`).
 * Versions share one key space: the stored object is written in the version served.
 */
import type { ResourceDef } from '../api/resource.ts';

export function groupSegment(group: string): string {
  return group === '' ? 'core' : group;
}

/** The prefix of every object of a resource, or of one namespace's objects of it. */
export function resourcePrefix(def: Pick<ResourceDef, 'group' | 'plural'>, namespace?: string): string {
  const base = `/registry/${groupSegment(def.group)}/${def.plural}/`;
  return namespace ? `${base}${namespace}/` : base;
}

export function objectKey(
  def: Pick<ResourceDef, 'group' | 'plural' | 'namespaced'>,
  namespace: string | undefined,
  name: string,
): string {
  return def.namespaced ? `${resourcePrefix(def, namespace)}${name}` : `${resourcePrefix(def)}${name}`;
}
