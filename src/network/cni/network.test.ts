import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { spawnPlugin } from './exec.ts';
import { CniError, cniNetwork, parseConflist, validateConflist } from './index.ts';

/**
 * Fake plugins (shell scripts) that record their stdin and CNI_* environment, so these tests see
 * exactly what the caller hands a plugin. The real plugins are exercised in cni.test.ts.
 */
async function fakePlugins(dir: string) {
  const log = join(dir, 'log');
  const bin = join(dir, 'bin');
  await mkdir(log);
  await mkdir(bin);
  const script = (name: string, body: string) => `#!/bin/sh
in=$(cat)
if [ "$CNI_COMMAND" = VERSION ]; then echo '{"cniVersion":"1.0.0","supportedVersions":["0.4.0","1.0.0"]}'; exit 0; fi
n=$(ls ${log} | wc -l)
n=$((n / 2 + 1000))
printf '%s' "$in" > ${log}/$n-${name}-$CNI_COMMAND.json
env | grep '^CNI_' | sort > ${log}/$n-${name}-$CNI_COMMAND.env
${body}
`;
  const plugins: Record<string, string> = {
    loopback: `[ "$CNI_COMMAND" = ADD ] && echo '{"cniVersion":"1.0.0","interfaces":[{"name":"lo"}]}'; exit 0`,
    'fake-main': `[ "$CNI_COMMAND" = ADD ] && echo '{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"/x"}],"ips":[{"address":"10.9.9.2/24","gateway":"10.9.9.1","interface":0}]}'; exit 0`,
    'fake-chained': `[ "$CNI_COMMAND" = ADD ] && echo '{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"/x"}],"ips":[{"address":"10.9.9.2/24","gateway":"10.9.9.1","interface":0}],"dns":{"nameservers":["10.9.9.53"]}}'; exit 0`,
    'fake-error': `echo '{"cniVersion":"1.0.0","code":7,"msg":"bad bridge name","details":"too long"}'; exit 1`,
    'fake-crash': `echo 'panic: boom' >&2; exit 2`,
    'fake-slow': `sleep 5; exit 0`,
  };
  for (const [name, body] of Object.entries(plugins)) {
    await writeFile(join(bin, name), script(name, body));
    await chmod(join(bin, name), 0o755);
  }
  const calls = async () => {
    const files = (await readdir(log)).filter((f) => f.endsWith('.json')).sort();
    return Promise.all(
      files.map(async (f) => ({
        call: f.replace(/^\d+-/, '').replace(/\.json$/, ''),
        stdin: JSON.parse(await readFile(join(log, f), 'utf8')),
        env: Object.fromEntries(
          (await readFile(join(log, f.replace(/\.json$/, '.env')), 'utf8'))
            .trim()
            .split('\n')
            .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
        ),
      })),
    );
  };
  const clear = async () => {
    for (const f of await readdir(log)) await rm(join(log, f));
  };
  return { bin, calls, clear };
}

const sandbox = { id: 'c0ffee', name: 'web-0', namespace: 'shop', netnsPath: '/var/run/netns/fake' };

test('conflist validation', () => {
  assert.throws(() => validateConflist({ cniVersion: '1.0.0', name: 'x', plugins: [] }), /plugins/);
  assert.throws(
    () => validateConflist({ cniVersion: 'one', name: 'x', plugins: [{ type: 'a' }] }),
    /cniVersion/,
  );
  assert.throws(
    () => validateConflist({ cniVersion: '1.0.0', name: 'a/b', plugins: [{ type: 'a' }] }),
    /name/,
  );
  assert.throws(
    () => validateConflist({ cniVersion: '1.0.0', name: 'x', plugins: [{ type: '../a' }] }),
    /type/,
  );
  assert.throws(() => parseConflist('{'), /invalid CNI network configuration/);
  assert.equal(parseConflist('{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"bridge"}]}').name, 'n');
});

