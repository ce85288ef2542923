/**
 * Key ranges. A prefix selects the half-open range [prefix, prefixEnd(prefix)); the end is
 * the prefix with its last character incremented, as etcd's `WithPrefix` does for bytes.
 * Skiff keys are ASCII paths, where JavaScript's string order equals bytewise order.
 */

/** The first key after every key that starts with `prefix`; undefined for '' (no bound). */
export function prefixEnd(prefix: string): string | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const c = prefix.charCodeAt(i);
    if (c < 0xffff) return prefix.slice(0, i) + String.fromCharCode(c + 1);
  }
  return undefined;
}

/** Where a listing under `prefix` begins: the prefix itself, or `startKey` when it lies beyond. */
export function rangeStart(prefix: string, startKey?: string): string {
  return startKey !== undefined && startKey > prefix ? startKey : prefix;
}
