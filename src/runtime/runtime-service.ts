import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import {
  type AttachRequest,
  type Container,
  type ContainerIdRequest,
  type ContainerStats,
  type ContainerStatus,
  type CreateContainerRequest,
  CriError,
  criInvalid,
  criNotFound,
  type ExecRequest,
  type ExecSyncRequest,
  GrpcStatus,
  type ListContainerStatsRequest,
  type ListContainersRequest,
  type ListPodSandboxRequest,
  type PodSandboxIdRequest,
  type PodSandboxStatusRequest,
  type PodSandboxStatusResponse,
  type PortForwardRequest,
  type RunPodSandboxRequest,
  type RuntimeService,
  type StopContainerRequest,
  type StreamingServer,
  type UpdateContainerResourcesRequest,
} from '../cri/index.ts';
import { cgroupRoots, readCgroupFile, removeCgroup } from './cgroups.ts';
import { mustRun, type RunCommand } from './exec.ts';
import type { ImageStore } from './images.ts';
import { Launcher } from './launcher.ts';
import { type ExitRecord, monitorPid, readExit, reopenLog, startMonitor } from './monitor.ts';
import type { PodNetwork, PodNetworkSandbox, PodPortMapping } from './network.ts';
import { phase } from './phases.ts';
import { Runc } from './runc.ts';
import { buildSpec } from './spec.ts';
import {
  type ContainerRecord,
  listRecords,
  matchLabels,
  nowNs,
  readJson,
  type SandboxRecord,
  writeJson,
} from './state.ts';

