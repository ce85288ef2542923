/**
 * The store's expected failures, as StatusErrors. The store knows keys, not resources, so
 * `details.name` carries the key; the API server rewrites the message for its resource.
 */
import { gone, StatusError } from '../api/errors.ts';

export function keyNotFound(key: string): StatusError {
  return new StatusError('NotFound', `key "${key}" not found`, { name: key });
}

export function keyExists(key: string): StatusError {
  return new StatusError('AlreadyExists', `key "${key}" already exists`, { name: key });
}

export function keyConflict(key: string, expected: number, actual: number): StatusError {
  return new StatusError(
    'Conflict',
    `key "${key}" was modified at revision ${actual}, not ${expected}: the object has been modified`,
    { name: key },
  );
}

/** 410 Expired: the revision asked for lies below the compaction point. */
export function compacted(revision: number, compactedRevision: number): StatusError {
  return gone(`too old resource version: ${revision} (${compactedRevision})`);
}

/** 504 Timeout, as Kubernetes answers a resourceVersion newer than the store has. */
export function futureRevision(revision: number, current: number): StatusError {
  return new StatusError('Timeout', `Too large resource version: ${revision}, current: ${current}`);
}

export function closedBackend(name: string): StatusError {
  return new StatusError('ServiceUnavailable', `${name} store is closed`);
}
