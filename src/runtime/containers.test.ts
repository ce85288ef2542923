import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { criClient } from '../cri/index.ts';
import { mountsUnder, startTestRuntime } from './testing.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function requireRoot() {
  if (process.getuid?.() !== 0) assert.fail('needs root (runc, mounts, namespaces, cgroups)');
}

async function startedRuntime(t: test.TestContext) {
  requireRoot();
  const rt = await startTestRuntime();
  const cri = criClient(rt.endpoint);
  t.after(async () => {
    cri.close();
    await rt.destroy();
  });
  const config = {
    metadata: { name: 'web', uid: `uid-${path.basename(rt.dir)}`, namespace: 'default' },
    hostname: 'web',
    logDirectory: path.join(rt.dir, 'logs'),
    labels: { app: 'web' },
  };
  const { podSandboxId } = await cri.runPodSandbox({ config });
  const create = (name: string, script: string, extra: object = {}) =>
    cri.createContainer({
      podSandboxId,
      sandboxConfig: config,
      config: {
        metadata: { name },
        image: { image: rt.image.name },
        command: ['sh', '-c', script],
        logPath: `${name}.log`,
        ...extra,
      },
    });
  return { rt, cri, podSandboxId, create };
}

test('memory and cpu limits land in the container cgroup; stats and update work', async (t) => {
  const { rt, cri, create } = await startedRuntime(t);
  const { containerId } = await create('limited', 'exec sleep 1000', {
    linux: {
      resources: { memoryLimitInBytes: 64 * 1024 * 1024, cpuShares: 512, cpuQuota: 50000, cpuPeriod: 100000 },
    },
  });
  await cri.startContainer({ containerId });
  const rec = JSON.parse(
    fs.readFileSync(path.join(rt.stateDir, 'containers', containerId, 'container.json'), 'utf8'),
  );
  const mem = path.join('/sys/fs/cgroup/memory', rec.cgroupsPath);
  assert.equal(
    fs.readFileSync(path.join(mem, 'memory.limit_in_bytes'), 'utf8').trim(),
    String(64 * 1024 * 1024),
  );
  const cpu = path.join('/sys/fs/cgroup/cpu', rec.cgroupsPath);
  assert.equal(fs.readFileSync(path.join(cpu, 'cpu.shares'), 'utf8').trim(), '512');
  assert.equal(fs.readFileSync(path.join(cpu, 'cpu.cfs_quota_us'), 'utf8').trim(), '50000');
  const { stats } = await cri.containerStats({ containerId });
  assert.ok((stats.memory?.usageBytes?.value ?? 0) > 0, 'memory usage reported');
  assert.ok(stats.cpu?.usageCoreNanoSeconds, 'cpu usage reported');
  await cri.updateContainerResources({ containerId, linux: { memoryLimitInBytes: 128 * 1024 * 1024 } });
  assert.equal(
    fs.readFileSync(path.join(mem, 'memory.limit_in_bytes'), 'utf8').trim(),
    String(128 * 1024 * 1024),
  );
  const list = await cri.listContainerStats({ filter: { id: containerId } });
  assert.equal(list.stats.length, 1);
});

