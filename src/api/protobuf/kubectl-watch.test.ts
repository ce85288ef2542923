// Real kubectl reading a protobuf watch: `kubectl run --attach` lists and watches its pod through
// client-go's typed client, which asks for `application/vnd.kubernetes.protobuf` and reads the
// stream with the length-delimited framer. Only the watch tells it the pod failed, with exit code 3.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { KubeObject } from '../resource.ts';
import { encodeObject, encodeWatchEvent, PROTOBUF_CONTENT_TYPE, WATCH_CONTENT_TYPE } from './index.ts';

interface Request {
  method: string;
  url: string;
  accept: string;
  answered: string;
}

function podAt(created: KubeObject, resourceVersion: string, status: Record<string, unknown>): KubeObject {
  return { ...created, metadata: { ...created.metadata, resourceVersion }, status };
}

test('kubectl run --attach follows a protobuf watch to the pod failing', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-pb-watch-'));
  const requests: Request[] = [];
  let created: KubeObject | undefined;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '', 'http://localhost');
      const reply = (code: number, type: string, body: string | Uint8Array) => {
        requests.push({
          method: req.method ?? '',
          url: url.pathname,
          accept: req.headers.accept ?? '',
          answered: type,
        });
        res.writeHead(code, { 'content-type': type });
        res.end(body);
      };
      const json = (code: number, body: unknown) => reply(code, 'application/json', JSON.stringify(body));
      if (url.pathname === '/api') return json(200, { kind: 'APIVersions', versions: ['v1'] });
      if (url.pathname === '/apis') return json(200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [] });
      if (url.pathname === '/api/v1') {
        return json(200, {
          kind: 'APIResourceList',
          apiVersion: 'v1',
          groupVersion: 'v1',
          resources: [
            {
              name: 'pods',
              singularName: 'pod',
              namespaced: true,
              kind: 'Pod',
              verbs: ['create', 'list', 'watch'],
            },
          ],
        });
      }
      const pods = '/api/v1/namespaces/default/pods';
      if (req.method === 'POST' && url.pathname === pods) {
        const obj = JSON.parse(Buffer.concat(chunks).toString()) as KubeObject;
        created = {
          ...obj,
          metadata: { ...obj.metadata, namespace: 'default', uid: 'u-1', resourceVersion: '5' },
        };
        return json(201, created);
      }
      if (!created) return json(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 404 });
      if (url.pathname === `${pods}/x/log`) return reply(200, 'text/plain', 'some output\n');
      if (url.pathname === pods && url.searchParams.get('watch') === 'true') {
        requests.push({
          method: 'WATCH',
          url: url.pathname,
          accept: req.headers.accept ?? '',
          answered: WATCH_CONTENT_TYPE,
        });
        res.writeHead(200, { 'content-type': WATCH_CONTENT_TYPE });
        res.write(encodeWatchEvent('MODIFIED', podAt(created, '6', { phase: 'Pending' })));
        const failed = podAt(created, '7', {
          phase: 'Failed',
          containerStatuses: [
            {
              name: 'x',
              state: {
                terminated: {
                  exitCode: 3,
                  reason: 'Error',
                  message: 'boom',
                  startedAt: null,
                  finishedAt: null,
                },
              },
              lastState: {},
              ready: false,
              restartCount: 0,
              image: 'busybox',
              imageID: '',
            },
          ],
        });
        // in a second write, split across two chunks, to exercise the client's framer
        const frame = encodeWatchEvent('MODIFIED', failed);
        setTimeout(() => res.write(frame.subarray(0, 3)), 50);
        setTimeout(() => res.write(frame.subarray(3)), 100);
        return;
      }
      if (url.pathname === pods) {
        const { kind: _k, apiVersion: _a, ...item } = podAt(created, '5', { phase: 'Pending' });
        const list = { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '5' }, items: [item] };
        return reply(200, PROTOBUF_CONTENT_TYPE, encodeObject(list as KubeObject));
      }
      json(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 404, reason: 'NotFound' });
    });
  });
  t.after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await writeFile(
    join(dir, 'kubeconfig'),
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: c, cluster: {server: "http://127.0.0.1:${port}"}}]`,
      'users: [{name: u, user: {token: t}}]',
      'contexts: [{name: x, context: {cluster: c, user: u, namespace: default}}]',
      'current-context: x',
      '',
    ].join('\n'),
  );

  const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      'kubectl',
      ['run', 'x', '--image=busybox', '--restart=Never', '--attach', '--pod-running-timeout=20s'],
      { env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: join(dir, 'kubeconfig') }, timeout: 40_000 },
      (err, stdout, stderr) => {
        const code = err ? Number((err as { code?: unknown }).code ?? -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
  const watches = requests.filter((r) => r.method === 'WATCH');
  assert.ok(watches.length > 0, `kubectl never watched: ${JSON.stringify(requests)}`);
  for (const w of watches) assert.match(w.accept, /^application\/vnd\.kubernetes\.protobuf/);
  assert.equal(result.code, 3, `kubectl exit code, stderr: ${result.stderr}`);
  assert.match(result.stderr, /pod default\/x terminated \(Error\)/);
  assert.match(result.stderr, /boom/);
});
