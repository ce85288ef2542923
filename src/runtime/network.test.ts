import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { criClient } from '../cri/index.ts';
import { cniNetwork, defaultConflist } from '../network/cni/index.ts';
import { execCommand } from './exec.ts';
import { startTestRuntime } from './testing.ts';

/** nat and filter rules that mention this test's network (by name, subnet or bridge). */
async function ourRules(marks: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const table of ['nat', 'filter']) {
    const r = await execCommand('iptables', ['-t', table, '-S']);
    for (const line of r.stdout.toString().split('\n')) {
      if (marks.some((m) => line.includes(m))) out.push(`${table} ${line}`);
    }
  }
  return out;
}

/** Removes what a failed run may have left: rules naming the network and the chains they jump to. */
async function dropRules(marks: string[]): Promise<void> {
  const chains = new Set<string>();
  for (const rule of await ourRules(marks)) {
    const [table, ...rest] = rule.split(' ');
    const line = rest.join(' ');
    if (!line.startsWith('-A ')) continue;
    const jump = / -j (CNI-[\w-]+)/.exec(line)?.[1];
    if (jump) chains.add(`${table} ${jump}`);
    await execCommand('sh', ['-c', `iptables -t ${table} ${line.replace(/^-A /, '-D ')}`]);
  }
  for (const c of chains) {
    const [table, chain] = c.split(' ');
    await execCommand('iptables', ['-t', table, '-F', chain]);
    await execCommand('iptables', ['-t', table, '-X', chain]);
  }
}

test('CNI bridge network: sandboxes get IPs, reach each other, and teardown leaves nothing', async (t) => {
  if (process.getuid?.() !== 0) assert.fail('needs root (netns, bridge, iptables)');
  const suffix = randomBytes(3).toString('hex');
  const bridge = `skrt${suffix}`;
  const name = `skiff-rt-${suffix}`;
  // 10.<96..159>.<0..255>.0/24, test-unique in practice.
  const prefix = `10.${96 + (randomBytes(1)[0] % 64)}.${randomBytes(1)[0]}`;
  const podCIDR = `${prefix}.0/24`;
  const netDir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-rtnet-'));
  const marks = [name, `${prefix}.`, bridge];
  t.after(async () => {
    await dropRules(marks);
    await execCommand('ip', ['link', 'del', bridge]);
    fs.rmSync(netDir, { recursive: true, force: true });
  });
  assert.deepEqual(await ourRules(marks), [], 'no rules for this network before the test');
  const network = cniNetwork({
    conflist: defaultConflist({ name, bridge, podCIDR, dataDir: path.join(netDir, 'ipam') }),
    binDirs: ['/usr/lib/cni'],
    cacheDir: path.join(netDir, 'cache'),
  });
  const rt = await startTestRuntime({ network });
  const cri = criClient(rt.endpoint);
  t.after(async () => {
    cri.close();
    await rt.destroy();
  });

  const pod = async (podName: string, script: string) => {
    const config = {
      metadata: { name: podName, uid: `${podName}-${suffix}`, namespace: 'default' },
      logDirectory: path.join(rt.dir, 'logs', podName),
    };
    const { podSandboxId } = await cri.runPodSandbox({ config });
    const { containerId } = await cri.createContainer({
      podSandboxId,
      sandboxConfig: config,
      config: {
        metadata: { name: 'main' },
        image: { image: rt.image.name },
        command: ['sh', '-c', script],
        logPath: 'main.log',
      },
    });
    await cri.startContainer({ containerId });
    const st = await cri.podSandboxStatus({ podSandboxId });
    return { podSandboxId, containerId, ip: st.status.network?.ip ?? '' };
  };
  const server = await pod(
    'server',
    `mkdir -p /tmp/www && echo hello from ${suffix} > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www`,
  );
  const client = await pod('client', 'exec sleep 1000');
  for (const p of [server, client]) assert.ok(p.ip.startsWith(`${prefix}.`), `pod IP ${p.ip} in ${podCIDR}`);
  assert.notEqual(server.ip, client.ip);

  let body = '';
  let why = '';
  for (let i = 0; i < 20 && !body.includes('hello'); i++) {
    const r = await cri.execSync({
      containerId: client.containerId,
      // (busybox-static's wget crashes in getaddrinfo without NSS libraries; nc does not)
      cmd: ['sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${server.ip} 8080`],
      timeout: 10,
    });
    body = r.stdout.toString();
    why = `exit ${r.exitCode}: ${r.stderr.toString()}`;
    if (!body) await new Promise((r) => setTimeout(r, 200));
  }
  assert.match(body, /^HTTP\/1\.[01] 200/, `nc: ${why}`);
  assert.ok(body.endsWith(`\r\n\r\nhello from ${suffix}\n`), body);
  const eth0 = await cri.execSync({
    containerId: client.containerId,
    cmd: ['ip', '-o', '-4', 'addr', 'show', 'eth0'],
  });
  assert.match(eth0.stdout.toString(), new RegExp(`inet ${client.ip.replace(/\./g, '\\.')}/24`));
  // lo is up (the runtime brings it up, not the loopback plugin)
  const lo = await cri.execSync({
    containerId: client.containerId,
    cmd: ['ip', '-o', '-4', 'addr', 'show', 'lo'],
  });
  assert.match(lo.stdout.toString(), /inet 127\.0\.0\.1\/8/);
  const loLink = await cri.execSync({
    containerId: client.containerId,
    cmd: ['ip', '-o', 'link', 'show', 'lo'],
  });
  assert.match(loLink.stdout.toString(), /<LOOPBACK,UP,LOWER_UP>/);
  const veths = await execCommand('ip', ['-o', 'link', 'show', 'master', bridge]);
  assert.equal(
    veths.stdout.toString().trim().split('\n').filter(Boolean).length,
    2,
    'two veths on the bridge',
  );
  assert.ok((await ourRules(marks)).length > 0, 'masquerade rules exist while pods run');

  for (const p of [server, client]) {
    await cri.stopPodSandbox({ podSandboxId: p.podSandboxId });
    await cri.removePodSandbox({ podSandboxId: p.podSandboxId });
  }
  const after = await execCommand('ip', ['-o', 'link', 'show', 'master', bridge]);
  assert.equal(after.stdout.toString().trim(), '', 'no veth left on the bridge');
  const ipamDir = path.join(netDir, 'ipam', name);
  const leases = fs.existsSync(ipamDir)
    ? fs.readdirSync(ipamDir).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f))
    : [];
  assert.deepEqual(leases, [], 'no IPAM allocation left');
  assert.deepEqual(await ourRules([name, `${prefix}.`]), [], 'no iptables rule left');
});