test('stop and remove leave no process, mount, namespace or cgroup behind', async (t) => {
  const { rt, cri, podSandboxId, create } = await startedRuntime(t);
  const { containerId } = await create('victim', 'trap "" TERM; exec sleep 1000');
  await cri.startContainer({ containerId });
  const rec = JSON.parse(
    fs.readFileSync(path.join(rt.stateDir, 'containers', containerId, 'container.json'), 'utf8'),
  );
  const state = JSON.parse(
    (await import('node:child_process')).execFileSync(
      'runc',
      ['--root', path.join(rt.stateDir, 'runc'), 'state', containerId],
      {
        encoding: 'utf8',
      },
    ),
  );
  const pid: number = state.pid;
  assert.ok(fs.existsSync(`/proc/${pid}`));
  assert.ok(mountsUnder(rt.stateDir).length >= 4, 'rootfs and namespace files mounted');
  const t0 = Date.now();
  await cri.stopContainer({ containerId, timeout: 1 });
  assert.ok(Date.now() - t0 >= 900, 'waited for the grace period before SIGKILL');
  const st = await cri.containerStatus({ containerId });
  assert.equal(st.status.exitCode, 137);
  await cri.removeContainer({ containerId });
  await cri.stopPodSandbox({ podSandboxId });
  await cri.removePodSandbox({ podSandboxId });
  for (let i = 0; i < 20 && fs.existsSync(`/proc/${pid}`); i++) await sleep(50);
  assert.equal(fs.existsSync(`/proc/${pid}`), false, 'container process gone');
  assert.deepEqual(mountsUnder(rt.stateDir), []);
  assert.equal(
    fs.existsSync(path.join('/sys/fs/cgroup/memory', rec.cgroupsPath)),
    false,
    'container cgroup gone',
  );
  assert.equal(
    fs.existsSync(path.join('/sys/fs/cgroup/memory', path.dirname(rec.cgroupsPath))),
    false,
    'pod cgroup gone',
  );
  assert.deepEqual(fs.readdirSync(path.join(rt.stateDir, 'containers')), []);
  assert.deepEqual(fs.readdirSync(path.join(rt.stateDir, 'sandboxes')), []);
  const runcList = (await import('node:child_process')).execFileSync(
    'runc',
    ['--root', path.join(rt.stateDir, 'runc'), 'list', '-q'],
    { encoding: 'utf8' },
  );
  assert.equal(runcList.trim(), '');
});

test('a restarted runtime still lists and runs its containers', async (t) => {
  const { rt, cri, podSandboxId, create } = await startedRuntime(t);
  const { containerId } = await create(
    'survivor',
    'i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done',
  );
  await cri.startContainer({ containerId });
  await rt.restart();
  const cri2 = criClient(rt.endpoint);
  t.after(() => cri2.close());
  const { containers } = await cri2.listContainers({ filter: { podSandboxId } });
  assert.deepEqual(
    containers.map((c) => [c.id, c.state]),
    [[containerId, 'CONTAINER_RUNNING']],
  );
  const sb = await cri2.podSandboxStatus({ podSandboxId });
  assert.equal(sb.status.state, 'SANDBOX_READY');
  const r = await cri2.execSync({ containerId, cmd: ['echo', 'still here'], timeout: 5 });
  assert.equal(r.stdout.toString(), 'still here\n');
  const log = path.join(rt.dir, 'logs', 'survivor.log');
  const before = fs.readFileSync(log, 'utf8').split('\n').length;
  await sleep(600);
  assert.ok(fs.readFileSync(log, 'utf8').split('\n').length > before, 'the monitor keeps logging');
  await cri2.stopContainer({ containerId, timeout: 0 });
  assert.equal((await cri2.containerStatus({ containerId })).status.state, 'CONTAINER_EXITED');
});

test('user, working dir, read-only rootfs, mounts and ExecSync timeout', async (t) => {
  const { rt, cri, create } = await startedRuntime(t);
  const hostDir = path.join(rt.dir, 'shared');
  fs.mkdirSync(hostDir);
  fs.writeFileSync(path.join(hostDir, 'greeting'), 'hello from the host\n');
  const { containerId } = await create('locked', 'exec sleep 1000', {
    workingDir: '/tmp',
    mounts: [{ containerPath: '/data', hostPath: hostDir, readonly: true }],
    linux: { securityContext: { runAsUsername: 'nobody', readonlyRootfs: true } },
  });
  await cri.startContainer({ containerId });
  const r = await cri.execSync({
    containerId,
    cmd: [
      'sh',
      '-c',
      'id -u; id -g; pwd; cat /data/greeting; touch /x 2>/dev/null || echo ro; touch /data/y 2>/dev/null || echo ro2',
    ],
    timeout: 10,
  });
  assert.equal(r.stdout.toString(), '65534\n65534\n/tmp\nhello from the host\nro\nro2\n');
  await assert.rejects(cri.execSync({ containerId, cmd: ['sleep', '10'], timeout: 1 }), /timed out/);
});

