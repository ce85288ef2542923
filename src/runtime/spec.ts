import fs from 'node:fs';
import path from 'node:path';
import type { ContainerConfig, LinuxContainerResources } from '../cri/index.ts';
import type { ImageRuntimeConfig } from './images.ts';

/** Capabilities a container gets unless it is privileged or drops them (containerd's set). */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

const ALL_CAPABILITIES = [
  ...DEFAULT_CAPABILITIES,
  'CAP_DAC_READ_SEARCH',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_LEASE',
  'CAP_AUDIT_CONTROL',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
];

const MASKED_PATHS = [
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
];
const READONLY_PATHS = [
  '/proc/asound',
  '/proc/bus',
  '/proc/fs',
  '/proc/irq',
  '/proc/sys',
  '/proc/sysrq-trigger',
];

export interface SandboxFiles {
  /** namespace files held by the sandbox; absent = the host's namespace */
  netns?: string;
  ipcns: string;
  utsns: string;
  resolvConf: string;
  hosts: string;
  hostname: string;
}

export interface SpecInput {
  config: ContainerConfig;
  image: ImageRuntimeConfig;
  /** the rootfs lower layers, in overlay order (upper-most first) */
  lowerDirs: string[];
  sandbox: SandboxFiles;
  /** set in the sandbox's UTS namespace as the container starts */
  hostname: string;
  cgroupsPath: string;
  /** the runtime's own oom_score_adj: a container is never given a lower one */
  minOomScoreAdj: number;
}

function capName(c: string): string {
  const up = c.toUpperCase();
  return up.startsWith('CAP_') ? up : `CAP_${up}`;
}

/** Finds `/etc/<file>` in the image, looking from the top layer down. */
function readImageFile(lowerDirs: string[], file: string): string {
  for (const dir of lowerDirs) {
    try {
      return fs.readFileSync(path.join(dir, file), 'utf8');
    } catch {}
  }
  return '';
}

function lookup(table: string, name: string): string[] | undefined {
  return table
    .split('\n')
    .map((l) => l.split(':'))
    .find((f) => f[0] === name);
}

/** Resolves a user spec (`name`, `uid`, `name:group`, `uid:gid`) against the image's /etc/passwd and /etc/group. */
export function resolveUser(lowerDirs: string[], user: string): { uid: number; gid: number } {
  if (!user) return { uid: 0, gid: 0 };
  const [u, g] = user.split(':');
  let uid: number;
  let gid = 0;
  const passwd = readImageFile(lowerDirs, 'etc/passwd');
  if (/^\d+$/.test(u)) {
    uid = Number(u);
    const row = passwd
      .split('\n')
      .map((l) => l.split(':'))
      .find((f) => f[2] === u);
    if (row) gid = Number(row[3]);
  } else {
    const row = lookup(passwd, u);
    if (!row) throw new Error(`user "${u}" not found in the image's /etc/passwd`);
    uid = Number(row[2]);
    gid = Number(row[3]);
  }
  if (g !== undefined) {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const row = lookup(readImageFile(lowerDirs, 'etc/group'), g);
      if (!row) throw new Error(`group "${g}" not found in the image's /etc/group`);
      gid = Number(row[2]);
    }
  }
  return { uid, gid };
}

/** The OCI `linux.resources` for CRI container resources. */
export function ociResources(r: LinuxContainerResources | undefined): Record<string, unknown> {
  const out: Record<string, any> = { devices: [{ allow: false, access: 'rwm' }] };
  if (!r) return out;
  if (r.memoryLimitInBytes) out.memory = { limit: r.memoryLimitInBytes };
  const cpu: Record<string, unknown> = {};
  if (r.cpuShares) cpu.shares = r.cpuShares;
  if (r.cpuQuota) cpu.quota = r.cpuQuota;
  if (r.cpuPeriod) cpu.period = r.cpuPeriod;
  if (r.cpusetCpus) cpu.cpus = r.cpusetCpus;
  if (r.cpusetMems) cpu.mems = r.cpusetMems;
  if (Object.keys(cpu).length > 0) out.cpu = cpu;
  return out;
}

