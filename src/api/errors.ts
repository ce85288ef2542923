/**
 * Skiff's error taxonomy: every expected failure is a StatusError carrying the Kubernetes
 * `Status` reason and HTTP code it maps to, so any layer (store, registry, API server,
 * client) can throw one and the API server answers with it byte for byte.
 *
 *   throw notFound({ group: 'apps', kind: 'deployments' }, 'web');
 *   // → 404 {"kind":"Status",...,"reason":"NotFound","message":"deployments.apps \"web\" not found"}
 */

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'Invalid'
  | 'TooManyRequests'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'Timeout';

export const STATUS_CODES: Record<StatusReason, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  AlreadyExists: 409,
  Conflict: 409,
  Gone: 410,
  Expired: 410,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  Invalid: 422,
  TooManyRequests: 429,
  InternalError: 500,
  ServiceUnavailable: 503,
  Timeout: 504,
};

/** One field-level problem inside an Invalid error; `field` is a Kubernetes field path such as `spec.containers[0].image`. */
export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** The wire shape of a `meta/v1 Status`. */
export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, unknown>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: StatusReason | string;
  details?: StatusDetails;
  code: number;
}

export class StatusError extends Error {
  readonly reason: StatusReason;
  readonly code: number;
  readonly details?: StatusDetails;

  constructor(reason: StatusReason, message: string, details?: StatusDetails, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StatusError';
    this.reason = reason;
    this.code = STATUS_CODES[reason];
    this.details = details;
  }

  toStatus(): Status {
    const s: Status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) s.details = this.details;
    return s;
  }
}

/** Is `e` a StatusError with this reason? */
export function isReason(e: unknown, reason: StatusReason): e is StatusError {
  return e instanceof StatusError && e.reason === reason;
}

/** A resource named for messages: `{group:'apps', kind:'deployments'}` prints as `deployments.apps`. */
export interface Qualified {
  group?: string;
  /** The resource (plural, lower case) as Kubernetes prints it in messages. */
  kind: string;
}

function qualified(r: Qualified): string {
  return r.group ? `${r.kind}.${r.group}` : r.kind;
}

export function notFound(r: Qualified, name: string): StatusError {
  return new StatusError('NotFound', `${qualified(r)} "${name}" not found`, {
    name,
    group: r.group ?? '',
    kind: r.kind,
  });
}

export function alreadyExists(r: Qualified, name: string): StatusError {
  return new StatusError('AlreadyExists', `${qualified(r)} "${name}" already exists`, {
    name,
    group: r.group ?? '',
    kind: r.kind,
  });
}

export function conflict(r: Qualified, name: string, why: string): StatusError {
  return new StatusError('Conflict', `Operation cannot be fulfilled on ${qualified(r)} "${name}": ${why}`, {
    name,
    group: r.group ?? '',
    kind: r.kind,
  });
}

/** 422 with one cause per field problem; `kind` is the Kind (e.g. `Deployment`), as Kubernetes prints it. */
export function invalid(group: string, kind: string, name: string, causes: StatusCause[]): StatusError {
  const list = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : `${c.message}`));
  const summary = list.length === 1 ? list[0] : `[${list.join(', ')}]`;
  const gk = group ? `${kind}.${group}` : kind;
  return new StatusError('Invalid', `${gk} "${name}" is invalid: ${summary}`, { name, group, kind, causes });
}

export function badRequest(message: string): StatusError {
  return new StatusError('BadRequest', message);
}

/** 410 for a resourceVersion that compaction has removed. */
export function gone(message = 'too old resource version'): StatusError {
  return new StatusError('Expired', message);
}

export function internal(message: string, cause?: unknown): StatusError {
  return new StatusError('InternalError', `Internal error occurred: ${message}`, undefined, { cause });
}