test('the caller hands plugins what the CNI spec says', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-cni-fake-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const fake = await fakePlugins(dir);
  const cacheDir = join(dir, 'cache');
  const net = cniNetwork({
    conflist: {
      cniVersion: '0.4.0',
      cniVersions: ['1.0.0', '1.1.0'],
      name: 'podnet',
      plugins: [
        { type: 'fake-main', bridge: 'br0', runtimeConfig: { stale: true } },
        { type: 'fake-chained', capabilities: { portMappings: true, bandwidth: true } },
      ],
    },
    binDirs: [fake.bin, join(dir, 'nowhere')],
    cacheDir,
  });
  const portMappings = [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' as const }];

  const { ips, result } = await net.setUp(sandbox, { portMappings });
  assert.deepEqual(ips, ['10.9.9.2']);
  assert.deepEqual(result.dns, { nameservers: ['10.9.9.53'] }, 'the last plugin’s result is the result');
  let calls = await fake.calls();
  assert.deepEqual(
    calls.map((c) => c.call),
    ['loopback-ADD', 'fake-main-ADD', 'fake-chained-ADD'],
  );
  const [lo, main, chained] = calls;
  assert.equal(lo.env.CNI_IFNAME, 'lo');
  assert.equal(main.env.CNI_IFNAME, 'eth0');
  assert.equal(main.env.CNI_CONTAINERID, 'c0ffee');
  assert.equal(main.env.CNI_NETNS, '/var/run/netns/fake');
  assert.equal(main.env.CNI_PATH, `${fake.bin}:${join(dir, 'nowhere')}`);
  assert.equal(
    main.env.CNI_ARGS,
    'IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=c0ffee',
  );
  // Highest version the list declares that the plugins support; name injected; no prevResult first.
  assert.deepEqual(main.stdin, { type: 'fake-main', bridge: 'br0', name: 'podnet', cniVersion: '1.0.0' });
  // prevResult chains through the list; runtimeConfig holds only declared and provided capabilities.
  assert.equal(chained.stdin.cniVersion, '1.0.0');
  assert.equal(chained.stdin.capabilities, undefined);
  assert.deepEqual(chained.stdin.runtimeConfig, { portMappings });
  assert.deepEqual(chained.stdin.prevResult.ips, [
    { address: '10.9.9.2/24', gateway: '10.9.9.1', interface: 0 },
  ]);
  assert.equal(chained.stdin.prevResult.dns, undefined);
  assert.equal((await readdir(join(cacheDir, 'results'))).length, 2);

  await fake.clear();
  await net.check(sandbox);
  calls = await fake.calls();
  assert.deepEqual(
    calls.map((c) => c.call),
    ['loopback-CHECK', 'fake-main-CHECK', 'fake-chained-CHECK'],
  );
  assert.deepEqual(calls[1].stdin.prevResult, result, 'CHECK gets the cached result');

  await fake.clear();
  await net.tearDown(sandbox); // no portMappings given: DEL reuses ADD's capability arguments
  calls = await fake.calls();
  assert.deepEqual(
    calls.map((c) => c.call),
    ['fake-chained-DEL', 'fake-main-DEL', 'loopback-DEL'],
  );
  assert.deepEqual(calls[0].stdin.prevResult, result);
  assert.deepEqual(calls[0].stdin.runtimeConfig, { portMappings });
  assert.equal(calls[0].env.CNI_NETNS, '', 'netns that no longer exists is passed empty');
  assert.deepEqual(await readdir(join(cacheDir, 'results')), []);

  await assert.rejects(net.check(sandbox), (e) => e instanceof CniError && e.cniCode === 3);
  await fake.clear();
  await net.tearDown(sandbox); // idempotent, without a cache entry
  assert.equal((await fake.calls()).length, 3);
});

