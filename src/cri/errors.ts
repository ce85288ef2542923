import { status } from '@grpc/grpc-js';

/**
 * A failure with a gRPC status code. Implementations throw these; the server helper sends the
 * code and message, and the client rethrows them as CriError with the same code, so callers can
 * test `err.code === status.NOT_FOUND` whichever side of the socket they are on.
 */
export class CriError extends Error {
  readonly code: status;
  constructor(code: status, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CriError';
    this.code = code;
  }
}

export const criNotFound = (what: string) => new CriError(status.NOT_FOUND, `${what} not found`);
export const criInvalid = (message: string) => new CriError(status.INVALID_ARGUMENT, message);
export const criExists = (message: string) => new CriError(status.ALREADY_EXISTS, message);
export const criPrecondition = (message: string) => new CriError(status.FAILED_PRECONDITION, message);
export const criUnimplemented = (method: string) =>
  new CriError(status.UNIMPLEMENTED, `${method} is not implemented`);

/** True when err is a CRI "not found" (from either side of the socket). */
export function isNotFound(err: unknown): boolean {
  return (err as { code?: unknown })?.code === status.NOT_FOUND;
}

export { status as GrpcStatus };
