/**
 * A pod worker over Skiff's real runtime and a real API server: what a sync of a settled pod
 * asks the runtime, and that a container's change still reaches the pod's status.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { builtinRegistry } from '../api/index.ts';
import { startApiServer } from '../apiserver/index.ts';
import { PODS, RestClient } from '../client/index.ts';
import { type CriClient, criClient } from '../cri/index.ts';
import { execCommand } from '../runtime/exec.ts';
import { startTestRuntime } from '../runtime/testing.ts';
import { MemoryBackend } from '../store/index.ts';
import { eventRecorder } from './events.ts';
import { PodWorker, type WorkerEnv } from './pod-worker.ts';

type Json = Record<string, any>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

test('a settled pod syncs with two CRI calls; a container that dies is still seen', async (t) => {
  if (process.getuid?.() !== 0) assert.fail('needs root (runc, mounts, namespaces)');
  // t.after runs hooks in the order given: undo in reverse instead
  const undo: (() => unknown)[] = [];
  t.after(async () => {
    for (const f of undo.reverse()) await f();
  });
  const rt = await startTestRuntime();
  undo.push(() => rt.destroy());
  const backend = new MemoryBackend();
  const api = await startApiServer({
    dataDir: path.join(rt.dir, 'api'),
    port: 0,
    backend,
    registry: builtinRegistry(),
  });
  undo.push(async () => {
    await api.close();
    await backend.close();
  });
  const client = await RestClient.fromKubeconfig(api.kubeconfigPath);
  undo.push(() => client.close());
  const raw = criClient(rt.endpoint);
  undo.push(async () => {
    for (const s of (await raw.listPodSandbox({})).items) {
      await raw.stopPodSandbox({ podSandboxId: s.id });
      await raw.removePodSandbox({ podSandboxId: s.id });
    }
    raw.close();
  });
  const calls: string[] = [];
  const cri = new Proxy(raw, {
    get(target, key) {
      const v = Reflect.get(target, key);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        calls.push(String(key));
        return v.apply(target, args);
      };
    },
  }) as CriClient;
  const dataDir = path.join(rt.dir, 'agent');
  fs.mkdirSync(dataDir);
  const env: WorkerEnv = {
    cri,
    client,
    nodeName: 'n1',
    hostIP: '127.0.0.1',
    dataDir,
    podLogsDir: path.join(rt.dir, 'logs'),
    runtimeScheme: 'skiff',
    node: { cpu: 1, memory: 2 ** 30 },
    get: async () => undefined,
    events: eventRecorder(client, 'n1'),
    clusterDNS: [],
    clusterDomain: 'cluster.local',
    hostResolvConf: '',
    backoffBaseMs: 60_000,
    backoffMaxMs: 60_000,
    backoffResetMs: 600_000,
    log: () => {},
  };
  const pod = (await client.create(PODS, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default' },
    spec: {
      nodeName: 'n1',
      restartPolicy: 'Never',
      containers: [{ name: 'c', image: rt.image.name, command: ['sleep', '3600'] }],
    },
  } as never)) as Json;
  const worker = new PodWorker(pod, env);
  undo.push(() => worker.close());
  const current = async () => (await client.get(PODS, 'p', { namespace: 'default' })) as Json;
  /** Triggers a sync and waits until the worker asked nothing more for a while. */
  const sync = async () => {
    calls.length = 0;
    worker.trigger();
    let seen = -1;
    while (seen !== calls.length) {
      seen = calls.length;
      await sleep(300);
    }
  };

  await sync();
  await until('Running', async () => (await current()).status?.phase === 'Running');
  await sync();
  assert.deepEqual(calls, ['listPodSandbox', 'listContainers'], 'nothing more for a settled pod');

  const [c] = (await raw.listContainers({})).containers;
  await execCommand('runc', ['--root', path.join(rt.stateDir, 'runc'), 'kill', c.id, 'KILL']);
  await until(
    'the container to exit',
    async () => (await raw.containerStatus({ containerId: c.id })).status.state === 'CONTAINER_EXITED',
  );
  await sync();
  assert.ok(calls.includes('containerStatus'), `asked again after the change: ${calls.join(' ')}`);
  const after = await current();
  assert.equal(after.status.phase, 'Failed');
  assert.equal(after.status.containerStatuses[0].state.terminated.exitCode, 137);
});
