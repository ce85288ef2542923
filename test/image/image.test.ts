/**
 * Images into the cluster end to end: an API server, the cluster registry published in
 * kube-public/skiff-registry, `skiff image import` / `ls` as child processes, then Skiff's
 * runtime and Debian's containerd pulling through the registry as a mirror.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { builtinRegistry } from '../../src/api/index.ts';
import { ensurePki, startApiServer } from '../../src/apiserver/index.ts';
import { generatePki } from '../../src/apiserver/pki/index.ts';
import { RestClient } from '../../src/client/index.ts';
import { criClient } from '../../src/cri/index.ts';
import {
  publishRegistry,
  pushLayout,
  startClusterRegistry,
  startRegistry,
  tlsFetch,
} from '../../src/registry/index.ts';
import {
  buildTestImage,
  containerdMirrorConfig,
  startRuntime,
  startTestContainerd,
} from '../../src/runtime/index.ts';
import { destroyRuntimeState } from '../../src/runtime/testing.ts';
import { MemoryBackend } from '../../src/store/index.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const NODE = path.join(ROOT, 'node_modules/.bin/node');
const IMAGE_CLI = path.join(ROOT, 'src/cli/image.ts');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `skiff image ARGS` in a child process (what bin/skiff's `image` command calls). */
function skiffImage(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const script = `const { imageMain } = await import(${JSON.stringify(IMAGE_CLI)}); process.exitCode = await imageMain(process.argv.slice(1));`;
  return new Promise((resolve) => {
    execFile(
      NODE,
      ['--disable-warning=ExperimentalWarning', '--input-type=module', '-e', script, ...args],
      { env: { ...process.env, ...env }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

test('skiff image import/ls into the cluster registry; runtimes pull through it as a mirror', async (t) => {
  if (process.getuid?.() !== 0) assert.fail('needs root (runc, mounts, containerd)');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'skiff-image-test-'));
  const backend = new MemoryBackend();
  const cleanups: (() => Promise<void>)[] = [];
  t.after(async () => {
    for (const c of cleanups.reverse()) await c().catch((e) => console.error('cleanup:', e));
    await backend.close();
    await fs.rm(dir, { recursive: true, force: true });
  });
  const dataDir = path.join(dir, 'server');
  const server = await startApiServer({ dataDir, port: 0, backend, registry: builtinRegistry() });
  cleanups.push(() => server.close());
  const pki = await ensurePki(dataDir);
  const registry = await startClusterRegistry({ dataDir, pki, host: '127.0.0.1', port: 0 });
  cleanups.push(() => registry.close());
  const client = await RestClient.fromKubeconfig(server.kubeconfigPath);
  cleanups.push(async () => client.close());
  await publishRegistry(client, { url: registry.url, caPem: registry.caPem });
  await publishRegistry(client, { url: registry.url, caPem: registry.caPem }); // idempotent
  const images = path.join(dir, 'images');
  await fs.mkdir(images);
  const img = await buildTestImage(images);
  const env = { KUBECONFIG: server.kubeconfigPath };

  let dockerDigest = '';
  await t.test('import a docker-archive under the name in the file', async () => {
    const r = await skiffImage(['import', img.dockerArchive], env);
    assert.equal(r.code, 0, r.stderr);
    const m = /^skiff\.local\/busybox:1\.35 (sha256:[a-f0-9]{64})\n$/.exec(r.stdout);
    assert.ok(m, `stdout: ${r.stdout}`);
    dockerDigest = m[1];
    // not a TTY: one line per blob (config and the layer)
    assert.equal(r.stderr.split('\n').filter((l) => / pushed | already there /.test(l)).length, 2, r.stderr);
  });

  await t.test('import an OCI layout tar under --name keeps the manifest digest', async () => {
    const r = await skiffImage(['import', img.ociTar, '--name', 'skiff.local/mirrored:2'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `skiff.local/mirrored:2 ${img.manifestDigest}\n`);
    const again = await skiffImage(['import', img.ociDir, '--name', 'docker.io/library/bb:1'], env);
    assert.equal(again.code, 0, again.stderr);
    const repeat = await skiffImage(['import', img.dockerArchive], env);
    assert.equal(repeat.code, 0, repeat.stderr);
    assert.equal(repeat.stderr.split('\n').filter((l) => / already there /.test(l)).length, 2, repeat.stderr);
  });

  await t.test('ls lists name, tag, digest and size from the catalog', async () => {
    const r = await skiffImage(['ls', '--kubeconfig', server.kubeconfigPath], {});
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0], /^NAME\s+TAG\s+DIGEST\s+SIZE$/);
    const rows = lines.slice(1).map((l) => l.split(/\s+/));
    assert.deepEqual(
      rows.map((r) => r.slice(0, 3)),
      [
        ['docker.io/library/bb', '1', img.manifestDigest],
        ['skiff.local/busybox', '1.35', dockerDigest],
        ['skiff.local/mirrored', '2', img.manifestDigest],
      ],
    );
    assert.match(rows[0][3], /^[\d.]+(B|kB|MB)$/);
  });

  await t.test('pulls are anonymous; pushes need a certificate from the cluster CA', async () => {
    const anon = tlsFetch({ ca: registry.caPem });
    const get = await anon(`${registry.url}/v2/skiff.local/busybox/manifests/1.35`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    assert.equal(get.status, 200);
    await get.arrayBuffer();
    for (const method of ['POST', 'DELETE']) {
      const path_ = method === 'POST' ? 'blobs/uploads/' : 'manifests/1.35';
      const res = await anon(`${registry.url}/v2/skiff.local/busybox/${path_}`, { method });
      assert.equal(res.status, 401, method);
      const body = (await res.json()) as { errors: { code: string }[] };
      assert.equal(body.errors[0].code, 'UNAUTHORIZED');
    }
    const stranger = await generatePki();
    const foreign = tlsFetch({ ca: registry.caPem, cert: stranger.admin.cert, key: stranger.admin.key });
    const res = await foreign(`${registry.url}/v2/skiff.local/busybox/blobs/uploads/`, { method: 'POST' });
    assert.equal(res.status, 403);
    assert.equal(((await res.json()) as { errors: { code: string }[] }).errors[0].code, 'DENIED');
    const admin = tlsFetch({ ca: registry.caPem, cert: pki.admin.cert, key: pki.admin.key });
    const ok = await admin(`${registry.url}/v2/skiff.local/scratch/blobs/uploads/`, { method: 'POST' });
    assert.equal(ok.status, 202);
    await ok.arrayBuffer();
  });

  await t.test('skopeo copies into the cluster registry with the admin certificate', async () => {
    const certDir = path.join(dir, 'skopeo-certs');
    await fs.mkdir(certDir);
    await fs.writeFile(path.join(certDir, 'ca.crt'), registry.caPem);
    await fs.writeFile(path.join(certDir, 'client.cert'), pki.admin.cert);
    await fs.writeFile(path.join(certDir, 'client.key'), pki.admin.key);
    const dest = `docker://${new URL(registry.url).host}/skiff.local/skopeo:1`;
    const r = await new Promise<{ code: number; out: string }>((resolve) =>
      execFile(
        'skopeo',
        ['copy', '--dest-cert-dir', certDir, `oci:${img.ociDir}`, dest],
        { timeout: 60_000 },
        (err, stdout, stderr) => resolve({ code: err ? 1 : 0, out: stdout + stderr }),
      ),
    );
    assert.equal(r.code, 0, r.out);
    const anon = tlsFetch({ ca: registry.caPem });
    const res = await anon(`${registry.url}/v2/skiff.local/skopeo/tags/list`);
    assert.deepEqual(((await res.json()) as { tags: string[] }).tags, ['1']);
  });

  await t.test('bad input: one line and a non-zero exit', async () => {
    const missing = await skiffImage(['import', path.join(dir, 'nope.tar')], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^skiff image: .*nope\.tar: no such file or directory\n$/);
    const junk = path.join(dir, 'junk.txt');
    await fs.writeFile(junk, 'not an image\n'.repeat(100));
    const notImage = await skiffImage(['import', junk], env);
    assert.equal(notImage.code, 1);
    assert.equal(notImage.stderr.split('\n').filter(Boolean).length, 1, notImage.stderr);
    const usage = await skiffImage(['import'], env);
    assert.equal(usage.code, 2);
    const deadConfig = path.join(dir, 'dead.kubeconfig');
    const text = await fs.readFile(server.kubeconfigPath, 'utf8');
    await fs.writeFile(
      deadConfig,
      text.replace(/server: https:\/\/127\.0\.0\.1:\d+/, 'server: https://127.0.0.1:1'),
    );
    const dead = await skiffImage(['ls'], { KUBECONFIG: deadConfig });
    assert.equal(dead.code, 1);
    assert.match(
      dead.stderr,
      /^skiff image: cannot reach the API server at https:\/\/127\.0\.0\.1:1: ECONNREFUSED\n$/,
    );
  });

  await t.test("Skiff's runtime pulls through the mirror and runs the image", async (t) => {
    const rtDir = path.join(dir, 'rt');
    const stateDir = path.join(rtDir, 'state');
    const socket = path.join(rtDir, 'cri.sock');
    const rt = await startRuntime({
      root: path.join(rtDir, 'root'),
      stateDir,
      socket,
      mirrors: [{ url: registry.url, caPem: registry.caPem }],
    });
    const cri = criClient(`unix://${socket}`);
    t.after(async () => {
      cri.close();
      await rt.close().catch(() => {});
      await destroyRuntimeState(rtDir, stateDir);
    });
    // skiff.local does not exist: only the mirror can answer
    const { imageRef } = await cri.pullImage({ image: { image: 'skiff.local/busybox:1.35' } });
    assert.equal(imageRef, img.configDigest);
    const config = {
      metadata: { name: 'mirror', uid: `uid-${path.basename(dir)}`, namespace: 'default' },
      hostname: 'mirror',
      logDirectory: path.join(rtDir, 'logs'),
    };
    const { podSandboxId } = await cri.runPodSandbox({ config });
    const { containerId } = await cri.createContainer({
      podSandboxId,
      sandboxConfig: config,
      config: {
        metadata: { name: 'echo' },
        image: { image: 'skiff.local/busybox:1.35' },
        command: ['echo', 'ok'],
        logPath: 'echo.log',
      },
    });
    await cri.startContainer({ containerId });
    let state = '';
    for (let i = 0; i < 100; i++) {
      state = (await cri.containerStatus({ containerId })).status.state;
      if (state === 'CONTAINER_EXITED') break;
      await sleep(100);
    }
    assert.equal(state, 'CONTAINER_EXITED');
    const log = await fs.readFile(path.join(rtDir, 'logs', 'echo.log'), 'utf8');
    assert.match(log, / stdout F ok\n/);
    await cri.removeContainer({ containerId });
    await cri.stopPodSandbox({ podSandboxId });
    await cri.removePodSandbox({ podSandboxId });
    // an image the mirror lacks comes from its own registry
    const origin = await startRegistry({ root: path.join(dir, 'origin') });
    t.after(() => origin.close());
    await pushLayout({ layout: img.ociDir, registry: origin.url, name: 'app', tag: 'v1' });
    const fallback = `127.0.0.1:${origin.port}/app:v1`;
    assert.equal((await cri.pullImage({ image: { image: fallback } })).imageRef, img.configDigest);
  });

  await t.test('containerd pulls through the mirror (hosts.toml, override_path)', async (t) => {
    const certsDir = path.join(dir, 'certs.d');
    containerdMirrorConfig(certsDir, { url: registry.url, caPem: registry.caPem }, [
      'skiff.local',
      'docker.io',
    ]);
    const cd = await startTestContainerd({ registryConfigDir: certsDir });
    const cri = criClient(cd.endpoint);
    t.after(async () => {
      cri.close();
      await cd.close();
    });
    for (const image of ['skiff.local/mirrored:2', 'docker.io/library/bb:1']) {
      const { imageRef } = await cri.pullImage({ image: { image } });
      assert.ok(imageRef, image);
      const st = await cri.imageStatus({ image: { image } });
      assert.equal(st.image?.id, img.configDigest, image);
    }
  });
});
