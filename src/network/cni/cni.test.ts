import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { CniError, cniNetwork, defaultConflist, type SandboxRef } from './index.ts';

const run = promisify(execFile);
const PLUGINS = '/usr/lib/cni';

async function sh(cmd: string, args: string[], timeout = 10_000): Promise<string> {
  return (await run(cmd, args, { timeout })).stdout;
}

async function ok(cmd: string, args: string[]): Promise<boolean> {
  try {
    await sh(cmd, args);
    return true;
  } catch {
    return false;
  }
}

/**
 * Lines of iptables-save about our network: rules that mention one of `marks` (bridge, subnet,
 * network name), and the declarations of `chains`. Other tests may run CNI at the same time, so
 * anything else is theirs.
 */
async function ourRules(marks: string[], chains: Set<string> = new Set()): Promise<string[]> {
  const out = await sh('iptables-save', []);
  return out
    .split('\n')
    .filter((l) => l.startsWith('-A ') || l.startsWith(':'))
    .filter((l) => marks.some((m) => l.includes(m)) || chains.has(l.slice(1).split(' ')[0]))
    .sort();
}

/** The per-container chains (CNI-xxx, CNI-DN-xxx) that rules about our network jump to or live in. */
function chainsOf(rules: string[]): Set<string> {
  const chains = new Set<string>();
  for (const l of rules) {
    const parts = l.split(' ');
    const jump = parts[parts.indexOf('-j') + 1];
    for (const c of [parts[1], jump])
      if (c?.startsWith('CNI-') && !c.startsWith('CNI-HOSTPORT-')) chains.add(c);
  }
  return chains;
}

/** portmap's chains are shared by every container on the host; drop them only when nothing uses them. */
async function removeSharedPortmapChains(): Promise<void> {
  const nat = await sh('iptables-save', ['-t', 'nat']).catch(() => '');
  if (/-A CNI-HOSTPORT-DNAT .*-j CNI-DN-/.test(nat)) return;
  for (const [parent, chain, extra] of [
    ['PREROUTING', 'CNI-HOSTPORT-DNAT', ['-m', 'addrtype', '--dst-type', 'LOCAL']],
    ['OUTPUT', 'CNI-HOSTPORT-DNAT', ['-m', 'addrtype', '--dst-type', 'LOCAL']],
    ['POSTROUTING', 'CNI-HOSTPORT-MASQ', ['-m', 'comment', '--comment', 'CNI portfwd requiring masquerade']],
  ] as const) {
    await ok('iptables', ['-t', 'nat', '-D', parent, ...extra, '-j', chain]);
  }
  for (const chain of ['CNI-HOSTPORT-DNAT', 'CNI-HOSTPORT-SETMARK', 'CNI-HOSTPORT-MASQ']) {
    await ok('iptables', ['-t', 'nat', '-F', chain]);
    await ok('iptables', ['-t', 'nat', '-X', chain]);
  }
}

