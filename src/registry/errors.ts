import { StatusError, type StatusReason } from '../api/errors.ts';
import type { ErrorCode } from './distribution.ts';

const STATUS: Record<ErrorCode, [number, StatusReason]> = {
  BLOB_UNKNOWN: [404, 'NotFound'],
  BLOB_UPLOAD_INVALID: [400, 'BadRequest'],
  BLOB_UPLOAD_UNKNOWN: [404, 'NotFound'],
  DIGEST_INVALID: [400, 'BadRequest'],
  MANIFEST_BLOB_UNKNOWN: [404, 'NotFound'],
  MANIFEST_INVALID: [400, 'BadRequest'],
  MANIFEST_UNKNOWN: [404, 'NotFound'],
  NAME_INVALID: [400, 'BadRequest'],
  NAME_UNKNOWN: [404, 'NotFound'],
  SIZE_INVALID: [400, 'BadRequest'],
  UNAUTHORIZED: [401, 'Unauthorized'],
  DENIED: [403, 'Forbidden'],
  UNSUPPORTED: [415, 'UnsupportedMediaType'],
  TOOMANYREQUESTS: [429, 'TooManyRequests'],
  RANGE_INVALID: [416, 'BadRequest'],
};

/**
 * A distribution-spec error: `registryCode` is the spec's code (`MANIFEST_UNKNOWN`), `httpStatus`
 * the status the registry answers with; as a StatusError it also carries the nearest Kubernetes
 * reason, so callers above the registry can treat it like any other expected failure.
 */
export class RegistryError extends StatusError {
  readonly registryCode: ErrorCode;
  readonly httpStatus: number;
  readonly detail?: unknown;

  constructor(code: ErrorCode, message: string, detail?: unknown, httpStatus?: number) {
    const [status, reason] = STATUS[code];
    super(reason, message);
    this.name = 'RegistryError';
    this.registryCode = code;
    this.httpStatus = httpStatus ?? status;
    this.detail = detail;
  }

  toBody(): { errors: { code: ErrorCode; message: string; detail?: unknown }[] } {
    const e: { code: ErrorCode; message: string; detail?: unknown } = {
      code: this.registryCode,
      message: this.message,
    };
    if (this.detail !== undefined) e.detail = this.detail;
    return { errors: [e] };
  }
}
