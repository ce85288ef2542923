/**
 * `GET pods/{name}/log`: the container's log, streamed from its node agent's
 * `/containerLogs/{ns}/{pod}/{container}` with the same query (follow, previous, tailLines,
 * sinceSeconds, sinceTime, timestamps, limitBytes). A follow lasts until either side hangs up.
 */
import https from 'node:https';
import { StatusError } from '../../api/errors.ts';
import type { Ctx } from '../context.ts';
import { kubeletTarget } from './kubelet.ts';

// Not `import http from 'node:http'` (its namespace loads undici; see loopback.ts).
const http = process.getBuiltinModule('node:http');

const PASSED = ['follow', 'previous', 'tailLines', 'sinceSeconds', 'sinceTime', 'timestamps', 'limitBytes'];

export async function podLog(ctx: Ctx): Promise<void> {
  const opts = ctx.parts.kubelet ?? {};
  const t = await kubeletTarget(
    ctx.parts.objects,
    ctx.parts.registry,
    ctx.info.namespace!,
    ctx.info.name!,
    ctx.query.get('container'),
    opts.https,
  );
  const q = new URLSearchParams();
  for (const k of PASSED) for (const v of ctx.query.getAll(k)) q.append(k, v);
  const ns = encodeURIComponent(ctx.info.namespace!);
  const url = `${t.base}/containerLogs/${ns}/${encodeURIComponent(ctx.info.name!)}/${encodeURIComponent(t.container!)}?${q}`;
  const headers: Record<string, string> = {};
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  const { res } = ctx;
  await new Promise<void>((resolve, reject) => {
    const upstream = (opts.https ? https : http).request(
      url,
      { headers, cert: opts.cert, key: opts.key, ca: opts.ca },
      (up) => {
        const type = up.headers['content-type'] ?? 'text/plain';
        res.writeHead(up.statusCode ?? 502, { 'Content-Type': type, 'Cache-Control': 'no-cache, private' });
        res.flushHeaders();
        up.pipe(res);
        up.on('end', resolve);
        up.on('error', () => {
          res.destroy();
          resolve();
        });
      },
    );
    upstream.on('error', (e) => {
      if (res.headersSent) {
        res.destroy();
        resolve();
      } else reject(new StatusError('InternalError', `Get "${url}": ${e.message}`));
    });
    // The client hung up (end of kubectl logs -f): stop reading from the node.
    res.on('close', () => {
      upstream.destroy();
      resolve();
    });
    upstream.end();
  });
}
