/**
 * The CRI conformance suite: behaviour every CRI implementation Skiff's node agent may drive must
 * show, run against a live endpoint. Each implementation's test file calls
 *
 *   describeCriConformance('skiff', async (t) => ({ endpoint, image, close }));
 *
 * where `setup` starts the runtime with the busybox test image already present (imported or
 * pulled) and `close` stops it and removes what it made. Tests need root and runc.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { type CriClient, criClient } from './client.ts';
import { parseCriLog } from './log-format.ts';
import type { ContainerConfig, PodSandboxConfig } from './types.ts';

export interface CriTarget {
  /** `unix:///…` */
  endpoint: string;
  /** a busybox image reference the runtime already holds */
  image: string;
  /** this process serves `endpoint`: the suite's client calls it directly (CriClientOptions) */
  sameProcess?: boolean;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

export function describeCriConformance(name: string, setup: (t: TestContext) => Promise<CriTarget>): void {
  describe(`CRI conformance: ${name}`, () => {
    /** A sandbox plus client, all torn down after the test even when it fails. */
    async function fixture(t: TestContext) {
      if (process.getuid?.() !== 0) assert.fail('CRI conformance needs root');
      const target = await setup(t);
      const cri = criClient(target.endpoint, { sameProcess: target.sameProcess });
      const suffix = Math.random().toString(36).slice(2, 8);
      const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-cri-logs-'));
      const sandboxes: string[] = [];
      t.after(async () => {
        for (const id of sandboxes) {
          await cri.stopPodSandbox({ podSandboxId: id }).catch(() => {});
          await cri.removePodSandbox({ podSandboxId: id }).catch(() => {});
        }
        cri.close();
        await target.close();
        fs.rmSync(logDir, { recursive: true, force: true });
      });
      const sandboxConfig = (labels: Record<string, string> = {}): PodSandboxConfig => ({
        metadata: { name: `pod-${suffix}`, uid: `uid-${suffix}`, namespace: 'conformance', attempt: 0 },
        hostname: `pod-${suffix}`,
        logDirectory: logDir,
        labels: { suite: 'conformance', ...labels },
        linux: {},
      });
      const runSandbox = async (labels?: Record<string, string>) => {
        const config = sandboxConfig(labels);
        const { podSandboxId } = await cri.runPodSandbox({ config });
        sandboxes.push(podSandboxId);
        return { id: podSandboxId, config };
      };
      const container = (
        name: string,
        args: string[],
        extra: Partial<ContainerConfig> = {},
      ): ContainerConfig => ({
        metadata: { name, attempt: 0 },
        image: { image: target.image },
        command: ['/bin/sh', '-c'],
        args,
        logPath: `${name}.log`,
        labels: { app: name },
        ...extra,
      });
      return { cri, target, runSandbox, container, logDir, suffix };
    }

    test('Version and Status', async (t) => {
      const { cri } = await fixture(t);
      const v = await cri.version({ version: 'v1' });
      assert.equal(v.runtimeApiVersion, 'v1');
      assert.ok(v.runtimeName);
      const s = await cri.status({});
      const ready = s.status.conditions.find((c) => c.type === 'RuntimeReady');
      assert.equal(ready?.status, true);
    });

    test('image is listed and has a status', async (t) => {
      const { cri, target } = await fixture(t);
      const st = await cri.imageStatus({ image: { image: target.image } });
      assert.ok(st.image, 'image present');
      assert.match(st.image.id, /^sha256:[a-f0-9]{64}$/);
      const list = await cri.listImages({});
      assert.ok(list.images.some((i) => i.id === st.image!.id));
      const missing = await cri.imageStatus({ image: { image: 'skiff.local/absent:none' } });
      assert.equal(missing.image, null);
    });

    test('sandbox lifecycle: run, status, list with filters, stop, remove', async (t) => {
      const { cri, runSandbox, suffix } = await fixture(t);
      const { id, config } = await runSandbox({ pick: suffix });
      const st = await cri.podSandboxStatus({ podSandboxId: id });
      assert.equal(st.status.state, 'SANDBOX_READY');
      assert.equal(st.status.metadata.name, config.metadata!.name);
      assert.equal(st.status.labels.pick, suffix);
      const byLabel = await cri.listPodSandbox({ filter: { labelSelector: { pick: suffix } } });
      assert.deepEqual(
        byLabel.items.map((s) => s.id),
        [id],
      );
      const none = await cri.listPodSandbox({ filter: { labelSelector: { pick: 'nope' } } });
      assert.equal(none.items.length, 0);
      await cri.stopPodSandbox({ podSandboxId: id });
      const stopped = await cri.podSandboxStatus({ podSandboxId: id });
      assert.equal(stopped.status.state, 'SANDBOX_NOTREADY');
      const ready = await cri.listPodSandbox({ filter: { id, state: { state: 'SANDBOX_READY' } } });
      assert.equal(ready.items.length, 0);
      await cri.removePodSandbox({ podSandboxId: id });
      const gone = await cri.listPodSandbox({ filter: { id } });
      assert.equal(gone.items.length, 0);
    });

    test('container lifecycle, logs in CRI format, ExecSync, exit code, label filters', async (t) => {
      const { cri, runSandbox, container, logDir } = await fixture(t);
      const sb = await runSandbox();
      const cfg = container(
        'worker',
        ['echo hello; echo oops >&2; echo ready > /tmp/ready; exec sleep 1000'],
        {
          envs: [{ key: 'GREETING', value: 'hi there' }],
        },
      );
      const { containerId } = await cri.createContainer({
        podSandboxId: sb.id,
        config: cfg,
        sandboxConfig: sb.config,
      });
      let st = await cri.containerStatus({ containerId });
      assert.equal(st.status.state, 'CONTAINER_CREATED');
      await cri.startContainer({ containerId });
      st = await cri.containerStatus({ containerId });
      assert.equal(st.status.state, 'CONTAINER_RUNNING');
      assert.ok(st.status.startedAt > 0);

      await until('the container to be ready', async () => {
        const r = await cri.execSync({ containerId, cmd: ['cat', '/tmp/ready'], timeout: 5 });
        return r.exitCode === 0;
      });
      const env = await cri.execSync({
        containerId,
        cmd: ['sh', '-c', 'echo "$GREETING"; hostname; exit 3'],
        timeout: 10,
      });
      assert.equal(env.exitCode, 3);
      assert.equal(env.stdout.toString(), `hi there\n${sb.config.hostname}\n`);
      const err = await cri.execSync({ containerId, cmd: ['sh', '-c', 'echo bad >&2'], timeout: 10 });
      assert.equal(err.stderr.toString(), 'bad\n');

      const logFile = path.join(logDir, 'worker.log');
      const lines = await until('two log lines', async () => {
        const text = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
        const parsed = parseCriLog(text);
        return parsed.length >= 2 ? parsed : undefined;
      });
      assert.deepEqual(lines.map((l) => [l.stream, l.tag, l.content]).sort(), [
        ['stderr', 'F', 'oops'],
        ['stdout', 'F', 'hello'],
      ]);

      const byLabel = await cri.listContainers({
        filter: { labelSelector: { app: 'worker' }, podSandboxId: sb.id },
      });
      assert.deepEqual(
        byLabel.containers.map((c) => c.id),
        [containerId],
      );
      assert.equal(byLabel.containers[0].state, 'CONTAINER_RUNNING');
      const other = await cri.listContainers({
        filter: { labelSelector: { app: 'other' }, podSandboxId: sb.id },
      });
      assert.equal(other.containers.length, 0);

      await cri.stopContainer({ containerId, timeout: 2 });
      st = await cri.containerStatus({ containerId });
      assert.equal(st.status.state, 'CONTAINER_EXITED');
      assert.notEqual(st.status.exitCode, 0);
      assert.ok(st.status.finishedAt >= st.status.startedAt);
      const exited = await cri.listContainers({
        filter: { state: { state: 'CONTAINER_EXITED' }, podSandboxId: sb.id },
      });
      assert.deepEqual(
        exited.containers.map((c) => c.id),
        [containerId],
      );
      await cri.removeContainer({ containerId });
      const after = await cri.listContainers({ filter: { podSandboxId: sb.id } });
      assert.equal(after.containers.length, 0);
    });

    test('a container that exits on its own records its exit code', async (t) => {
      const { cri, runSandbox, container } = await fixture(t);
      const sb = await runSandbox();
      const { containerId } = await cri.createContainer({
        podSandboxId: sb.id,
        config: container('quitter', ['echo bye; exit 7']),
        sandboxConfig: sb.config,
      });
      await cri.startContainer({ containerId });
      const st = await until('the container to exit', async () => {
        const s = await cri.containerStatus({ containerId });
        return s.status.state === 'CONTAINER_EXITED' ? s : undefined;
      });
      assert.equal(st.status.exitCode, 7);
      assert.ok(st.status.finishedAt > 0);
    });
  });
}

export type { CriClient };
