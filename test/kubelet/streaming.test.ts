/**
 * The kubelet's streaming endpoints on a real node: a WebSocket client talks to the agent's
 * /exec, /attach and /portForward, which proxy to Skiff's runtime streaming server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { PODS } from '../../src/client/index.ts';
import { startTestNode, type TestNode, until } from './harness.ts';

type Json = Record<string, any>;

interface Session {
  protocol: string;
  /** data per channel, in arrival order */
  channels: Map<number, Buffer[]>;
  ws: WebSocket;
  closed: Promise<number>;
  text(channel: number): string;
}

/** Opens a channel-protocol WebSocket and collects what arrives on each channel. */
async function open(url: string, protocols: string[]): Promise<Session> {
  const ws = new WebSocket(url, protocols);
  const channels = new Map<number, Buffer[]>();
  ws.on('message', (data: Buffer, isBinary) => {
    assert.ok(isBinary, 'binary frames on a binary channel protocol');
    if (!data.length) return;
    const list = channels.get(data[0]) ?? [];
    list.push(data.subarray(1));
    channels.set(data[0], list);
  });
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () =>
        reject(Object.assign(new Error(`HTTP ${res.statusCode}: ${body}`), { status: res.statusCode })),
      );
    });
  });
  return {
    protocol: ws.protocol,
    channels,
    ws,
    closed,
    text: (ch) => Buffer.concat(channels.get(ch) ?? []).toString(),
  };
}

const send = (ws: WebSocket, channel: number, data: string | Buffer) =>
  ws.send(Buffer.concat([Buffer.from([channel]), Buffer.from(data)]));

describe('kubelet streaming: exec, attach, port-forward', { timeout: 300_000 }, () => {
  let n: TestNode;
  before(async () => {
    n = await startTestNode();
    const pod = (name: string, script: string): Json => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'default' },
      spec: {
        nodeName: n.nodeName,
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'c', image: n.image, command: ['sh', '-c', script] }],
      },
    });
    await n.client.create(PODS, pod('shell', 'sleep 3600') as any);
    await n.client.create(
      PODS,
      pod(
        'web',
        'mkdir -p /www && echo hello-from-httpd > /www/index.html && exec httpd -f -p 8080 -h /www',
      ) as any,
    );
    await n.client.create(PODS, pod('ticker', 'while true; do echo tick; sleep 0.2; done') as any);
    for (const name of ['shell', 'web', 'ticker'])
      await until(
        `${name} running`,
        async () => {
          const p = (await n.client.get(PODS, name, { namespace: 'default' })) as Json;
          return p.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.ready;
        },
        60_000,
      );
  });
  after(async () => {
    await n?.destroy();
  });

  const ws = (path: string) => `${n.agent.server.url.replace(/^http/, 'ws')}${path}`;
  const cmd = (...c: string[]) => c.map((x) => `command=${encodeURIComponent(x)}`).join('&');

  it('exec runs `echo hi; exit 3` and reports exit code 3 (v5, v4 negotiated through)', async () => {
    for (const proto of ['v5.channel.k8s.io', 'v4.channel.k8s.io']) {
      const s = await open(
        ws(`/exec/default/shell/c?${cmd('sh', '-c', 'echo hi; echo oops >&2; exit 3')}&stdout=1&stderr=1`),
        [proto],
      );
      assert.equal(s.protocol, proto);
      await s.closed;
      assert.equal(s.text(1), 'hi\n');
      assert.equal(s.text(2), 'oops\n');
      const st = JSON.parse(s.text(3));
      assert.equal(st.status, 'Failure');
      assert.equal(st.reason, 'NonZeroExitCode');
      assert.deepEqual(st.details.causes, [{ reason: 'ExitCode', message: '3' }]);
    }
  });

  it('exec passes stdin through cat and closes it with the v5 close frame', async () => {
    const s = await open(ws(`/exec/default/shell/c?${cmd('cat')}&stdin=1&stdout=1&stderr=1`), [
      'v5.channel.k8s.io',
      'v4.channel.k8s.io',
    ]);
    assert.equal(s.protocol, 'v5.channel.k8s.io');
    send(s.ws, 0, 'line one\n');
    send(s.ws, 0, 'line two\n');
    await until('cat to echo', async () => s.text(1) === 'line one\nline two\n', 10_000);
    s.ws.send(Buffer.from([255, 0]));
    await s.closed;
    assert.equal(JSON.parse(s.text(3)).status, 'Success');
  });

  it('attach follows the main process output', async () => {
    const s = await open(ws('/attach/default/ticker/c?stdout=1&stderr=1'), ['v4.channel.k8s.io']);
    await until('a tick', async () => s.text(1).includes('tick\n'), 10_000);
    s.ws.close();
    await s.closed;
  });

  it('port-forward reaches busybox httpd inside the pod', async () => {
    const s = await open(ws('/portForward/default/web?port=8080'), ['v4.channel.k8s.io']);
    assert.equal(s.protocol, 'v4.channel.k8s.io');
    // each channel first carries the port, little endian
    await until(
      'the port prefixes',
      async () => s.channels.get(0)?.length && s.channels.get(1)?.length,
      10_000,
    );
    assert.equal(s.channels.get(0)![0].readUInt16LE(0), 8080);
    assert.equal(s.channels.get(1)![0].readUInt16LE(0), 8080);
    send(s.ws, 0, 'GET /index.html HTTP/1.0\r\nHost: x\r\n\r\n');
    const body = await until(
      'the HTTP answer',
      async () => {
        const t = Buffer.concat(s.channels.get(0)!.slice(1)).toString();
        return t.includes('hello-from-httpd') ? t : undefined;
      },
      15_000,
    );
    assert.match(body, /^HTTP\/1\.[01] 200/);
    s.ws.close();
    await s.closed;
  });

  it('refuses unknown pods and containers and a missing command with a Status', async () => {
    const fail = async (path: string) => {
      const err = await open(ws(path), ['v4.channel.k8s.io']).then(
        () => assert.fail(`${path} was accepted`),
        (e) => e,
      );
      return err as Error & { status: number };
    };
    let e = await fail(`/exec/default/nope/c?${cmd('true')}&stdout=1`);
    assert.equal(e.status, 404);
    assert.match(e.message, /"reason":"NotFound"/);
    e = await fail(`/exec/default/shell/other?${cmd('true')}&stdout=1`);
    assert.equal(e.status, 400);
    e = await fail('/exec/default/shell/c?stdout=1');
    assert.equal(e.status, 400);
    e = await fail('/portForward/default/web');
    assert.equal(e.status, 400);
  });
});
