/**
 * `bin/skiff crictl`, spawned as a user runs it, against Skiff's runtime and Debian's containerd:
 * the whole pod and container lifecycle, streaming exec and port-forward, images, stats, update.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { criClient } from '../cri/index.ts';
import { pushLayout, startRegistry } from '../registry/index.ts';
import { startTestContainerd } from './test-containerd.ts';
import { startTestRuntime } from './testing.ts';

const SKIFF = fileURLToPath(new URL('../../bin/skiff', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function crictl(endpoint: string, args: string[], input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      SKIFF,
      ['crictl', '--runtime-endpoint', endpoint, ...args],
      { timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin!.end(input ?? '');
  });
}

/** Runs crictl and insists on success; returns stdout. */
async function ok(endpoint: string, args: string[], input?: string): Promise<string> {
  const r = await crictl(endpoint, args, input);
  assert.equal(r.code, 0, `crictl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Target {
  name: string;
  endpoint: string;
  image: string;
}

/** Temp files for configs and logs, plus CRI clean-up of every sandbox, even after a failure. */
function workspace(t: TestContext, endpoint: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-crictl-'));
  t.after(async () => {
    const cri = criClient(endpoint);
    try {
      for (const p of (await cri.listPodSandbox({})).items) {
        await cri.stopPodSandbox({ podSandboxId: p.id }).catch(() => {});
        await cri.removePodSandbox({ podSandboxId: p.id }).catch(() => {});
      }
    } catch {}
    cri.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const suffix = Math.random().toString(36).slice(2, 8);
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };
  const podConfig = (name: string, yaml = false) => {
    const logs = path.join(dir, `logs-${name}`);
    fs.mkdirSync(logs);
    const cfg = {
      metadata: {
        name: `${name}-${suffix}`,
        namespace: 'crictl-test',
        uid: `uid-${name}-${suffix}`,
        attempt: 1,
      },
      log_directory: logs,
      labels: { app: name, 'skiff.dev/test': suffix },
      linux: {},
    };
    return yaml
      ? write(
          `${name}-pod.yaml`,
          `metadata:\n  name: ${cfg.metadata.name}\n  namespace: crictl-test\n  uid: ${cfg.metadata.uid}\n  attempt: 1\n` +
            `log_directory: ${logs}\nlabels:\n  app: ${name}\n  skiff.dev/test: "${suffix}"\nlinux: {}\n`,
        )
      : write(`${name}-pod.json`, JSON.stringify(cfg));
  };
  const containerConfig = (name: string, image: string, script: string) =>
    write(
      `${name}-ctr.json`,
      JSON.stringify({
        metadata: { name },
        image: { image },
        command: ['sh', '-c', script],
        log_path: `${name}.log`,
        linux: {},
      }),
    );
  return { dir, suffix, podConfig, containerConfig };
}

async function lifecycle(t: TestContext, target: Target) {
  const ep = target.endpoint;
  const w = workspace(t, ep);

  assert.match(
    await ok(ep, ['version']),
    /^Version:\s+\S+\nRuntimeName:\s+\S+\nRuntimeVersion:\s+\S+\nRuntimeApiVersion:\s+v1\n$/,
  );
  const info = JSON.parse(await ok(ep, ['info']));
  assert.ok(info.status.conditions.some((c: { type: string }) => c.type === 'RuntimeReady'));

  // runp (from YAML) → pods with every filter and output
  const podFile = w.podConfig('web', true);
  const pod = (await ok(ep, ['runp', podFile])).trim();
  assert.match(pod, /^[0-9a-f]{64}$/);
  const table = await ok(ep, ['pods', '--name', `^web-${w.suffix}$`]);
  const [header, row] = table.split('\n');
  assert.match(header, /^POD ID\s+CREATED\s+STATE\s+NAME\s+NAMESPACE\s+ATTEMPT\s+RUNTIME$/);
  assert.match(
    row,
    new RegExp(`^${pod.slice(0, 13)}\\s+.+ ago\\s+Ready\\s+web-${w.suffix}\\s+crictl-test\\s+1\\s+`),
  );
  assert.equal(
    await ok(ep, ['pods', '-q', '--namespace', 'crictl-test', '--label', `skiff.dev/test=${w.suffix}`]),
    `${pod}\n`,
  );
  assert.equal(
    await ok(ep, ['pods', '-q', '--label', `skiff.dev/test=${w.suffix}`, '--state', 'notready']),
    '',
  );
  const asJson = JSON.parse(await ok(ep, ['pods', '--label', `app=web`, '-o', 'json']));
  const listed = asJson.items.find((p: { id: string }) => p.id === pod);
  assert.equal(listed.state, 'SANDBOX_READY');
  assert.match(listed.createdAt, /^\d+$/, 'int64 fields are strings in protobuf JSON');
  assert.match(
    await ok(ep, ['pods', '--id', pod, '-o', 'yaml']),
    new RegExp(`^items:\\n- createdAt: "\\d+"\\n  id: ${pod}\\n`),
  );
  const inspectp = JSON.parse(await ok(ep, ['inspectp', pod]));
  assert.equal(inspectp.status.id, pod);
  assert.equal(inspectp.status.metadata.name, `web-${w.suffix}`);

  // create (pod-id prefix, JSON configs) → start → ps
  const ctrFile = w.containerConfig(
    'main',
    target.image,
    'echo hello crictl; echo oops >&2; sleep 0.3; echo line3; exec sleep 3600',
  );
  const ctr = (await ok(ep, ['create', pod.slice(0, 16), ctrFile, podFile])).trim();
  assert.match(ctr, /^[0-9a-f]{64}$/);
  assert.equal(await ok(ep, ['ps', '-q', '--pod', pod]), '', 'created, not running: not in plain ps');
  assert.equal(await ok(ep, ['ps', '-a', '-q', '--pod', pod, '--state', 'created']), `${ctr}\n`);
  assert.equal(await ok(ep, ['start', ctr]), `${ctr}\n`);
  const ps = (await ok(ep, ['ps', '--pod', pod])).split('\n');
  assert.match(ps[0], /^CONTAINER\s+IMAGE\s+CREATED\s+STATE\s+NAME\s+ATTEMPT\s+POD ID\s+POD\s+NAMESPACE$/);
  assert.match(
    ps[1],
    new RegExp(`^${ctr.slice(0, 13)}\\s+\\S+\\s+.+ ago\\s+Running\\s+main\\s+0\\s+${pod.slice(0, 13)}\\s`),
  );
  assert.equal(await ok(ep, ['ps', '-q', '--name', '^main$', '--label', 'nope=1']), '');
  const psJson = JSON.parse(await ok(ep, ['ps', '--pod', pod, '-o', 'json']));
  assert.equal(psJson.containers[0].id, ctr);
  assert.equal(psJson.containers[0].state, 'CONTAINER_RUNNING');
  const inspect = JSON.parse(await ok(ep, ['inspect', ctr]));
  assert.equal(inspect.status.state, 'CONTAINER_RUNNING');
  assert.equal(inspect.status.metadata.name, 'main');

  // exec: sync, streaming with stderr and exit code, stdin
  assert.equal(await ok(ep, ['exec', '-s', ctr, 'echo', 'hi']), 'hi\n');
  let r = await crictl(ep, ['exec', '-s', '--timeout', '10', ctr, 'sh', '-c', 'exit 3']);
  assert.equal(r.code, 3);
  r = await crictl(ep, ['exec', ctr, 'sh', '-c', 'echo out; echo err >&2; exit 4']);
  assert.equal(r.stdout, 'out\n');
  assert.equal(r.stderr, 'err\n');
  assert.equal(r.code, 4);
  assert.equal(await ok(ep, ['exec', ctr, 'hostname']), `${await ok(ep, ['exec', '-s', ctr, 'hostname'])}`);
  r = await crictl(ep, ['exec', '-i', ctr, 'head', '-n', '1'], 'piped through stdin\nsecond\n');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'piped through stdin\n');

  // logs
  let logs: Run | undefined;
  for (let i = 0; i < 50; i++) {
    logs = await crictl(ep, ['logs', ctr]);
    if (logs.stdout.includes('line3')) break;
    await sleep(200);
  }
  assert.equal(logs!.stdout, 'hello crictl\nline3\n');
  assert.equal(logs!.stderr, 'oops\n');
  assert.equal(await ok(ep, ['logs', '--tail', '1', ctr]), 'line3\n');
  assert.match(
    await ok(ep, ['logs', '--timestamps', '--tail=1', ctr]),
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d) line3\n$/,
  );
  assert.equal(await ok(ep, ['logs', '--since', '1h', '--tail', '1', ctr]), 'line3\n');
  assert.equal(await ok(ep, ['logs', '--since', '2999-01-01T00:00:00Z', ctr]), '');

  // stop → rm → stopp → rmp
  r = await crictl(ep, ['rm', ctr]);
  assert.equal(r.code, 1, 'rm of a running container without -f fails');
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.equal(await ok(ep, ['stop', '--timeout', '1', ctr]), `${ctr}\n`);
  const exited = JSON.parse(await ok(ep, ['inspect', ctr]));
  assert.equal(exited.status.state, 'CONTAINER_EXITED');
  assert.match(await ok(ep, ['ps', '-a', '--pod', pod]), /\sExited\s/);
  assert.equal(await ok(ep, ['rm', ctr]), `${ctr}\n`);
  assert.equal(await ok(ep, ['ps', '-a', '-q', '--pod', pod]), '');
  assert.equal(await ok(ep, ['stopp', pod]), `Stopped sandbox ${pod}\n`);
  assert.match(await ok(ep, ['pods', '--id', pod]), /\sNotReady\s/);
  assert.equal(await ok(ep, ['rmp', pod]), `Removed sandbox ${pod}\n`);
  assert.equal(await ok(ep, ['pods', '-q', '--label', `skiff.dev/test=${w.suffix}`]), '');

  // bad input: one line on stderr, status 1
  for (const args of [
    ['inspect', 'f00dbad'],
    ['runp', path.join(w.dir, 'missing.json')],
    ['pods', '-o', 'xml'],
    ['ps', '--bogus'],
    ['create', 'x'],
    ['nonsense'],
  ]) {
    const bad = await crictl(ep, args);
    assert.equal(bad.code, 1, `crictl ${args.join(' ')}: ${bad.stdout}`);
    assert.equal(bad.stderr.trimEnd().split('\n').length, 1, `one line for ${args.join(' ')}: ${bad.stderr}`);
  }
}

describe('skiff crictl', { timeout: 900_000 }, () => {
  test('the lifecycle on Skiff runtime: runp → create → start → ps → exec → logs → stop → rm → stopp → rmp', async (t) => {
    if (process.getuid?.() !== 0) assert.fail('needs root (runc, mounts, namespaces)');
    const rt = await startTestRuntime();
    t.after(() => rt.destroy());
    await lifecycle(t, { name: 'skiff', endpoint: rt.endpoint, image: rt.image.name });
    // the endpoint also comes from the environment
    const env = await new Promise<string>((resolve, reject) =>
      execFile(
        SKIFF,
        ['crictl', 'version'],
        { env: { ...process.env, CONTAINER_RUNTIME_ENDPOINT: rt.endpoint } },
        (e, out) => (e ? reject(e) : resolve(out)),
      ),
    );
    assert.match(env, /RuntimeName:\s+skiff/);
  });

  test('the lifecycle on Debian containerd', async (t) => {
    if (process.getuid?.() !== 0) assert.fail('needs root (containerd)');
    const cd = await startTestContainerd();
    t.after(() => cd.close());
    await lifecycle(t, { name: 'containerd', endpoint: cd.endpoint, image: cd.image });
  });

  test('images, pull, inspecti, rmi, stats and update on Skiff runtime', async (t) => {
    if (process.getuid?.() !== 0) assert.fail('needs root');
    const rt = await startTestRuntime();
    t.after(() => rt.destroy());
    const ep = rt.endpoint;
    const w = workspace(t, ep);

    const images = (await ok(ep, ['images'])).split('\n');
    assert.match(images[0], /^IMAGE\s+TAG\s+IMAGE ID\s+SIZE$/);
    const id13 = rt.image.configDigest.slice(7, 20);
    assert.match(images[1], new RegExp(`^skiff\\.local/busybox\\s+1\\.35\\s+${id13}\\s+[\\d.]+[kM]B$`));
    assert.equal(await ok(ep, ['images', '-q']), `${rt.image.configDigest}\n`);
    assert.match(
      (await ok(ep, ['images', '--digests'])).split('\n')[0],
      /^IMAGE\s+TAG\s+DIGEST\s+IMAGE ID\s+SIZE$/,
    );
    assert.equal(JSON.parse(await ok(ep, ['images', '-o', 'json'])).images[0].id, rt.image.configDigest);
    const inspecti = JSON.parse(await ok(ep, ['inspecti', rt.image.name]));
    assert.equal(inspecti.status.id, rt.image.configDigest);
    assert.deepEqual(inspecti.status.repoTags, [rt.image.name]);
    assert.equal((await crictl(ep, ['inspecti', 'skiff.local/none:1'])).code, 1);

    // pull from a registry on loopback, then remove it again
    const registry = await startRegistry({ root: path.join(w.dir, 'registry') });
    t.after(() => registry.close());
    await pushLayout({ layout: rt.image.ociDir, registry: registry.url, name: 'crictl/app', tag: 'v1' });
    const ref = `127.0.0.1:${registry.port}/crictl/app:v1`;
    assert.equal(await ok(ep, ['pull', ref]), `Image is up to date for ${rt.image.configDigest}\n`);
    assert.match(
      await ok(ep, ['images', ref]),
      new RegExp(`127\\.0\\.0\\.1:${registry.port}/crictl/app\\s+v1\\s`),
    );

    // stats and update on a running container
    const podFile = w.podConfig('stats');
    const pod = (await ok(ep, ['runp', podFile])).trim();
    const ctrFile = w.containerConfig('busy', rt.image.name, 'while true; do :; done');
    const ctr = (await ok(ep, ['create', pod, ctrFile, podFile])).trim();
    await ok(ep, ['start', ctr]);
    const stats = JSON.parse(await ok(ep, ['stats', '-o', 'json', '--id', ctr]));
    assert.equal(stats.stats.length, 1);
    assert.equal(stats.stats[0].attributes.id, ctr);
    assert.match(stats.stats[0].cpu.usageCoreNanoSeconds.value, /^\d+$/);
    const statsTable = (await ok(ep, ['stats', ctr])).split('\n');
    assert.match(statsTable[0], /^CONTAINER\s+NAME\s+CPU %\s+MEM\s+DISK\s+INODES\s+SWAP$/);
    const cpu = Number(new RegExp(`^${ctr.slice(0, 13)}\\s+busy\\s+([\\d.]+)\\s`).exec(statsTable[1])?.[1]);
    assert.ok(cpu > 10, `a busy loop uses CPU: ${statsTable[1]}`);
    assert.equal(
      await ok(ep, [
        'update',
        '--memory',
        '67108864',
        '--cpu-quota',
        '20000',
        '--cpu-period',
        '100000',
        '--cpu-shares',
        '512',
        ctr,
      ]),
      `${ctr}\n`,
    );
    const resources = JSON.parse(await ok(ep, ['inspect', ctr])).status.resources.linux;
    assert.equal(resources.memoryLimitInBytes, '67108864');
    assert.equal(resources.cpuQuota, '20000');
    // the kernel holds the new limits, in the cgroups the container's /proc/self/cgroup names
    const lines = (await ok(ep, ['exec', '-s', ctr, 'cat', '/proc/self/cgroup'])).trim().split('\n');
    const v1 = (controller: string) =>
      lines.map((l) => l.split(':')).find(([, c]) => c.split(',').includes(controller))?.[2];
    const read = (...p: string[]) => fs.readFileSync(path.join('/sys/fs/cgroup', ...p), 'utf8').trim();
    if (v1('memory') !== undefined) {
      assert.equal(read('memory', v1('memory')!, 'memory.limit_in_bytes'), '67108864');
      assert.equal(read('cpu', v1('cpu')!, 'cpu.cfs_quota_us'), '20000');
      assert.equal(read('cpu', v1('cpu')!, 'cpu.cfs_period_us'), '100000');
      assert.equal(read('cpu', v1('cpu')!, 'cpu.shares'), '512');
    } else {
      const unified = lines.find((l) => l.startsWith('0::'))!.slice(3);
      const dir = fs.existsSync(path.join('/sys/fs/cgroup', unified, 'memory.max'))
        ? unified
        : path.dirname(unified);
      assert.equal(read(dir, 'memory.max'), '67108864');
      assert.equal(read(dir, 'cpu.max'), '20000 100000');
    }
    assert.equal((await crictl(ep, ['update', '--memory', 'lots', ctr])).code, 1);
    await ok(ep, ['rm', '-f', ctr]);
    assert.equal(await ok(ep, ['rmp', '-f', pod]), `Removed sandbox ${pod}\n`);

    const deleted = (await ok(ep, ['rmi', ref])).trim().split('\n').sort();
    assert.deepEqual(deleted, [`Deleted: ${ref}`, `Deleted: ${rt.image.name}`].sort());
    assert.equal(await ok(ep, ['images', '-q']), '');
  });

  test('port-forward reaches busybox httpd in a sandbox', async (t) => {
    if (process.getuid?.() !== 0) assert.fail('needs root');
    const rt = await startTestRuntime();
    t.after(() => rt.destroy());
    const ep = rt.endpoint;
    const w = workspace(t, ep);
    const podFile = w.podConfig('httpd');
    const pod = (await ok(ep, ['runp', podFile])).trim();
    const ctrFile = w.containerConfig(
      'httpd',
      rt.image.name,
      `mkdir -p /www && echo hello-${w.suffix} > /www/index.html && exec httpd -f -p 8080 -h /www`,
    );
    await ok(ep, ['start', (await ok(ep, ['create', pod, ctrFile, podFile])).trim()]);

    const child = spawn(SKIFF, ['crictl', '-r', ep, 'port-forward', pod.slice(0, 12), ':8080'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.after(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        stdout += d;
        const m = /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.exec(stdout);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', () => reject(new Error(`port-forward exited: ${stderr}`)));
    });
    const get = () =>
      new Promise<string>((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1', () =>
          s.write('GET /index.html HTTP/1.0\r\nHost: x\r\n\r\n'),
        );
        let body = '';
        s.on('data', (d) => {
          body += d;
        });
        s.on('end', () => resolve(body));
        s.on('error', reject);
      });
    let answer = '';
    for (let i = 0; i < 30 && !answer.includes(`hello-${w.suffix}`); i++) {
      answer = await get().catch(() => '');
      if (!answer.includes(`hello-${w.suffix}`)) await sleep(300);
    }
    assert.match(answer, /^HTTP\/1\.[01] 200/);
    assert.ok(answer.includes(`hello-${w.suffix}\n`), answer);
    // two connections, one after another, each through its own URL
    assert.ok((await get()).includes(`hello-${w.suffix}`));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.equal((await crictl(ep, ['port-forward', pod, 'eighty'])).code, 1);
  });
});