test('PullImage fetches from a distribution registry by tag, verifying digests', async (t) => {
  const { rt, cri } = await startedRuntime(t);
  // A minimal static registry serving the OCI layout of the test image.
  const blobs = path.join(rt.image.ociDir, 'blobs', 'sha256');
  const manifest = fs.readFileSync(path.join(blobs, rt.image.manifestDigest.slice(7)));
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: rt.image.manifestDigest,
          size: manifest.length,
          platform: { os: 'linux', architecture: 'arm64' },
        },
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: rt.image.manifestDigest,
          size: manifest.length,
          platform: { os: 'linux', architecture: 'amd64' },
        },
      ],
    }),
  );
  const indexDigest = `sha256:${createHash('sha256').update(index).digest('hex')}`;
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.url!);
    const m = /^\/v2\/lib\/box\/(manifests|blobs)\/(.+)$/.exec(req.url ?? '');
    if (m?.[1] === 'manifests' && (m[2] === 'v1' || m[2] === indexDigest)) {
      res.writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json' }).end(index);
    } else if (m?.[2].startsWith('sha256:') && fs.existsSync(path.join(blobs, m[2].slice(7)))) {
      res.writeHead(200).end(fs.readFileSync(path.join(blobs, m[2].slice(7))));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const ref = `127.0.0.1:${(server.address() as AddressInfo).port}/lib/box:v1`;
  const { imageRef } = await cri.pullImage({ image: { image: ref } });
  assert.equal(imageRef, rt.image.configDigest);
  const st = await cri.imageStatus({ image: { image: ref } });
  assert.ok(st.image?.repoTags.includes(ref));
  assert.ok(st.image?.repoDigests.includes(`${ref.replace(/:v1$/, '')}@${indexDigest}`));
  assert.ok(seen.includes(`/v2/lib/box/manifests/${rt.image.manifestDigest}`));
  await assert.rejects(cri.pullImage({ image: { image: ref.replace(':v1', ':v2') } }), /not found/);
});

test('the monitor is conmon: a few MB per container, reopens the log after rotation', async (t) => {
  const { rt, cri, create } = await startedRuntime(t);
  const { containerId } = await create(
    'rotating',
    'i=0; while true; do echo line $i; i=$((i+1)); sleep 0.1; done',
  );
  await cri.startContainer({ containerId });
  const dir = path.join(rt.stateDir, 'containers', containerId);
  const pid = Number(fs.readFileSync(path.join(dir, 'conmon.pid'), 'utf8'));
  assert.match(fs.readFileSync(`/proc/${pid}/comm`, 'utf8'), /^conmon/);
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  assert.ok(rssKb < 8 * 1024, `monitor RSS ${rssKb} KiB`);
  const log = path.join(rt.dir, 'logs', 'rotating.log');
  for (let i = 0; i < 50 && !fs.existsSync(log); i++) await sleep(50);
  await sleep(300);
  fs.renameSync(log, `${log}.1`);
  await cri.reopenContainerLog({ containerId });
  for (let i = 0; i < 50 && !fs.existsSync(log); i++) await sleep(50);
  await sleep(400);
  const fresh = fs.readFileSync(log, 'utf8').trim().split('\n');
  assert.ok(fresh.length >= 2, 'the new file gets the lines written after the reopen');
  assert.match(fresh[0], / stdout F line \d+$/);
  await cri.stopContainer({ containerId, timeout: 0 });
  await assert.rejects(cri.reopenContainerLog({ containerId }), /not running/);
  assert.equal((await cri.containerStatus({ containerId })).status.exitCode, 137);
});