test('bridge + host-local + portmap with the real plugins', { timeout: 120_000 }, async (t) => {
  assert.equal(process.getuid?.(), 0, 'this test needs root (network namespaces, bridges, iptables)');
  for (const p of ['bridge', 'host-local', 'loopback', 'portmap']) {
    assert.ok(existsSync(join(PLUGINS, p)), `CNI plugin ${p} missing in ${PLUGINS}`);
  }
  const suffix = randomBytes(3).toString('hex');
  const bridge = `skt${suffix}`;
  const octet = 1 + (randomBytes(1)[0] % 250);
  const subnet = `10.244.${octet}.0/24`;
  const gateway = `10.244.${octet}.1`;
  const hostPort = 20_000 + (randomBytes(2).readUInt16BE() % 20_000);
  const dir = await mkdtemp(join(tmpdir(), 'skiff-cni-'));
  const netnsNames = [`skiff-t-${suffix}-a`, `skiff-t-${suffix}-b`];
  const children: ChildProcess[] = [];
  const marks = [bridge, `10.244.${octet}.`, `skiff-t-${suffix}`];
  const rulesBefore = await ourRules(marks);
  let podChains = new Set<string>();

  t.after(async () => {
    for (const c of children) if (c.pid && c.exitCode === null) process.kill(c.pid, 'SIGKILL');
    for (const ns of netnsNames) await ok('ip', ['netns', 'del', ns]);
    await ok('ip', ['link', 'del', bridge]);
    // Anything our containers left behind (only reached when the test failed before DEL).
    const nat = await sh('iptables-save', ['-t', 'nat']).catch(() => '');
    const chains = new Set<string>();
    for (const line of nat.split('\n')) {
      if (line.startsWith('-A ') && marks.some((m) => line.includes(m))) {
        const chain = line.split(' ')[1];
        if (chain.startsWith('CNI-') && !chain.startsWith('CNI-HOSTPORT-')) chains.add(chain);
        await ok('sh', ['-c', `iptables -t nat ${line.replace(/^-A /, '-D ')}`]);
      }
    }
    for (const chain of chains) {
      await ok('iptables', ['-t', 'nat', '-F', chain]);
      await ok('iptables', ['-t', 'nat', '-X', chain]);
    }
    await removeSharedPortmapChains();
    await rm(dir, { recursive: true, force: true });
  });

  for (const ns of netnsNames) await sh('ip', ['netns', 'add', ns]);
  const ipamDir = join(dir, 'ipam');
  const net = cniNetwork({
    conflist: defaultConflist({ name: `skiff-t-${suffix}`, bridge, podCIDR: subnet, dataDir: ipamDir }),
    binDirs: [PLUGINS],
    cacheDir: join(dir, 'cache'),
  });
  const pods: SandboxRef[] = netnsNames.map((ns, i) => ({
    id: `${suffix}${i}`.padEnd(64, '0'),
    name: `pod-${i}`,
    namespace: 'default',
    netnsPath: `/var/run/netns/${ns}`,
  }));

  const a = await net.setUp(pods[0], { portMappings: [{ hostPort, containerPort: 8080, protocol: 'tcp' }] });
  const b = await net.setUp(pods[1]);
  for (const r of [a, b]) {
    assert.equal(r.ips.length, 1);
    assert.ok(r.ips[0].startsWith(`10.244.${octet}.`), `${r.ips[0]} is outside ${subnet}`);
    assert.equal(r.result.ips?.[0].gateway, gateway);
  }
  assert.notEqual(a.ips[0], b.ips[0]);
  // host-local records each allocation as a file named by the address.
  const allocated = await readdir(join(ipamDir, `skiff-t-${suffix}`));
  assert.ok(allocated.includes(a.ips[0]) && allocated.includes(b.ips[0]), `allocations: ${allocated}`);

  await t.test('loopback is up and the pods reach each other', async () => {
    const lo = await sh('ip', ['netns', 'exec', netnsNames[0], 'ip', '-o', 'link', 'show', 'lo']);
    assert.match(lo, /UP/);
    await sh('ip', ['netns', 'exec', netnsNames[0], 'busybox', 'ping', '-c1', '-W2', b.ips[0]]);
    await sh('ip', ['netns', 'exec', netnsNames[1], 'busybox', 'ping', '-c1', '-W2', a.ips[0]]);
  });

  await t.test('a hostPort reaches the pod from the host', async () => {
    const www = join(dir, 'www');
    await sh('mkdir', ['-p', www]);
    await writeFile(join(www, 'index.html'), `hello from ${suffix}\n`);
    const httpd = spawn(
      'ip',
      ['netns', 'exec', netnsNames[0], 'busybox', 'httpd', '-f', '-p', '8080', '-h', www],
      {
        stdio: 'ignore',
      },
    );
    children.push(httpd);
    const get = (url: string) => sh('timeout', ['3', 'busybox', 'wget', '-q', '-O', '-', url], 5_000);
    // Wait for httpd to listen, talking to the pod directly.
    let direct = '';
    for (let i = 0; i < 50 && !direct; i++) {
      direct = await get(`http://${a.ips[0]}:8080/index.html`).catch(() => '');
      if (!direct) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(direct, `hello from ${suffix}\n`);
    assert.equal(await get(`http://${gateway}:${hostPort}/index.html`), `hello from ${suffix}\n`);
    assert.equal(await get(`http://127.0.0.1:${hostPort}/index.html`), `hello from ${suffix}\n`);
    // Hairpin: the other pod through the node address.
    const viaNode = await sh('ip', [
      'netns',
      'exec',
      netnsNames[1],
      'timeout',
      '3',
      'busybox',
      'wget',
      '-q',
      '-O',
      '-',
      `http://${gateway}:${hostPort}/index.html`,
    ]);
    assert.equal(viaNode, `hello from ${suffix}\n`);
  });

  await t.test('CHECK passes on healthy pods and fails on a broken one', async () => {
    await net.check(pods[0]);
    await net.check(pods[1]);
    // The bridge plugin checks the routes it reported; (deleting eth0 would also fail CHECK, but then
    // bridge's DEL can no longer learn the address and leaks its masquerade rules.)
    await sh('ip', ['netns', 'exec', netnsNames[1], 'ip', 'route', 'del', 'default']);
    await assert.rejects(
      net.check(pods[1]),
      (e) => e instanceof CniError && /bridge CHECK failed/.test(e.message),
    );
  });

  await t.test('DEL removes the veth, the address, the rules and the cache', async () => {
    const hostVeth = a.result.interfaces?.find((i) => !i.sandbox && i.name !== bridge)?.name;
    assert.ok(hostVeth, 'result names the host-side veth');
    assert.ok(await ok('ip', ['link', 'show', hostVeth]));
    podChains = chainsOf(await ourRules(marks));
    const natBefore = await sh('iptables-save', ['-t', 'nat']);
    assert.match(natBefore, new RegExp(`--dport ${hostPort}\\b`));

    await net.tearDown(pods[0]);
    await net.tearDown(pods[1]);
    assert.equal(await ok('ip', ['link', 'show', hostVeth]), false, 'host veth is gone');
    const left = await readdir(join(ipamDir, `skiff-t-${suffix}`));
    assert.ok(!left.includes(a.ips[0]) && !left.includes(b.ips[0]), `allocations left: ${left}`);
    assert.deepEqual(await readdir(join(dir, 'cache', 'results')), []);
    const nat = await sh('iptables-save', ['-t', 'nat']);
    assert.doesNotMatch(nat, new RegExp(`--dport ${hostPort}\\b`));
    for (const p of pods) assert.ok(!nat.includes(p.id.slice(0, 12)), 'no rule names the container');
    // Repeating DEL, and DEL after the namespace is gone, both succeed.
    await net.tearDown(pods[0]);
    await sh('ip', ['netns', 'del', netnsNames[1]]);
    await net.tearDown(pods[1]);
  });

  await t.test('no iptables leftovers beyond portmap’s shared chains', async () => {
    await ok('ip', ['link', 'del', bridge]);
    await removeSharedPortmapChains();
    assert.ok(podChains.size >= 2, `per-container chains seen while pods ran: ${[...podChains]}`);
    assert.deepEqual(await ourRules(marks, podChains), rulesBefore);
  });
});