test('loopback: false leaves lo to the runtime, and teardown still deletes a cached loopback attachment', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-cni-fake-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const fake = await fakePlugins(dir);
  const opts = {
    conflist: { cniVersion: '1.0.0', name: 'n', plugins: [{ type: 'fake-main' }] },
    binDirs: [fake.bin],
    cacheDir: join(dir, 'cache'),
  };
  const own = cniNetwork({ ...opts, loopback: false });
  await own.setUp(sandbox);
  await own.check(sandbox);
  await own.tearDown(sandbox);
  assert.deepEqual(
    (await fake.calls()).map((c) => c.call),
    ['fake-main-ADD', 'fake-main-CHECK', 'fake-main-DEL'],
  );
  assert.deepEqual(await readdir(join(dir, 'cache', 'results')), []);

  // a sandbox set up with the plugin (before an upgrade) loses its lo attachment too
  await fake.clear();
  await cniNetwork(opts).setUp(sandbox);
  await cniNetwork(opts).withExec(spawnPlugin, { loopback: false }).tearDown(sandbox);
  assert.deepEqual(
    (await fake.calls()).map((c) => c.call),
    ['loopback-ADD', 'fake-main-ADD', 'fake-main-DEL', 'loopback-DEL'],
  );
  assert.deepEqual(await readdir(join(dir, 'cache', 'results')), []);
});

test('plugin errors, crashes and timeouts become CniErrors, and a failed ADD is undone', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-cni-fake-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const fake = await fakePlugins(dir);
  const netWith = (type: string, timeoutMs?: number) =>
    cniNetwork({
      conflist: { cniVersion: '1.0.0', name: 'n', plugins: [{ type: 'fake-main' }, { type }] },
      binDirs: [fake.bin],
      cacheDir: join(dir, 'cache'),
      timeoutMs,
    });

  await assert.rejects(netWith('fake-error').setUp(sandbox), (e) => {
    assert.ok(e instanceof CniError);
    assert.equal(e.cniCode, 7);
    assert.equal(e.message, 'CNI plugin fake-error ADD failed [code 7]: bad bridge name (too long)');
    return true;
  });
  const calls = (await fake.calls()).map((c) => c.call);
  assert.deepEqual(calls.slice(-2), ['fake-error-DEL', 'fake-main-DEL'], 'cleanup after a failed ADD');
  await assert.rejects(
    netWith('fake-crash').setUp(sandbox),
    /fake-crash ADD failed: exited with status 2 \(panic: boom\)/,
  );
  const started = Date.now();
  await assert.rejects(
    netWith('fake-slow', 300).setUp(sandbox),
    /fake-slow (VERSION|ADD) failed: timed out after 300ms/,
  );
  assert.ok(Date.now() - started < 4000);
  await assert.rejects(netWith('absent').setUp(sandbox), /absent find failed: not found/);
});

test('confDir: the lexically first conflist is the network', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-cni-confdir-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const fake = await fakePlugins(dir);
  const confDir = join(dir, 'net.d');
  await mkdir(confDir);
  const list = (name: string) =>
    JSON.stringify({ cniVersion: '1.0.0', name, plugins: [{ type: 'fake-main' }] });
  await writeFile(join(confDir, '20-second.conflist'), list('second'));
  await writeFile(join(confDir, '10-first.conflist'), list('first'));
  await writeFile(join(confDir, '05-single.conf'), '{"cniVersion":"1.0.0","name":"single","type":"bridge"}');
  await writeFile(join(confDir, '00-notes.json'), '{"hello":"world"}');
  const net = cniNetwork({ confDir, binDirs: [fake.bin], cacheDir: join(dir, 'cache') });
  await net.setUp(sandbox);
  const main = (await fake.calls()).find((c) => c.call === 'fake-main-ADD');
  assert.equal(main?.stdin.name, 'first');
  await net.tearDown(sandbox);

  const empty = join(dir, 'empty.d');
  await mkdir(empty);
  const none = cniNetwork({ confDir: empty, binDirs: [fake.bin], cacheDir: join(dir, 'cache') });
  await assert.rejects(none.setUp(sandbox), /no CNI network configuration list/);
  assert.throws(() => cniNetwork({ binDirs: [], cacheDir: dir }), /exactly one of conflist and confDir/);
});
