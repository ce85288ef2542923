/**
 * pods/log, exec and attach through the API server to a node agent, with the real kubectl
 * against a tiny fake kubelet (HTTP for logs, WebSocket v5.channel.k8s.io for exec) that a Node
 * object points at: container defaulting, follow, query pass-through, stdout/stderr, stdin,
 * exit codes.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocketServer } from 'ws';
import { builtinRegistry } from '../../src/api/index.ts';
import { MemoryBackend } from '../../src/store/index.ts';
import { startTestServer, type TestServer } from './helpers.ts';

interface Seen {
  logs: string[];
  exec: string[];
}

/** Logs echo their path and query; exec runs a tiny script language over the v5 channel protocol. */
function fakeKubelet(seen: Seen): http.Server {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (!url.pathname.startsWith('/containerLogs/')) {
      res.writeHead(404).end();
      return;
    }
    seen.logs.push(`${url.pathname}?${url.searchParams}`);
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    if (url.searchParams.get('follow') === 'true') {
      let n = 0;
      const t = setInterval(() => {
        res.write(`tick ${++n}\n`);
        if (n === 3) {
          clearInterval(t);
          res.end();
        }
      }, 20);
      res.on('close', () => clearInterval(t));
      return;
    }
    res.end(`line 1\nline 2 of ${url.pathname.split('/').at(-1)}\n`);
  });
  const wss = new WebSocketServer({
    server,
    handleProtocols: (offered) => (offered.has('v5.channel.k8s.io') ? 'v5.channel.k8s.io' : false),
  });
  wss.on('connection', (ws, req) => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.exec.push(`${url.pathname}?${url.searchParams}`);
    const command = url.searchParams.getAll('command');
    const send = (ch: number, s: string) => ws.send(Buffer.concat([Buffer.from([ch]), Buffer.from(s)]));
    const finish = (code: number) => {
      send(
        3,
        JSON.stringify(
          code === 0
            ? { metadata: {}, status: 'Success' }
            : {
                metadata: {},
                status: 'Failure',
                message: `command terminated with non-zero exit code: exit status ${code}`,
                reason: 'NonZeroExitCode',
                details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
              },
        ),
      );
      ws.close(1000);
    };
    if (command[0] === 'echo') {
      send(1, `${command.slice(1).join(' ')}\n`);
      send(2, 'to stderr\n');
      finish(0);
    } else if (command[0] === 'exit') finish(Number(command[1]));
    else if (command[0] === 'cat') {
      let got = '';
      ws.on('message', (data: Buffer) => {
        if (data[0] === 0) got += data.subarray(1).toString();
        // v5: channel 255 carries the number of the stream the client closed.
        if (data[0] === 255 && data[1] === 0) {
          send(1, got.toUpperCase());
          finish(0);
        }
      });
    } else finish(127);
  });
  return server;
}

describe('pod logs and exec through the node agent', () => {
  let s: TestServer;
  let kubelet: http.Server;
  const seen: Seen = { logs: [], exec: [] };
  before(async () => {
    kubelet = fakeKubelet(seen);
    await new Promise<void>((r) => kubelet.listen(0, '127.0.0.1', r));
    s = await startTestServer(new MemoryBackend(), builtinRegistry());
    const port = (kubelet.address() as AddressInfo).port;
    const node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'fake' },
      status: {
        addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
        daemonEndpoints: { kubeletEndpoint: { Port: port } },
      },
    };
    const made = await s.kubectl(['create', '-f', '-'], JSON.stringify(node));
    assert.equal(made.code, 0, made.stderr);
    const pod = (name: string, containers: string[], annotations = {}) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, annotations },
      spec: { nodeName: 'fake', containers: containers.map((c) => ({ name: c, image: 'busybox' })) },
    });
    for (const p of [
      pod('one', ['main']),
      pod('two', ['a', 'b']),
      pod('dflt', ['a', 'b'], { 'kubectl.kubernetes.io/default-container': 'b' }),
    ]) {
      const r = await s.kubectl(['create', '-f', '-'], JSON.stringify(p));
      assert.equal(r.code, 0, r.stderr);
    }
  });
  after(async () => {
    await s?.close();
    kubelet?.closeAllConnections();
    await new Promise((r) => kubelet?.close(r));
  });

  it('keeps the status a Node was created with', async () => {
    const r = await s.kubectl(['get', 'node', 'fake', '-o', 'jsonpath={.status.addresses[0].address}']);
    assert.equal(r.stdout, '127.0.0.1');
  });

  it('proxies logs with container defaulting and the query passed on', async () => {
    const one = await s.kubectl(['logs', 'one']);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(one.stdout, 'line 1\nline 2 of main\n');
    const tail = await s.kubectl(['logs', 'two', '-c', 'b', '--tail=5', '--timestamps']);
    assert.equal(tail.stdout, 'line 1\nline 2 of b\n');
    assert.equal(seen.logs.at(-1), '/containerLogs/default/two/b?tailLines=5&timestamps=true');
    // kubectl picks a container itself; the API's own defaulting shows on a raw request.
    const none = await s.kubectl(['get', '--raw', '/api/v1/namespaces/default/pods/two/log']);
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /a container name must be specified for pod two, choose one of: \[a b\]/);
    const annotated = await s.kubectl(['logs', 'dflt']);
    assert.equal(annotated.stdout, 'line 1\nline 2 of b\n');
    const bad = await s.kubectl(['logs', 'one', '-c', 'nope']);
    assert.match(bad.stderr, /container nope is not valid for pod one/);
    const follow = await s.kubectl(['logs', '-f', 'one']);
    assert.equal(follow.code, 0, follow.stderr);
    assert.equal(follow.stdout, 'tick 1\ntick 2\ntick 3\n');
  });

  it('proxies exec over WebSocket: output, stdin and exit codes', async () => {
    const hi = await s.kubectl(['exec', 'one', '--', 'echo', 'hi', 'there']);
    assert.equal(hi.code, 0, hi.stderr);
    assert.equal(hi.stdout, 'hi there\n');
    assert.match(hi.stderr, /to stderr/);
    assert.match(seen.exec.at(-1)!, /^\/exec\/default\/one\/main\?command=echo&command=hi&command=there/);
    const three = await s.kubectl(['exec', 'one', '--', 'exit', '3']);
    assert.equal(three.code, 3, three.stderr);
    const piped = await s.kubectl(['exec', '-i', 'two', '-c', 'a', '--', 'cat'], 'hello\n');
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(piped.stdout, 'HELLO\n');
  });
});