/** Builds an OCI runtime-spec config.json for a CRI container. */
export function buildSpec(input: SpecInput): Record<string, unknown> {
  const { config, image, sandbox } = input;
  const sc = config.linux?.securityContext ?? {};
  const privileged = Boolean(sc.privileged);
  const entrypoint = config.command?.length ? config.command : (image.Entrypoint ?? []);
  const cmd = config.command?.length
    ? (config.args ?? [])
    : config.args?.length
      ? config.args
      : (image.Cmd ?? []);
  const args = [...entrypoint, ...cmd];
  if (args.length === 0)
    throw new Error('container has no command: neither the config nor the image gives one');
  const env = new Map<string, string>();
  for (const e of image.Env ?? []) {
    const i = e.indexOf('=');
    env.set(i < 0 ? e : e.slice(0, i), i < 0 ? '' : e.slice(i + 1));
  }
  if (!env.has('PATH')) env.set('PATH', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  for (const e of config.envs ?? []) env.set(e.key, e.value);
  let user = resolveUser(input.lowerDirs, sc.runAsUsername || image.User || '');
  if (sc.runAsUser) user = { uid: Number(sc.runAsUser.value), gid: user.gid };
  if (sc.runAsUser && !sc.runAsGroup) {
    const row = readImageFile(input.lowerDirs, 'etc/passwd')
      .split('\n')
      .map((l) => l.split(':'))
      .find((f) => f[2] === String(user.uid));
    user.gid = row ? Number(row[3]) : 0;
  }
  if (sc.runAsGroup) user.gid = Number(sc.runAsGroup.value);
  let caps = privileged ? ALL_CAPABILITIES : [...DEFAULT_CAPABILITIES];
  if (!privileged) {
    const add = (sc.capabilities?.addCapabilities ?? []).map(capName);
    const drop = (sc.capabilities?.dropCapabilities ?? []).map(capName);
    caps = add.includes('CAP_ALL') ? [...ALL_CAPABILITIES] : [...new Set([...caps, ...add])];
    caps = drop.includes('CAP_ALL')
      ? caps.filter((c) => add.includes(c))
      : caps.filter((c) => !drop.includes(c));
  }
  const mounts: Record<string, unknown>[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    {
      destination: '/dev',
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
    },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    {
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'],
    },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    {
      destination: '/sys',
      type: 'sysfs',
      source: 'sysfs',
      options: ['nosuid', 'noexec', 'nodev', privileged ? 'rw' : 'ro'],
    },
    {
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: ['nosuid', 'noexec', 'nodev', 'relatime', privileged ? 'rw' : 'ro'],
    },
  ];
  const userPaths = new Set((config.mounts ?? []).map((m) => m.containerPath));
  for (const [dest, src] of [
    ['/etc/resolv.conf', sandbox.resolvConf],
    ['/etc/hosts', sandbox.hosts],
    ['/etc/hostname', sandbox.hostname],
  ]) {
    if (!userPaths.has(dest))
      mounts.push({ destination: dest, type: 'bind', source: src, options: ['rbind', 'rprivate', 'rw'] });
  }
  for (const m of config.mounts ?? []) {
    const prop =
      m.propagation === 'PROPAGATION_BIDIRECTIONAL'
        ? 'rshared'
        : m.propagation === 'PROPAGATION_HOST_TO_CONTAINER'
          ? 'rslave'
          : 'rprivate';
    mounts.push({
      destination: m.containerPath,
      type: 'bind',
      source: m.hostPath,
      options: ['rbind', prop, m.readonly ? 'ro' : 'rw'],
    });
  }
  const res = config.linux?.resources;
  const namespaces: Record<string, string>[] = [
    { type: 'mount' },
    { type: 'ipc', path: sandbox.ipcns },
    { type: 'uts', path: sandbox.utsns },
  ];
  if (sc.namespaceOptions?.pid !== 'NODE') namespaces.push({ type: 'pid' });
  if (sandbox.netns) namespaces.push({ type: 'network', path: sandbox.netns });
  const process: Record<string, unknown> = {
    terminal: false,
    user: { uid: user.uid, gid: user.gid, additionalGids: sc.supplementalGroups?.map(Number) ?? [] },
    args,
    env: [...env].map(([k, v]) => `${k}=${v}`),
    cwd: config.workingDir || image.WorkingDir || '/',
    capabilities: { bounding: caps, effective: caps, permitted: caps },
    noNewPrivileges: Boolean(sc.noNewPrivs),
  };
  const wantOom = res?.oomScoreAdj ?? 0;
  if (wantOom > input.minOomScoreAdj) process.oomScoreAdj = wantOom;
  return {
    ociVersion: '1.0.2',
    process,
    hostname: input.hostname,
    root: { path: 'rootfs', readonly: Boolean(sc.readonlyRootfs) },
    mounts,
    linux: {
      cgroupsPath: input.cgroupsPath,
      resources: privileged ? { devices: [{ allow: true, access: 'rwm' }] } : ociResources(res),
      namespaces,
      maskedPaths: privileged ? [] : sc.maskedPaths?.length ? sc.maskedPaths : MASKED_PATHS,
      readonlyPaths: privileged ? [] : sc.readonlyPaths?.length ? sc.readonlyPaths : READONLY_PATHS,
    },
  };
}
