/**
 * RFC 7386 JSON Merge Patch: objects merge key by key, `null` deletes a key, anything else
 * (lists included) replaces. Custom resources get this for strategic merge patch bodies too
 * when the caller chooses to (see `applyPatch`).
 */
import { clone, isObject } from './json.ts';

/** Apply `patch` to a copy of `original`; `original` is not modified. */
export function mergePatch(original: unknown, patch: unknown): unknown {
  return merge(clone(original), patch);
}

function merge(original: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const out: Record<string, unknown> = isObject(original) ? { ...original } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = merge(out[k], v);
  }
  return out;
}
