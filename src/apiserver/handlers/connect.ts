/**
 * The subresources that are not object writes: `serviceaccounts/token` (TokenRequest) and the pod
 * subresources served by the node agent. exec, attach and portforward are WebSocket upgrades
 * (see pod-stream.ts); a plain request for them is answered 400 as Kubernetes does.
 */
import { badRequest } from '../../api/errors.ts';
import type { Ctx } from '../context.ts';
import { podLog } from './pod-log.ts';
import { tokenRequest } from './token.ts';

export const STREAM_SUBRESOURCES = ['exec', 'attach', 'portforward'];

/** The handler's promise when this request is one of those subresources, else undefined. */
export function podOrTokenSubresource(ctx: Ctx, method: string): Promise<void> | undefined {
  const { def, info } = ctx;
  if (def.group !== '') return undefined;
  if (def.plural === 'serviceaccounts' && info.subresource === 'token' && method === 'POST') {
    return tokenRequest(ctx);
  }
  if (def.plural !== 'pods') return undefined;
  if (info.subresource === 'log' && method === 'GET') return podLog(ctx);
  if (STREAM_SUBRESOURCES.includes(info.subresource!) && (method === 'GET' || method === 'POST')) {
    ctx.req.resume();
    return Promise.reject(badRequest('Upgrade request required'));
  }
  return undefined;
}
