/**
 * The node agent on Debian's containerd (1.6) as its CRI endpoint, with a real API server: the
 * same agent code that drives Skiff's runtime runs a busybox pod to Running and Ready with an IP
 * from containerd's CNI network, serves its logs, execs into it through the kubelet's /exec
 * WebSocket (proxied to containerd's streaming server), and `kubectl delete pod` removes the
 * sandbox and containers from containerd. So containerd works as an alternative CRI endpoint.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { builtinRegistry } from '../../src/api/index.ts';
import { startApiServer } from '../../src/apiserver/index.ts';
import { PODS, RestClient } from '../../src/client/index.ts';
import { type CriClient, criClient } from '../../src/cri/index.ts';
import { type Agent, POD_UID, startAgent } from '../../src/kubelet/index.ts';
import { startTestContainerd, type TestContainerd } from '../../src/runtime/index.ts';
import { MemoryBackend } from '../../src/store/index.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, check: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v as T;
    } catch (e) {
      last = e;
    }
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

function kubectl(
  kubeconfig: string,
  args: string[],
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, KUBECONFIG: kubeconfig, HOME: path.dirname(kubeconfig) };
    const child = execFile('kubectl', args, { env, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    child.stdin!.end(input ?? '');
  });
}

type Json = Record<string, any>;

describe('node agent on containerd', { timeout: 600_000 }, () => {
  const closers: (() => Promise<void>)[] = [];
  let dir: string;
  let cd: TestContainerd;
  let cri: CriClient;
  let client: RestClient;
  let agent: Agent;
  let kubeconfig: string;
  let podLogsDir: string;
  const nodeName = `ctd-${process.pid}`;

  before(async () => {
    if (process.getuid?.() !== 0) assert.fail('the agent on containerd needs root (containerd, runc, CNI)');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-kubelet-ctd-'));
    closers.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    const backend = new MemoryBackend();
    const api = await startApiServer({
      dataDir: path.join(dir, 'api'),
      port: 0,
      backend,
      registry: builtinRegistry(),
    });
    closers.push(async () => {
      await api.close();
      await backend.close();
    });
    kubeconfig = api.kubeconfigPath;
    cd = await startTestContainerd();
    closers.push(() => cd.close());
    cri = criClient(cd.endpoint);
    // before containerd stops: every sandbox through CRI, so CNI releases its addresses
    closers.push(async () => {
      for (const s of (await cri.listPodSandbox({}).catch(() => ({ items: [] }))).items) {
        await cri.stopPodSandbox({ podSandboxId: s.id }).catch(() => {});
        await cri.removePodSandbox({ podSandboxId: s.id }).catch(() => {});
      }
      cri.close();
    });
    client = await RestClient.fromKubeconfig(kubeconfig);
    closers.push(async () => client.close());
    podLogsDir = path.join(dir, 'logs');
    agent = await startAgent({
      kubeconfig,
      nodeName,
      criEndpoint: cd.endpoint,
      dataDir: path.join(dir, 'agent'),
      podLogsDir,
      podCIDR: '10.99.0.0/24',
      hostIP: '127.0.0.1',
      port: 0,
      syncPeriodMs: 1000,
      nodeStatusMs: 2000,
      leaseRenewMs: 2000,
      log: () => {},
    });
    closers.push(() => agent.close());
  });

  after(async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
  });

  const get = async (name: string): Promise<Json> =>
    (await client.get(PODS, name, { namespace: 'default' })) as Json;

  it('registers a Ready node that names containerd as its runtime', async () => {
    const node = await until('the node to be Ready', async () => {
      const r = await kubectl(kubeconfig, ['get', 'node', nodeName, '-o', 'json']);
      if (r.code !== 0) return undefined;
      const n = JSON.parse(r.stdout);
      return n.status?.conditions?.find((c: Json) => c.type === 'Ready')?.status === 'True' ? n : undefined;
    });
    assert.match(node.status.nodeInfo.containerRuntimeVersion, /^containerd:\/\/1\.6/);
  });

  it('runs a busybox pod to Running and Ready with a pod IP and readable logs, execs into it, and deletes it', async () => {
    const r = await kubectl(
      kubeconfig,
      ['create', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'hello', namespace: 'default' },
        spec: {
          nodeName,
          terminationGracePeriodSeconds: 2,
          containers: [
            {
              name: 'c',
              image: cd.image,
              command: ['sh', '-c', 'echo hello from $(hostname); echo second line; exec sleep 3600'],
            },
          ],
        },
      }),
    );
    assert.equal(r.code, 0, r.stderr);
    const ready = await until(
      'hello Running and Ready',
      async () => {
        const p = await get('hello');
        const isReady = p.status?.conditions?.find((c: Json) => c.type === 'Ready')?.status === 'True';
        return p.status?.phase === 'Running' && isReady && p.status.podIP ? p : undefined;
      },
      120_000,
    );
    // the IP comes from containerd's own CNI network, not loopback
    assert.match(ready.status.podIP, /^10\.\d+\.\d+\.\d+$/);
    assert.deepEqual(ready.status.podIPs, [{ ip: ready.status.podIP }]);
    const cs = ready.status.containerStatuses[0];
    assert.equal(cs.ready, true);
    assert.equal(cs.restartCount, 0);
    assert.match(cs.containerID, /^containerd:\/\/[0-9a-f]{64}$/);
    const containerId = cs.containerID.replace('containerd://', '');

    // containerd holds the sandbox and the container, labelled with the pod's UID
    const uid = ready.metadata.uid;
    const sandboxes = (await cri.listPodSandbox({ filter: { labelSelector: { [POD_UID]: uid } } })).items;
    assert.equal(sandboxes.length, 1);
    assert.equal(sandboxes[0].state, 'SANDBOX_READY');
    const sbStatus = await cri.podSandboxStatus({ podSandboxId: sandboxes[0].id });
    assert.equal(sbStatus.status.network?.ip, ready.status.podIP);
    const { status } = await cri.containerStatus({ containerId });
    assert.equal(status.state, 'CONTAINER_RUNNING');
    assert.ok(status.logPath.startsWith(podLogsDir), `${status.logPath} under ${podLogsDir}`);

    // logs: containerd writes the CRI log file, the agent serves it
    const logs = async (query = '') => {
      const res = await fetch(`${agent.server.url}/containerLogs/default/hello/c${query}`);
      return { code: res.status, text: await res.text() };
    };
    await until('both log lines', async () => (await logs()).text.includes('second line'));
    const l = await logs();
    assert.equal(l.code, 200);
    assert.equal(l.text, 'hello from hello\nsecond line\n');
    assert.equal((await logs('?tailLines=1')).text, 'second line\n');

    // exec through the kubelet's /exec, relayed to containerd's streaming server
    const cmd = ['sh', '-c', 'echo out-$(hostname); echo err >&2; exit 3']
      .map((c) => `command=${encodeURIComponent(c)}`)
      .join('&');
    const ws = new WebSocket(
      `${agent.server.url.replace(/^http/, 'ws')}/exec/default/hello/c?${cmd}&stdout=1&stderr=1`,
      ['v5.channel.k8s.io', 'v4.channel.k8s.io'],
    );
    const channels = new Map<number, Buffer[]>();
    ws.on('message', (data: Buffer) => {
      if (data.length < 2) return;
      channels.set(data[0], [...(channels.get(data[0]) ?? []), data.subarray(1)]);
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('close', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) =>
        reject(new Error(`exec answered HTTP ${res.statusCode}`)),
      );
    });
    const text = (ch: number) => Buffer.concat(channels.get(ch) ?? []).toString();
    assert.match(ws.protocol, /^v[45]\.channel\.k8s\.io$/);
    assert.equal(text(1), 'out-hello\n');
    assert.equal(text(2), 'err\n');
    const exit = JSON.parse(text(3));
    assert.equal(exit.reason, 'NonZeroExitCode');
    assert.deepEqual(exit.details.causes, [{ reason: 'ExitCode', message: '3' }]);

    // kubectl delete pod: the pod leaves the API and its sandbox and containers leave containerd
    const del = await kubectl(kubeconfig, ['delete', 'pod', 'hello', '--wait=true', '--timeout=90s']);
    assert.equal(del.code, 0, del.stderr);
    await until(
      'containerd to forget the pod',
      async () => {
        const left = (await cri.listPodSandbox({ filter: { labelSelector: { [POD_UID]: uid } } })).items;
        const ctrs = (await cri.listContainers({})).containers.filter((c) => c.labels[POD_UID] === uid);
        return left.length === 0 && ctrs.length === 0;
      },
      60_000,
    );
    const gone = await kubectl(kubeconfig, ['get', 'pod', 'hello']);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /NotFound|not found/);
  });
});