type RecordKind = 'sandboxes' | 'containers';
const newId = () => randomBytes(32).toString('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A small file's text, or `fallback` when it cannot be read. The hot paths use synchronous
 * calls for small local files: ~10 µs of CPU each, where fs/promises takes ~90.
 */
function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

/** The hostname a sandbox's containers get (their UTS namespace is the sandbox's). */
function sandboxHostname(sb: SandboxRecord): string {
  return sb.config.hostname || sb.metadata.name;
}

/**
 * Whether something is mounted at `p`: it lies on another device than its directory. True of
 * what this runtime mounts (the overlay rootfs, the nsfs bind mounts) and two stat calls, where
 * `mountpoint` costs an exec that parses all of mountinfo (~6 ms of CPU with many pods).
 */
function isMountpoint(p: string): boolean {
  try {
    return fs.statSync(p).dev !== fs.statSync(path.dirname(p)).dev;
  } catch {
    return false;
  }
}

async function unmount(run: RunCommand, p: string): Promise<void> {
  for (let i = 0; i < 5 && isMountpoint(p); i++) {
    const r = await run('umount', [p]);
    if (r.exitCode !== 0) await run('umount', ['-l', p]);
  }
}

/**
 * Skiff's CRI RuntimeService: sandboxes are namespace files (net, ipc, uts) held by bind mounts,
 * containers are runc containers in OCI bundles over overlayfs, each run by a detached monitor.
 * Everything is on disk under `stateDir`, so a restarted runtime picks up where it left off.
 */
export class SkiffRuntimeService implements RuntimeService {
  readonly #stateDir: string;
  readonly #images: ImageStore;
  readonly #network?: PodNetwork;
  readonly runc: Runc;
  readonly #launcher: Launcher;
  readonly #run: RunCommand;
  #cache?: { sandboxes: Map<string, SandboxRecord>; containers: Map<string, ContainerRecord> };
  /** the mounted cgroup hierarchies, looked up once */
  #cgroupRoots?: string[];
  /** set by startRuntime: where Exec, Attach and PortForward URLs point */
  streaming?: StreamingServer;

  constructor(opts: { stateDir: string; images: ImageStore; network?: PodNetwork }) {
    this.#stateDir = opts.stateDir;
    this.#images = opts.images;
    this.#launcher = new Launcher(path.join(opts.stateDir, 'launch'));
    const launcher = this.#launcher;
    this.#network = opts.network?.withExec
      ? opts.network.withExec((file, env, stdin, ms) => launcher.runWithInput(file, env, stdin, ms), {
          loopback: false,
        })
      : opts.network;
    this.#run = (file, args) => this.#launcher.run(file, args);
    this.runc = new Runc(path.join(opts.stateDir, 'runc'), this.#run);
    for (const d of ['sandboxes', 'containers', 'runc'])
      fs.mkdirSync(path.join(this.#stateDir, d), { recursive: true });
  }

  /** Stops the command helper (containers keep running). */
  close(): void {
    this.#launcher.close();
  }

  #roots(): string[] {
    this.#cgroupRoots ??= cgroupRoots();
    return this.#cgroupRoots;
  }

  #sandboxDir(id: string) {
    return path.join(this.#stateDir, 'sandboxes', id);
  }
  #containerDir(id: string) {
    return path.join(this.#stateDir, 'containers', id);
  }

  #sandbox(id: string | undefined): SandboxRecord {
    const found = this.#resolve('sandboxes', 'sandbox.json', id);
    if (!found) throw criNotFound(`pod sandbox "${id}"`);
    return found as SandboxRecord;
  }

  #container(id: string | undefined): ContainerRecord {
    const found = this.#resolve('containers', 'container.json', id);
    if (!found) throw criNotFound(`container "${id}"`);
    return found as ContainerRecord;
  }

  /** The record `lookup` finds, or undefined where it throws NotFound (other errors pass). */
  #ifFound<T>(lookup: () => T): T | undefined {
    try {
      return lookup();
    } catch (err) {
      if (err instanceof CriError && err.code === GrpcStatus.NOT_FOUND) return undefined;
      throw err;
    }
  }

  /** Finds a record by full ID or unique prefix (as crictl allows). */
  #resolve(kind: RecordKind, _file: string, id: string | undefined): unknown {
    if (!id) throw criInvalid('ID must not be empty');
    const records = this.#records(kind);
    const exact = records.get(id);
    if (exact) return exact;
    const matches = [...records.keys()].filter((n) => n.startsWith(id));
    return matches.length === 1 ? records.get(matches[0]) : undefined;
  }

  /**
   * The sandbox and container records, read from disk once and then kept in step with every
   * write: listing no longer re-reads and re-parses every record file on every call (the agent
   * lists per pod sync, which made each list O(pods) in file reads). Disk stays the truth
   * across restarts; this process is its only writer.
   */
  #records(kind: 'sandboxes'): Map<string, SandboxRecord>;
  #records(kind: 'containers'): Map<string, ContainerRecord>;
  #records(kind: RecordKind): Map<string, SandboxRecord | ContainerRecord>;
  #records(kind: RecordKind): Map<string, SandboxRecord | ContainerRecord> {
    this.#cache ??= {
      sandboxes: new Map(
        listRecords<SandboxRecord>(path.join(this.#stateDir, 'sandboxes'), 'sandbox.json').map((r) => [
          r.id,
          r,
        ]),
      ),
      containers: new Map(
        listRecords<ContainerRecord>(path.join(this.#stateDir, 'containers'), 'container.json').map((r) => [
          r.id,
          r,
        ]),
      ),
    };
    return this.#cache[kind];
  }

  #saveSandbox(sb: SandboxRecord): void {
    writeJson(path.join(this.#sandboxDir(sb.id), 'sandbox.json'), sb);
    this.#records('sandboxes').set(sb.id, sb);
  }

  #saveContainer(c: ContainerRecord): void {
    writeJson(path.join(this.#containerDir(c.id), 'container.json'), c);
    this.#records('containers').set(c.id, c);
  }

  #netSandbox(sb: SandboxRecord): PodNetworkSandbox {
    return {
      id: sb.id,
      name: sb.metadata.name,
      namespace: sb.metadata.namespace,
      netnsPath: path.join(this.#sandboxDir(sb.id), 'ns', 'net'),
    };
  }

  #portMappings(sb: SandboxRecord): PodPortMapping[] {
    return (sb.config.portMappings ?? [])
      .filter((p) => p.hostPort)
      .map((p) => ({
        hostPort: p.hostPort!,
        containerPort: p.containerPort ?? 0,
        protocol: p.protocol === 'UDP' ? 'udp' : 'tcp',
        ...(p.hostIp ? { hostIP: p.hostIp } : {}),
      }));
  }

  async version() {
    return { version: '0.1.0', runtimeName: 'skiff', runtimeVersion: '0.1.0', runtimeApiVersion: 'v1' };
  }

  async status() {
    return {
      status: {
        conditions: [
          { type: 'RuntimeReady', status: true, reason: '', message: '' },
          { type: 'NetworkReady', status: true, reason: '', message: '' },
        ],
      },
      info: {},
    };
  }

  async updateRuntimeConfig() {
    return {};
  }

  async runPodSandbox(req: RunPodSandboxRequest) {
    const config = req.config ?? {};
    if (!config.metadata?.name) throw criInvalid('sandbox config must have metadata.name');
    const id = newId();
    const dir = this.#sandboxDir(id);
    const nsDir = path.join(dir, 'ns');
    fs.mkdirSync(nsDir, { recursive: true });
    const hostNetwork = config.linux?.securityContext?.namespaceOptions?.network === 'NODE';
    const ownCgroup = !config.linux?.cgroupParent;
    const record: SandboxRecord = {
      id,
      metadata: { attempt: 0, ...config.metadata },
      labels: config.labels ?? {},
      annotations: config.annotations ?? {},
      createdAt: nowNs(),
      state: 'SANDBOX_READY',
      ips: [],
      config,
      hostNetwork,
      cgroupParent: config.linux?.cgroupParent || `/skiff/${id.slice(0, 16)}`,
      ownCgroup,
    };
    let t = phase(id, 'sandbox:begin', performance.now());
    try {
      const hostname = sandboxHostname(record);
      const nsArgs: string[] = [];
      for (const ns of hostNetwork ? ['ipc', 'uts'] : ['net', 'ipc', 'uts']) {
        fs.writeFileSync(path.join(nsDir, ns), '');
        nsArgs.push(`--${ns}=${path.join(nsDir, ns)}`);
      }
      // One exec: `unshare` runs `ip` in the new namespaces to bring lo up (so the network
      // skips the CNI loopback plugin); runc sets the hostname as each container starts.
      const inside = hostNetwork ? ['true'] : ['ip', 'link', 'set', 'lo', 'up'];
      await mustRun('unshare', [...nsArgs, ...inside], this.#run);
      t = phase(id, 'sandbox:unshare', t);
      const dns = config.dnsConfig;
      const resolv =
        dns && (dns.servers?.length || dns.searches?.length)
          ? [
              ...(dns.searches?.length ? [`search ${dns.searches.join(' ')}`] : []),
              ...(dns.servers ?? []).map((s) => `nameserver ${s}`),
              ...(dns.options?.length ? [`options ${dns.options.join(' ')}`] : []),
            ].join('\n') + '\n'
          : readOr('/etc/resolv.conf', '');
      fs.writeFileSync(path.join(dir, 'resolv.conf'), resolv);
      fs.writeFileSync(path.join(dir, 'hostname'), `${hostname}\n`);
      this.#saveSandbox(record);
      t = phase(id, 'sandbox:files', t);
      if (this.#network && !hostNetwork) {
        const { ips } = await this.#network.setUp(this.#netSandbox(record), {
          portMappings: this.#portMappings(record),
        });
        record.ips = ips;
        t = phase(id, 'sandbox:cni', t);
      }
      const hosts = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback'];
      for (const ip of record.ips) hosts.push(`${ip}\t${hostname}`);
      fs.writeFileSync(path.join(dir, 'hosts'), hosts.join('\n') + '\n');
      this.#saveSandbox(record);
      phase(id, 'sandbox:hosts', t);
    } catch (err) {
      await this.#releaseSandbox(record).catch(() => {});
      this.#records('sandboxes').delete(id);
      await fsp.rm(dir, { recursive: true, force: true });
      throw err;
    }
    return { podSandboxId: id };
  }

  /** Tears down the network and drops the namespace files; idempotent. */
  async #releaseSandbox(sb: SandboxRecord): Promise<void> {
    const nsDir = path.join(this.#sandboxDir(sb.id), 'ns');
    if (this.#network && !sb.hostNetwork && isMountpoint(path.join(nsDir, 'net'))) {
      await this.#network.tearDown(this.#netSandbox(sb), { portMappings: this.#portMappings(sb) });
    }
    for (const ns of ['net', 'ipc', 'uts']) await unmount(this.#run, path.join(nsDir, ns));
  }

  async stopPodSandbox(req: PodSandboxIdRequest) {
    // CRI: stopping or removing what is already gone succeeds.
    const sb = this.#ifFound(() => this.#sandbox(req.podSandboxId));
    if (!sb) return {};
    for (const c of this.#containers().filter((c) => c.sandboxId === sb.id)) {
      await this.stopContainer({ containerId: c.id, timeout: 0 });
    }
    await this.#releaseSandbox(sb);
    sb.state = 'SANDBOX_NOTREADY';
    this.#saveSandbox(sb);
    return {};
  }

  async removePodSandbox(req: PodSandboxIdRequest) {
    // CRI: stopping or removing what is already gone succeeds.
    const sb = this.#ifFound(() => this.#sandbox(req.podSandboxId));
    if (!sb) return {};
    for (const c of this.#containers().filter((c) => c.sandboxId === sb.id)) {
      await this.removeContainer({ containerId: c.id });
    }
    await this.#releaseSandbox(sb);
    if (sb.ownCgroup) removeCgroup(sb.cgroupParent, this.#roots());
    this.#records('sandboxes').delete(sb.id);
    // (async: unlinking on the node's disk can take milliseconds the event loop should not wait)
    await fsp.rm(this.#sandboxDir(sb.id), { recursive: true, force: true });
    return {};
  }

  async podSandboxStatus(req: PodSandboxStatusRequest): Promise<PodSandboxStatusResponse> {
    const sb = this.#sandbox(req.podSandboxId);
    return {
      status: {
        id: sb.id,
        metadata: sb.metadata,
        state: sb.state,
        createdAt: sb.createdAt,
        network: { ip: sb.ips[0] ?? '', additionalIps: sb.ips.slice(1).map((ip) => ({ ip })) },
        linux: {
          namespaces: {
            options: { network: sb.hostNetwork ? 'NODE' : 'POD', pid: 'CONTAINER', ipc: 'POD', targetId: '' },
          },
        },
        labels: sb.labels,
        annotations: sb.annotations,
        runtimeHandler: '',
      },
      info: req.verbose ? { netns: this.#netSandbox(sb).netnsPath } : {},
    };
  }

  async listPodSandbox(req: ListPodSandboxRequest) {
    const f = req.filter ?? {};
    const items = [];
    for (const sb of this.#records('sandboxes').values()) {
      if (f.id && !sb.id.startsWith(f.id)) continue;
      if (f.state && sb.state !== f.state.state) continue;
      if (!matchLabels(sb.labels, f.labelSelector)) continue;
      items.push({
        id: sb.id,
        metadata: sb.metadata,
        state: sb.state,
        createdAt: sb.createdAt,
        labels: sb.labels,
        annotations: sb.annotations,
        runtimeHandler: '',
      });
    }
    return { items };
  }

  async createContainer(req: CreateContainerRequest) {
    let t = performance.now();
    const sb = this.#sandbox(req.podSandboxId);
    if (sb.state !== 'SANDBOX_READY')
      throw new CriError(GrpcStatus.FAILED_PRECONDITION, `sandbox ${sb.id} is not ready`);
    const config = req.config ?? {};
    if (!config.metadata?.name) throw criInvalid('container config must have metadata.name');
    const imageRef = config.image?.image ?? '';
    const image = this.#images.get(imageRef);
    const id = newId();
    const dir = this.#containerDir(id);
    const bundle = path.join(dir, 'bundle');
    const rootfs = path.join(bundle, 'rootfs');
    const sdir = this.#sandboxDir(sb.id);
    for (const d of [rootfs, path.join(dir, 'upper'), path.join(dir, 'work')])
      fs.mkdirSync(d, { recursive: true });
    t = phase(sb.id, 'create:lookup+mkdir', t);
    const lowerDirs = image.chainIds.map((c) => this.#images.snapshotPath(c)).reverse();
    const record: ContainerRecord = {
      id,
      sandboxId: sb.id,
      metadata: { attempt: 0, ...config.metadata },
      image: { image: imageRef, annotations: config.image?.annotations ?? {} },
      imageRef: image.repoDigests[0] ?? image.id,
      imageId: image.id,
      labels: config.labels ?? {},
      annotations: config.annotations ?? {},
      logPath: config.logPath ? path.join(sb.config.logDirectory ?? '', config.logPath) : '',
      mounts: config.mounts ?? [],
      resources: config.linux?.resources,
      cgroupsPath: `${sb.cgroupParent}/${id}`,
      chainIds: image.chainIds,
      createdAt: nowNs(),
    };
    try {
      const minOom = Number(readOr('/proc/self/oom_score_adj', '0'));
      const spec = buildSpec({
        config,
        image: image.config,
        lowerDirs,
        sandbox: {
          netns: sb.hostNetwork ? undefined : path.join(sdir, 'ns', 'net'),
          ipcns: path.join(sdir, 'ns', 'ipc'),
          utsns: path.join(sdir, 'ns', 'uts'),
          resolvConf: path.join(sdir, 'resolv.conf'),
          hosts: path.join(sdir, 'hosts'),
          hostname: path.join(sdir, 'hostname'),
        },
        hostname: sandboxHostname(sb),
        cgroupsPath: record.cgroupsPath,
        minOomScoreAdj: minOom,
      });
      // a new file in a new directory, read by nothing before runc: no temporary file needed
      fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec));
      t = phase(sb.id, 'create:config.json', t);
      const opts = `lowerdir=${lowerDirs.join(':')},upperdir=${path.join(dir, 'upper')},workdir=${path.join(dir, 'work')}`;
      await mustRun('mount', ['-t', 'overlay', 'overlay', '-o', opts, rootfs], this.#run);
      this.#saveContainer(record);
      phase(sb.id, 'create:mount', t);
    } catch (err) {
      await unmount(this.#run, rootfs);
      this.#records('containers').delete(id);
      await fsp.rm(dir, { recursive: true, force: true });
      throw err instanceof CriError ? err : criInvalid((err as Error).message);
    }
    return { containerId: id };
  }

  async startContainer(req: ContainerIdRequest) {
    const c = this.#container(req.containerId);
    const dir = this.#containerDir(c.id);
    if (c.startedAt)
      throw new CriError(GrpcStatus.FAILED_PRECONDITION, `container ${c.id} was already started`);
    c.startedAt = nowNs();
    this.#saveContainer(c);
    const t = performance.now();
    try {
      await startMonitor({
        runcRoot: this.runc.root,
        id: c.id,
        bundle: path.join(dir, 'bundle'),
        dir,
        logPath: c.logPath,
        socketDir: path.join(this.#stateDir, 'sock'),
        tag: c.sandboxId,
        launcher: this.#launcher,
      });
      phase(c.sandboxId, 'start:total', t);
    } catch (err) {
      // A container that could not start is exited, with the reason in its status.
      writeJson(path.join(dir, 'exit.json'), {
        exitCode: 128,
        finishedAt: nowNs(),
        reason: 'StartError',
        message: (err as Error).message,
      });
      throw err instanceof CriError ? err : new CriError(GrpcStatus.UNKNOWN, (err as Error).message);
    }
    return {};
  }

  /** The live state of a container, from its exit record, its monitor and runc. */
  async #state(c: ContainerRecord): Promise<{ state: ContainerStatus['state']; exit?: ExitRecord }> {
    const dir = this.#containerDir(c.id);
    if (!c.startedAt) return { state: 'CONTAINER_CREATED' };
    const exit = readExit(dir) ?? readJson<ExitRecord>(path.join(dir, 'exit.json'));
    if (exit) return { state: 'CONTAINER_EXITED', exit };
    const pid = monitorPid(dir);
    if (pid && pidAlive(pid)) return { state: 'CONTAINER_RUNNING' };
    if (!pid && Date.now() * 1e6 - c.startedAt < 10e9) return { state: 'CONTAINER_RUNNING' };
    // The monitor is gone without a record: the container cannot be reaped any more.
    const st = await this.runc.state(c.id);
    if (st?.status === 'running') return { state: 'CONTAINER_RUNNING' };
    const lost: ExitRecord = { exitCode: 255, finishedAt: nowNs(), reason: 'Unknown' };
    writeJson(path.join(dir, 'exit.json'), lost);
    return { state: 'CONTAINER_EXITED', exit: lost };
  }

  async stopContainer(req: StopContainerRequest) {
    // CRI: stopping or removing what is already gone succeeds.
    const c = this.#ifFound(() => this.#container(req.containerId));
    if (!c) return {};
    const exited = async () => (await this.#state(c)).state !== 'CONTAINER_RUNNING';
    if ((await this.#state(c)).state !== 'CONTAINER_RUNNING') return {};
    const timeoutMs = Math.max(0, Number(req.timeout ?? 0)) * 1000;
    if (timeoutMs > 0) {
      await this.runc.kill(c.id, 'TERM');
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline && !(await exited())) await sleep(100);
    }
    const deadline = Date.now() + 15_000;
    while (!(await exited())) {
      await this.runc.kill(c.id, 'KILL');
      if (Date.now() > deadline)
        throw new CriError(GrpcStatus.DEADLINE_EXCEEDED, `container ${c.id} did not stop`);
      await sleep(100);
    }
    return {};
  }

  async removeContainer(req: ContainerIdRequest) {
    // CRI: stopping or removing what is already gone succeeds.
    const c = this.#ifFound(() => this.#container(req.containerId));
    if (!c) return {};
    await this.stopContainer({ containerId: c.id, timeout: 0 });
    await this.runc.delete(c.id);
    const dir = this.#containerDir(c.id);
    await unmount(this.#run, path.join(dir, 'bundle', 'rootfs'));
    await fsp.rm(path.join(this.#stateDir, 'sock', c.id), { force: true });
    removeCgroup(c.cgroupsPath, this.#roots());
    this.#records('containers').delete(c.id);
    await fsp.rm(dir, { recursive: true, force: true });
    return {};
  }

  #containers(): ContainerRecord[] {
    return [...this.#records('containers').values()];
  }

  async listContainers(req: ListContainersRequest) {
    const f = req.filter ?? {};
    const out: Container[] = [];
    for (const c of this.#records('containers').values()) {
      if (f.id && !c.id.startsWith(f.id)) continue;
      if (f.podSandboxId && !c.sandboxId.startsWith(f.podSandboxId)) continue;
      if (!matchLabels(c.labels, f.labelSelector)) continue;
      const { state } = await this.#state(c);
      if (f.state && f.state.state !== state) continue;
      out.push({
        id: c.id,
        podSandboxId: c.sandboxId,
        metadata: c.metadata,
        image: c.image,
        imageRef: c.imageRef,
        imageId: c.imageId,
        state,
        createdAt: c.createdAt,
        labels: c.labels,
        annotations: c.annotations,
      });
    }
    return { containers: out };
  }

  async containerStatus(req: { containerId?: string; verbose?: boolean }) {
    const c = this.#container(req.containerId);
    const { state, exit } = await this.#state(c);
    const status: ContainerStatus = {
      id: c.id,
      metadata: c.metadata,
      state,
      createdAt: c.createdAt,
      startedAt: c.startedAt ?? 0,
      finishedAt: exit?.finishedAt ?? 0,
      exitCode: exit?.exitCode ?? 0,
      image: c.image,
      imageRef: c.imageRef,
      imageId: c.imageId,
      reason: exit?.reason ?? '',
      message: exit?.message ?? '',
      labels: c.labels,
      annotations: c.annotations,
      mounts: c.mounts,
      logPath: c.logPath,
      resources: c.resources ? { linux: c.resources } : null,
    };
    return { status, info: {} };
  }

  async updateContainerResources(req: UpdateContainerResourcesRequest) {
    const c = this.#container(req.containerId);
    const r = req.linux ?? {};
    const flags: string[] = [];
    if (r.memoryLimitInBytes) flags.push('--memory', String(r.memoryLimitInBytes));
    if (r.cpuShares) flags.push('--cpu-share', String(r.cpuShares));
    if (r.cpuQuota) flags.push('--cpu-quota', String(r.cpuQuota));
    if (r.cpuPeriod) flags.push('--cpu-period', String(r.cpuPeriod));
    if (r.cpusetCpus) flags.push('--cpuset-cpus', r.cpusetCpus);
    if (r.cpusetMems) flags.push('--cpuset-mems', r.cpusetMems);
    if ((await this.#state(c)).state === 'CONTAINER_RUNNING' && flags.length > 0)
      await this.runc.update(c.id, flags);
    c.resources = { ...c.resources, ...r };
    this.#saveContainer(c);
    return {};
  }

  async reopenContainerLog(req: ContainerIdRequest) {
    const c = this.#container(req.containerId);
    if (!reopenLog(path.join(this.#containerDir(c.id), 'bundle')))
      throw new CriError(GrpcStatus.FAILED_PRECONDITION, `container ${c.id} is not running`);
    return {};
  }

  async execSync(req: ExecSyncRequest) {
    const c = this.#container(req.containerId);
    if ((await this.#state(c)).state !== 'CONTAINER_RUNNING') {
      throw new CriError(GrpcStatus.FAILED_PRECONDITION, `container ${c.id} is not running`);
    }
    if (!req.cmd?.length) throw criInvalid('cmd must not be empty');
    const timeout = Number(req.timeout ?? 0);
    const r = await this.runc.exec(c.id, req.cmd, timeout > 0 ? timeout * 1000 : undefined);
    if (r.timedOut) {
      throw new CriError(GrpcStatus.DEADLINE_EXCEEDED, `command timed out after ${timeout}s`);
    }
    return { stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode };
  }

  async #stats(c: ContainerRecord): Promise<ContainerStats> {
    const ts = nowNs();
    const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
    const usage = num(readCgroupFile('memory', c.cgroupsPath, 'memory.usage_in_bytes'));
    const stat = readCgroupFile('memory', c.cgroupsPath, 'memory.stat') ?? '';
    const field = (k: string) => Number(stat.match(new RegExp(`^${k} (\\d+)$`, 'm'))?.[1] ?? 0);
    const inactive = field('total_inactive_file');
    const cpu = num(readCgroupFile('cpuacct', c.cgroupsPath, 'cpuacct.usage'));
    const upper = path.join(this.#containerDir(c.id), 'upper');
    const du = await this.#run('du', ['-sb', upper]);
    const used = Number(du.stdout.toString().split('\t')[0]) || 0;
    return {
      attributes: { id: c.id, metadata: c.metadata, labels: c.labels, annotations: c.annotations },
      cpu: cpu === undefined ? null : { timestamp: ts, usageCoreNanoSeconds: { value: cpu } },
      memory:
        usage === undefined
          ? null
          : {
              timestamp: ts,
              workingSetBytes: { value: Math.max(0, usage - inactive) },
              usageBytes: { value: usage },
              rssBytes: { value: field('total_rss') },
              pageFaults: { value: field('total_pgfault') },
              majorPageFaults: { value: field('total_pgmajfault') },
            },
      writableLayer: {
        timestamp: ts,
        fsId: { mountpoint: upper },
        usedBytes: { value: used },
        inodesUsed: null,
      },
    };
  }

  async containerStats(req: ContainerIdRequest) {
    return { stats: await this.#stats(this.#container(req.containerId)) };
  }

  async listContainerStats(req: ListContainerStatsRequest) {
    const f = req.filter ?? {};
    const stats: ContainerStats[] = [];
    for (const c of this.#containers()) {
      if (f.id && !c.id.startsWith(f.id)) continue;
      if (f.podSandboxId && !c.sandboxId.startsWith(f.podSandboxId)) continue;
      if (!matchLabels(c.labels, f.labelSelector)) continue;
      if ((await this.#state(c)).state !== 'CONTAINER_RUNNING') continue;
      stats.push(await this.#stats(c));
    }
    return { stats };
  }

  #streamingServer(): StreamingServer {
    if (!this.streaming) throw new CriError(GrpcStatus.UNAVAILABLE, 'the streaming server is not running');
    return this.streaming;
  }

  async exec(req: ExecRequest) {
    await this.runningContainer(req.containerId ?? '');
    if (!req.cmd?.length) throw criInvalid('cmd must not be empty');
    if (!req.stdout && !req.stderr && !req.stdin)
      throw criInvalid('one of stdin, stdout and stderr must be set');
    if (req.tty && req.stderr) throw criInvalid('tty and stderr cannot both be set');
    return { url: this.#streamingServer().url('exec', req) };
  }

  async attach(req: AttachRequest) {
    await this.runningContainer(req.containerId ?? '');
    if (req.stdin) {
      throw new CriError(
        GrpcStatus.UNIMPLEMENTED,
        'attach with stdin is not supported (containers run without stdin); attach follows the output',
      );
    }
    return { url: this.#streamingServer().url('attach', req) };
  }

  async portForward(req: PortForwardRequest) {
    const sb = this.#sandbox(req.podSandboxId);
    if (sb.state !== 'SANDBOX_READY')
      throw new CriError(GrpcStatus.FAILED_PRECONDITION, `sandbox ${sb.id} is not ready`);
    return { url: this.#streamingServer().url('portforward', { ...req, podSandboxId: sb.id }) };
  }

  /** For streaming: a running container's ID and log path (a prefix resolves). */
  async runningContainer(id: string): Promise<{ id: string; logPath: string }> {
    const c = this.#container(id);
    if ((await this.#state(c)).state !== 'CONTAINER_RUNNING')
      throw new CriError(GrpcStatus.FAILED_PRECONDITION, `container ${c.id} is not running`);
    return { id: c.id, logPath: c.logPath };
  }

  async isRunning(id: string): Promise<boolean> {
    const c = this.#resolve('containers', 'container.json', id) as ContainerRecord | undefined;
    return c ? (await this.#state(c)).state === 'CONTAINER_RUNNING' : false;
  }

  /** For streaming: the sandbox's network namespace file, undefined for host network. */
  sandboxNetns(id: string): string | undefined {
    const sb = this.#sandbox(id);
    return sb.hostNetwork ? undefined : this.#netSandbox(sb).netnsPath;
  }

  /** Snapshots (chain IDs) used by existing containers: image removal keeps them. */
  snapshotsInUse(): Set<string> {
    return new Set(this.#containers().flatMap((c) => c.chainIds));
  }
}
