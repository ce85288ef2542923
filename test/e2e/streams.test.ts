/**
 * kubectl's streaming commands against a real `skiff server` and its node: `port-forward` (SPDY
 * tunnelled in a WebSocket, ended by the API server and carried on to the kubelet's v4 channel
 * WebSocket), `attach` (the container's output) and `cp` both ways (exec of `tar`).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildTestImage } from '../../src/runtime/index.ts';
import { type SkiffServer, startSkiffServer, until } from './skiff.ts';

let s: SkiffServer;
let dir: string;
const children = new Set<ChildProcess>();

const POD = `apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: skiff.local/busybox:1.35
    command: ["sh", "-c", "mkdir -p /www && echo hello-from-web > /www/index.html && httpd -p 8080 -h /www && while true; do echo tick $(date +%s); sleep 1; done"]
    ports:
    - containerPort: 8080
`;

before(async () => {
  s = await startSkiffServer();
  dir = await mkdtemp(join(tmpdir(), 'skiff-e2e-streams-'));
  const image = await buildTestImage(dir);
  await s.skiff('image', 'import', image.dockerArchive);
  await writeFile(join(dir, 'pod.yaml'), POD);
  await s.kubectl('apply', '-f', join(dir, 'pod.yaml'));
  await s.kubectl('wait', '--for=condition=Ready', 'pod/web', '--timeout=90s');
});

after(async () => {
  for (const c of children) stopChild(c);
  await s?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** kubectl as a long-running child, its output collected; stopped by PID. */
function kubectlChild(
  env: Record<string, string>,
  ...args: string[]
): { proc: ChildProcess; output: () => string } {
  const proc = spawn('kubectl', args, {
    env: { ...process.env, ...env, KUBECONFIG: s.kubeconfig },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  let out = '';
  proc.stdout!.on('data', (d) => {
    out += d;
  });
  proc.stderr!.on('data', (d) => {
    out += d;
  });
  return { proc, output: () => out };
}

function stopChild(c: ChildProcess): void {
  if (c.pid && c.exitCode === null && c.signalCode === null) process.kill(c.pid, 'SIGTERM');
}

/** One GET on a fresh connection. */
function get(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 15_000 }, (res) => {
      let body = '';
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('GET timed out')));
    req.on('error', reject);
  });
}

/** Starts `kubectl port-forward pod/web 0:<remote>` and waits for the local port it chose. */
async function portForward(remote: number, env: Record<string, string> = {}) {
  const pf = kubectlChild(env, 'port-forward', '-v=4', 'pod/web', `0:${remote}`);
  const port = await until(
    'kubectl port-forward to listen',
    async () => {
      const m = new RegExp(`Forwarding from 127\\.0\\.0\\.1:(\\d+) -> ${remote}`).exec(pf.output());
      if (!m && pf.proc.exitCode !== null) throw new Error(`kubectl exited:\n${pf.output()}`);
      return m ? Number(m[1]) : undefined;
    },
    30_000,
  );
  return { ...pf, port };
}

for (const [transport, env] of [
  ['SPDY tunnelled in a WebSocket', {}],
  ['a plain SPDY/3.1 upgrade', { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }],
] as const) {
  test(`kubectl port-forward carries HTTP to the pod, one connection after another (${transport})`, async () => {
    const pf = await portForward(8080, env);
    try {
      for (let i = 0; i < 2; i++) {
        const res = await get(pf.port);
        assert.equal(res.status, 200, `request ${i + 1}`);
        assert.equal(res.body.trim(), 'hello-from-web', `request ${i + 1}`);
      }
      assert.equal(pf.proc.exitCode, null, `port-forward still runs:\n${pf.output()}`);
      assert.doesNotMatch(pf.output(), /fallback to secondary dialer|error/i);
      if (!env.KUBECTL_PORT_FORWARD_WEBSOCKETS)
        assert.match(pf.output(), /negotiated protocol: portforward\.k8s\.io/);
    } finally {
      stopChild(pf.proc);
    }
  });
}

test('kubectl port-forward to a port nothing listens on reports the error from the pod', async () => {
  const pf = await portForward(9999);
  try {
    await assert.rejects(get(pf.port));
    await until(
      'kubectl to report the error',
      async () => /error forwarding port 9999/.test(pf.output()),
      15_000,
    );
  } finally {
    stopChild(pf.proc);
  }
});

test('kubectl attach follows the container output', async () => {
  const at = kubectlChild({}, 'attach', 'web', '-c', 'web');
  try {
    await until('attach to show a tick', async () => {
      if (at.proc.exitCode !== null) throw new Error(`kubectl attach exited:\n${at.output()}`);
      return /tick \d+/.test(at.output());
    });
  } finally {
    stopChild(at.proc);
  }
});

test('kubectl cp copies a file into the pod and back out unchanged', async () => {
  const content = `${randomBytes(3000).toString('base64')}\nend\n`;
  const src = join(dir, 'in.txt');
  const back = join(dir, 'back.txt');
  await writeFile(src, content);
  await s.kubectl('cp', src, 'web:/tmp/in.txt', '-c', 'web');
  assert.equal(await s.kubectl('exec', 'web', '--', 'cat', '/tmp/in.txt'), content);
  await s.kubectl('cp', 'web:/tmp/in.txt', back, '-c', 'web');
  assert.equal(await readFile(back, 'utf8'), content);
});
