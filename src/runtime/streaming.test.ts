import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import WebSocket from 'ws';
import { criClient } from '../cri/index.ts';
import { startTestRuntime } from './testing.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A channel-protocol WebSocket client: collects what arrives per channel until the server closes. */
async function openChannels(url: string, protocol: string) {
  const ws = new WebSocket(url.replace(/^http/, 'ws'), [protocol]);
  const frames: [number, Buffer][] = [];
  const closed = new Promise<void>((resolve) => ws.on('close', () => resolve()));
  ws.on('message', (data: Buffer) => frames.push([data[0], data.subarray(1)]));
  await new Promise<void>((resolve, reject) => {
    ws.on('open', () => resolve());
    ws.on('error', reject);
    ws.on('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
  const text = (channel: number) =>
    Buffer.concat(frames.filter(([c]) => c === channel).map(([, d]) => d)).toString();
  const send = (channel: number, data: string | Buffer) =>
    ws.send(Buffer.concat([Buffer.from([channel]), Buffer.from(data)]));
  return { ws, frames, closed, text, send };
}

async function runningPod(t: test.TestContext) {
  if (process.getuid?.() !== 0) assert.fail('needs root (runc, mounts, namespaces)');
  const rt = await startTestRuntime();
  const cri = criClient(rt.endpoint);
  t.after(async () => {
    cri.close();
    await rt.destroy();
  });
  const config = {
    metadata: { name: 'stream', uid: `uid-${path.basename(rt.dir)}`, namespace: 'default' },
    logDirectory: path.join(rt.dir, 'logs'),
  };
  const { podSandboxId } = await cri.runPodSandbox({ config });
  const start = async (name: string, script: string) => {
    const { containerId } = await cri.createContainer({
      podSandboxId,
      sandboxConfig: config,
      config: {
        metadata: { name },
        image: { image: rt.image.name },
        command: ['sh', '-c', script],
        logPath: `${name}.log`,
      },
    });
    await cri.startContainer({ containerId });
    return containerId;
  };
  return { rt, cri, podSandboxId, start };
}

test('Exec streams stdout and reports the exit code on the error channel (v5 and v4)', async (t) => {
  const { rt, cri, start } = await runningPod(t);
  const containerId = await start('sleeper', 'exec sleep 1000');
  for (const protocol of ['v5.channel.k8s.io', 'v4.channel.k8s.io']) {
    const { url } = await cri.exec({
      containerId,
      cmd: ['sh', '-c', 'echo hi; echo there >&2; exit 3'],
      stdout: true,
      stderr: true,
    });
    assert.ok(url.startsWith(`${rt.handle.streamingUrl}/exec/`), url);
    const s = await openChannels(url, protocol);
    await s.closed;
    assert.equal(s.ws.protocol, protocol);
    assert.equal(s.text(1), 'hi\n');
    assert.equal(s.text(2), 'there\n');
    assert.deepEqual(JSON.parse(s.text(3)).details.causes, [{ reason: 'ExitCode', message: '3' }]);
    assert.equal(JSON.parse(s.text(3)).reason, 'NonZeroExitCode');
    // The token was for one connection only.
    await assert.rejects(openChannels(url, protocol), /HTTP 404/);
  }
  const { url } = await cri.exec({ containerId, cmd: ['true'], stdout: true });
  const ok = await openChannels(url, 'v4.channel.k8s.io');
  await ok.closed;
  assert.deepEqual(JSON.parse(ok.text(3)), { metadata: {}, status: 'Success' });
});

test('Exec pipes stdin through cat until the client closes it (v5 close channel)', async (t) => {
  const { cri, start } = await runningPod(t);
  const containerId = await start('sleeper', 'exec sleep 1000');
  const { url } = await cri.exec({ containerId, cmd: ['cat'], stdin: true, stdout: true, stderr: true });
  const s = await openChannels(url, 'v5.channel.k8s.io');
  s.send(0, 'hello ');
  s.send(0, 'through cat\n');
  await sleep(200);
  s.ws.send(Buffer.from([255, 0]));
  await s.closed;
  assert.equal(s.text(1), 'hello through cat\n');
  assert.deepEqual(JSON.parse(s.text(3)), { metadata: {}, status: 'Success' });
});

test('Exec with a terminal runs the command on a pty', async (t) => {
  const { cri, start } = await runningPod(t);
  const containerId = await start('sleeper', 'exec sleep 1000');
  const { url } = await cri.exec({ containerId, cmd: ['sh', '-c', 'tty; exit 2'], tty: true, stdout: true });
  const s = await openChannels(url, 'v5.channel.k8s.io');
  await s.closed;
  assert.match(s.text(1), /\/dev\/pts\/\d+/);
  assert.equal(JSON.parse(s.text(3)).details.causes[0].message, '2');
});

test('Exec with a terminal follows resize messages', async (t) => {
  const { cri, start } = await runningPod(t);
  const containerId = await start('sleeper', 'exec sleep 1000');
  const { url } = await cri.exec({
    containerId,
    cmd: ['sh', '-c', 'sleep 1; busybox stty size'],
    tty: true,
    stdout: true,
  });
  const s = await openChannels(url, 'v5.channel.k8s.io');
  s.send(4, JSON.stringify({ Width: 100, Height: 40 }));
  await s.closed;
  assert.match(s.text(1), /\b40 100\r?\n/);
});

test('Attach follows the output of a running container', async (t) => {
  const { cri, start } = await runningPod(t);
  const containerId = await start(
    'ticker',
    'i=0; while [ $i -lt 100 ]; do echo tick $i; i=$((i+1)); sleep 0.1; done',
  );
  await assert.rejects(cri.attach({ containerId, stdin: true, stdout: true }), /stdin/);
  const { url } = await cri.attach({ containerId, stdout: true, stderr: true });
  const s = await openChannels(url, 'v5.channel.k8s.io');
  await sleep(800);
  s.ws.close();
  await s.closed;
  const lines = s.text(1).trim().split('\n');
  assert.ok(lines.length >= 3, `got ${lines.length} lines`);
  for (const l of lines) assert.match(l, /^tick \d+$/);
});

test('PortForward reaches a busybox httpd inside the sandbox network namespace', async (t) => {
  const { cri, podSandboxId, start } = await runningPod(t);
  await start(
    'web',
    'mkdir -p /tmp/www && echo served from the pod > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www',
  );
  const { url } = await cri.portForward({ podSandboxId, port: [8080] });
  assert.match(url, /\/portforward\//);
  let body = '';
  for (let attempt = 0; attempt < 20 && !body.includes('served from the pod'); attempt++) {
    const { url } = await cri.portForward({ podSandboxId, port: [8080] });
    const s = await openChannels(`${url}?ports=8080`, 'v4.channel.k8s.io');
    s.send(0, 'GET /index.html HTTP/1.0\r\nHost: pod\r\n\r\n');
    await Promise.race([s.closed, sleep(5000)]);
    s.ws.terminate();
    // Each channel opens with the port, little-endian.
    assert.deepEqual(
      s.frames
        .filter(([c]) => c <= 1)
        .slice(0, 2)
        .map(([c, d]) => [c, d.readUInt16LE(0)]),
      [
        [0, 8080],
        [1, 8080],
      ],
    );
    body = Buffer.concat(
      s.frames
        .filter(([c]) => c === 0)
        .slice(1)
        .map(([, d]) => d),
    ).toString();
    if (!body) await sleep(200);
  }
  assert.match(body, /^HTTP\/1\.[01] 200/);
  assert.match(body, /served from the pod/);
});
