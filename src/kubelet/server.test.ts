/** The kubelet server's TLS and authentication (a stub CRI: nothing here reaches a runtime). */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { WebSocket } from 'ws';
import { ensurePki } from '../apiserver/index.ts';
import type { CriClient } from '../cri/index.ts';
import { serveKubelet } from './server.ts';

function get(
  url: string,
  o: { token?: string; cert?: { cert: string; key: string }; ca: string },
): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      url,
      {
        ca: o.ca,
        cert: o.cert?.cert,
        key: o.cert?.key,
        headers: o.token ? { authorization: `Bearer ${o.token}` } : {},
        agent: false,
      },
      (res) => {
        let body = '';
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
  });
}

test('HTTPS with a bearer token or an API-server client certificate; /healthz stays open', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-kubelet-tls-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const pki = await ensurePki(path.join(dir, 'a'));
  const stranger = await ensurePki(path.join(dir, 'b'));
  const server = await serveKubelet({
    cri: {} as CriClient,
    getPod: () => undefined,
    listPods: () => [],
    port: 0,
    tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert },
    auth: { tokens: ['s3cret'], clientNames: ['admin'] },
  });
  t.after(() => server.close());
  assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const ca = pki.ca.cert;
  assert.deepEqual(await get(`${server.url}/healthz`, { ca }), { code: 200, body: 'ok' });
  const anon = await get(`${server.url}/pods`, { ca });
  assert.equal(anon.code, 401);
  assert.equal(JSON.parse(anon.body).reason, 'Unauthorized');
  assert.equal((await get(`${server.url}/pods`, { ca, token: 'wrong' })).code, 401);
  const withToken = await get(`${server.url}/pods`, { ca, token: 's3cret' });
  assert.equal(withToken.code, 200);
  assert.equal(JSON.parse(withToken.body).kind, 'PodList');
  assert.equal((await get(`${server.url}/pods`, { ca, cert: pki.admin })).code, 200);
  assert.equal((await get(`${server.url}/pods`, { ca, cert: stranger.admin })).code, 401);

  // a streaming upgrade is refused before anything reaches the runtime
  const status = await new Promise<number>((resolve, reject) => {
    const ws = new WebSocket(
      `${server.url.replace('https', 'wss')}/exec/default/p/c?command=true&stdout=1`,
      ['v4.channel.k8s.io'],
      { ca },
    );
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    ws.on('open', () => reject(new Error('upgrade accepted without credentials')));
    ws.on('error', () => {});
  });
  assert.equal(status, 401);
});
