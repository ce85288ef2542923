import type { IncomingMessage, ServerResponse } from 'node:http';
import { RegistryError } from './errors.ts';
import type { Storage } from './storage.ts';

/** One request, already routed: the repository `name` and the path's last parameter. */
export interface Ctx {
  storage: Storage;
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  name: string;
  /** The digest, tag or upload id in the path. */
  ref: string;
}

export type Handler = (c: Ctx) => Promise<void>;

export function send(
  res: ServerResponse,
  status: number,
  headers: Record<string, string | number> = {},
  body?: Buffer | string,
) {
  res.statusCode = status;
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  if (body !== undefined && !res.getHeader('content-length'))
    res.setHeader('Content-Length', Buffer.byteLength(body));
  if (body === undefined && !res.getHeader('content-length')) res.setHeader('Content-Length', 0);
  res.end(body);
}

export function sendJSON(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string | number> = {},
) {
  send(res, status, { 'Content-Type': 'application/json', ...headers }, JSON.stringify(value));
}

export function sendError(res: ServerResponse, e: RegistryError, head = false) {
  const body = JSON.stringify(e.toBody());
  res.statusCode = e.httpStatus;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(head ? undefined : body);
}

/** Reads a small body (manifests) into memory, refusing more than `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit)
      throw new RegistryError('SIZE_INVALID', `body larger than ${limit} bytes`, undefined, 413);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Drains an unread request body so the connection can be reused. */
export async function drain(req: IncomingMessage): Promise<void> {
  for await (const _ of req) {
  }
}
