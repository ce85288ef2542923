/**
 * One pod's worker: a level-based sync loop that drives the runtime towards the pod's spec and
 * reports what it finds. Every sync re-reads the truth from CRI (sandboxes and containers
 * labelled with the pod's UID), so an agent restart simply adopts what is running.
 *
 * A sync: (deleted? → terminate) → sandbox (RunPodSandbox when none is ready) → volumes →
 * init containers one at a time, each to success → containers, restarted per restartPolicy
 * with CrashLoopBackOff → probes → status (written only when it changed).
 *
 * Syncs never overlap; `trigger()` while one runs asks for another afterwards.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isReason } from '../api/errors.ts';
import { PODS, type RestClient } from '../client/index.ts';
import type {
  ContainerConfig,
  ContainerStatus,
  CriClient,
  LinuxContainerSecurityContext,
  PodSandboxConfig,
} from '../cri/index.ts';
import { isNotFound } from '../cri/index.ts';
import { sandboxDnsConfig } from './dns.ts';
import { ConfigError, containerEnv, expand, type ObjectGetter } from './env.ts';
import { containerFieldPath, type EventRecorder, type EventType } from './events.ts';
import {
  CONTAINER_KIND,
  CONTAINER_NAME,
  GRACE_PERIOD,
  POD_NAME,
  POD_NAMESPACE,
  POD_UID,
  RESTART_COUNT,
} from './labels.ts';
import { phase } from './phases.ts';
import { ProbeWorker, resolvePort } from './probes.ts';
import { linuxResources } from './resources.ts';
import { type ContainerView, podStatus, stableJson, time, type Waiting } from './status.ts';
import { mountsFor, prepareVolumes, removePodDir } from './volumes.ts';

// Not `import http from 'node:http'`: Node 24 builds that import's namespace by reading every
// export, and its lazy WebSocket exports load undici (with http2 and zlib) into every process.
const http = process.getBuiltinModule('node:http');

type Json = Record<string, any>;

export interface WorkerEnv {
  cri: CriClient;
  client: RestClient;
  nodeName: string;
  hostIP: string;
  dataDir: string;
  podLogsDir: string;
  /** scheme of containerIDs, e.g. `skiff` or `containerd` */
  runtimeScheme: string;
  node: { cpu: number; memory: number };
  get: ObjectGetter;
  events: EventRecorder;
  clusterDNS: string[];
  clusterDomain: string;
  /** the host's resolv.conf text, for dnsPolicy Default (undefined: read /etc/resolv.conf) */
  hostResolvConf?: string;
  backoffBaseMs: number;
  backoffMaxMs: number;
  backoffResetMs: number;
  log(msg: string): void;
}

interface Backoff {
  /** delay applied to the next failure */
  next: number;
}

interface Probes {
  containerId: string;
  liveness?: ProbeWorker;
  readiness?: ProbeWorker;
  startup?: ProbeWorker;
}

class ImageError extends Error {
  reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.reason = reason;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function podLogDir(root: string, pod: Json): string {
  return path.join(root, `${pod.metadata.namespace}_${pod.metadata.name}_${pod.metadata.uid}`);
}

export class PodWorker {
  pod: Json;
  /** the API object is gone (deleted without us) */
  deleted = false;
  /** terminated and cleaned up; the agent forgets the worker */
  finished = false;
  readonly done: Promise<void>;
  #env: WorkerEnv;
  #running = false;
  #dirty = false;
  #resolveDone!: () => void;
  #backoff = new Map<string, Backoff>();
  #imageBackoff = new Map<string, { next: number; until: number }>();
  #waiting = new Map<string, Waiting>();
  #probes = new Map<string, Probes>();
  #livenessKilled = new Set<string>();
  #timers = new Set<ReturnType<typeof setTimeout>>();
  #startTime: string | undefined;
  /** container statuses by ID, see #containerStatuses */
  #statuses = new Map<string, ContainerStatus>();
  #sandboxIPs?: { id: string; ips: string[] };
  /** this sync started, stopped or removed a container */
  #acted = false;
  #terminalPhase: 'Succeeded' | 'Failed' | undefined;
  #closed = false;

  constructor(pod: Json, env: WorkerEnv) {
    this.pod = pod;
    this.#env = env;
    this.#startTime = pod.status?.startTime;
    this.done = new Promise((r) => {
      this.#resolveDone = r;
    });
  }

  get uid(): string {
    return this.pod.metadata.uid;
  }

  get podDir(): string {
    return path.join(this.#env.dataDir, 'pods', this.uid);
  }

  /** Ask for a sync (coalesced). */
  trigger(): void {
    if (this.finished || this.#closed) return;
    this.#dirty = true;
    if (this.#running) return;
    this.#running = true;
    void (async () => {
      while (this.#dirty && !this.finished && !this.#closed) {
        this.#dirty = false;
        try {
          await this.#sync();
        } catch (e) {
          if (!this.#closed) this.#env.log(`pod ${this.#key()}: sync failed: ${(e as Error).message}`);
          this.#later(1000);
        }
      }
      this.#running = false;
      if (this.finished) this.#resolveDone();
    })();
  }

  /** Stop probes and timers without touching containers (agent shutdown). */
  close(): void {
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    for (const p of this.#probes.values()) this.#stopProbes(p);
    this.#probes.clear();
    this.#resolveDone();
  }

  #event(type: EventType, reason: string, message: string, container?: string): void {
    const fieldPath = container ? containerFieldPath(this.pod, container) : undefined;
    this.#env.events.record(this.pod, type, reason, message, fieldPath);
  }

  #key(): string {
    return `${this.pod.metadata.namespace}/${this.pod.metadata.name}`;
  }

  #later(ms: number): void {
    const t = setTimeout(
      () => {
        this.#timers.delete(t);
        this.trigger();
      },
      Math.max(0, ms),
    );
    this.#timers.add(t);
  }

  // ---- runtime state ----

  async #observe(): Promise<{ sandboxes: Json[]; statuses: ContainerStatus[] }> {
    const sandboxes = (
      await this.#env.cri.listPodSandbox({ filter: { labelSelector: { [POD_UID]: this.uid } } })
    ).items;
    return { sandboxes, statuses: await this.#containerStatuses() };
  }

  /**
   * The pod's containers with their statuses. A running or exited container's status stays the
   * same while its listed state does, so ContainerStatus is asked again only when that changed
   * (a sync of a settled pod is then two CRI calls); the cache holds only the listed containers.
   */
  async #containerStatuses(): Promise<ContainerStatus[]> {
    const cri = this.#env.cri;
    const list = (await cri.listContainers({ filter: { labelSelector: { [POD_UID]: this.uid } } }))
      .containers;
    const known = new Map<string, ContainerStatus>();
    for (const c of list) {
      let s = this.#statuses.get(c.id);
      const settled = c.state === 'CONTAINER_RUNNING' || c.state === 'CONTAINER_EXITED';
      if (!s || !settled || s.state !== c.state) {
        try {
          s = (await cri.containerStatus({ containerId: c.id })).status;
        } catch (e) {
          if (!isNotFound(e)) throw e;
          continue;
        }
      }
      known.set(c.id, s);
    }
    this.#statuses = known;
    return [...known.values()];
  }

  /** The pod's IPs in a sandbox (asked once per sandbox: they do not change). */
  async #podIPs(sandboxId: string): Promise<string[]> {
    if (this.pod.spec.hostNetwork) return [this.#env.hostIP];
    if (this.#sandboxIPs?.id !== sandboxId) {
      const st = (await this.#env.cri.podSandboxStatus({ podSandboxId: sandboxId })).status;
      const ips = st.network?.ip ? [st.network.ip, ...(st.network.additionalIps ?? []).map((x) => x.ip)] : [];
      this.#sandboxIPs = { id: sandboxId, ips };
    }
    return this.#sandboxIPs.ips;
  }

  #history(statuses: ContainerStatus[], name: string): ContainerStatus[] {
    return statuses
      .filter((s) => s.labels[CONTAINER_NAME] === name)
      .sort((a, b) => (b.metadata.attempt ?? 0) - (a.metadata.attempt ?? 0) || b.createdAt - a.createdAt);
  }

  // ---- the sync ----

  async #sync(): Promise<void> {
    const pod = this.pod;
    if (this.deleted || pod.metadata.deletionTimestamp) return this.#terminate();
    const { cri } = this.#env;
    const tag = this.pod.metadata.name;
    let t = phase(tag, 'sync:begin', performance.now());
    this.#acted = false;
    let { sandboxes, statuses } = await this.#observe();
    t = phase(tag, 'observe', t);
    const podPhase = pod.status?.phase;
    if (podPhase === 'Succeeded' || podPhase === 'Failed') this.#terminalPhase ??= podPhase;
    this.#startTime ??= time(Date.now());

    let sandbox = sandboxes
      .filter((s) => s.state === 'SANDBOX_READY')
      .sort((a, b) => b.createdAt - a.createdAt)[0];
    const sandboxConfig = this.#sandboxConfig(sandboxes.length);
    if (!sandbox && !this.#terminalPhase) {
      // a sandbox that died takes its containers with it; start over in a new one
      for (const s of sandboxes) await this.#removeSandbox(s.id, statuses);
      statuses = [];
      fs.mkdirSync(this.podDir, { recursive: true });
      fs.mkdirSync(sandboxConfig.logDirectory!, { recursive: true });
      const { podSandboxId } = await cri.runPodSandbox({ config: sandboxConfig });
      sandbox = { id: podSandboxId, state: 'SANDBOX_READY' };
      t = phase(tag, 'runPodSandbox', t);
    }
    let podIPs: string[] = [];
    if (sandbox) {
      podIPs = await this.#podIPs(sandbox.id);
      t = phase(tag, 'podSandboxStatus', t);
    }

    const init: ContainerView[] = (pod.spec.initContainers ?? []).map((c: Json) => this.#view(c, statuses));
    const main: ContainerView[] = pod.spec.containers.map((c: Json) => this.#view(c, statuses));
    let initDone = init.every(
      (v) => v.history[0]?.state === 'CONTAINER_EXITED' && v.history[0].exitCode === 0,
    );
    const policy = pod.spec.restartPolicy ?? 'Always';

    if (this.#terminalPhase) {
      // over: make sure nothing runs any more, keep the containers for their logs
      for (const s of statuses) if (s.state === 'CONTAINER_RUNNING') await this.#stop(s, pod, 0);
      for (const s of sandboxes)
        if (s.state === 'SANDBOX_READY') await cri.stopPodSandbox({ podSandboxId: s.id });
    } else if (sandbox) {
      let volumesOk = true;
      try {
        await prepareVolumes({ ...this.#volumeContext(podIPs) });
      } catch (e) {
        volumesOk = false;
        const w = { reason: 'ContainerCreating', message: (e as Error).message };
        for (const v of [...init, ...main]) if (!v.history[0]) v.waiting = w;
        this.#later(2000);
      }
      if (volumesOk && !initDone) {
        for (const v of init) {
          const latest = v.history[0];
          if (latest?.state === 'CONTAINER_EXITED' && latest.exitCode === 0) continue;
          if (!latest) await this.#start(v, 0, 'init', sandbox.id, sandboxConfig, podIPs);
          else if (latest.state === 'CONTAINER_EXITED') {
            if (policy === 'Never') this.#terminalPhase = 'Failed';
            else await this.#restart(v, latest, 'init', sandbox.id, sandboxConfig, podIPs);
          }
          break;
        }
      } else if (volumesOk) {
        for (const v of main) {
          const latest = v.history[0];
          if (!latest) {
            await this.#start(v, 0, 'main', sandbox.id, sandboxConfig, podIPs);
          } else if (latest.state === 'CONTAINER_RUNNING') {
            this.#waiting.delete(v.spec.name);
            this.#ensureProbes(v, latest, podIPs[0] ?? '');
            const p = this.#probes.get(v.spec.name);
            if (p?.liveness && !p.liveness.result) {
              this.#env.log(
                `pod ${this.#key()}: container ${v.spec.name} failed liveness probe, will be restarted`,
              );
              this.#event(
                'Normal',
                'Killing',
                `Container ${v.spec.name} failed liveness probe, will be restarted`,
                v.spec.name,
              );
              this.#stopProbes(p);
              this.#probes.delete(v.spec.name);
              this.#livenessKilled.add(latest.id);
              await this.#stop(latest, pod, pod.spec.terminationGracePeriodSeconds ?? 30);
              this.trigger();
            }
          } else if (latest.state === 'CONTAINER_EXITED') {
            const again = policy === 'Always' || (policy === 'OnFailure' && latest.exitCode !== 0);
            if (again) await this.#restart(v, latest, 'main', sandbox.id, sandboxConfig, podIPs);
          } else if (latest.state === 'CONTAINER_CREATED') {
            this.#acted = true;
            await cri.startContainer({ containerId: latest.id }).catch(() => {});
            this.trigger();
          }
        }
      }
      t = phase(tag, 'volumes+containers', t);
      if (this.#acted) {
        // refresh what we just changed
        statuses = await this.#containerStatuses();
        t = phase(tag, 'observe2', t);
        for (const v of [...init, ...main]) v.history = this.#history(statuses, v.spec.name);
        initDone = init.every(
          (v) => v.history[0]?.state === 'CONTAINER_EXITED' && v.history[0].exitCode === 0,
        );
      }
    }

    for (const v of main) {
      const p = this.#probes.get(v.spec.name);
      const running = v.history[0]?.state === 'CONTAINER_RUNNING';
      if (p && (!running || p.containerId !== v.history[0].id)) {
        this.#stopProbes(p);
        this.#probes.delete(v.spec.name);
      }
      const live = running ? this.#probes.get(v.spec.name) : undefined;
      v.started = running && (live?.startup ? live.startup.result : true);
      v.ready = v.started && (live?.readiness ? live.readiness.result : true);
    }
    for (const v of [...init, ...main]) {
      const latest = v.history[0];
      if (latest && this.#livenessKilled.has(latest.id) && latest.state === 'CONTAINER_EXITED') {
        latest.reason = latest.reason || 'Error';
      }
    }
    const status = podStatus({
      pod,
      scheme: this.#env.runtimeScheme,
      hostIP: this.#env.hostIP,
      podIPs,
      sandboxReady: !!sandbox && !this.#terminalPhase,
      init,
      containers: main,
      initDone,
      phase: this.#terminalPhase,
      startTime: this.#startTime,
    });
    if (status.phase === 'Succeeded' || status.phase === 'Failed') {
      if (!this.#terminalPhase) {
        this.#terminalPhase = status.phase;
        this.trigger();
      }
    }
    await this.#writeStatus(status);
    phase(tag, `writeStatus:${status.phase}`, t);
  }

  #view(spec: Json, statuses: ContainerStatus[]): ContainerView {
    return {
      spec,
      history: this.#history(statuses, spec.name),
      waiting: this.#waiting.get(spec.name),
      ready: false,
      started: false,
    };
  }

  async #writeStatus(status: Json): Promise<void> {
    if (stableJson(status) === stableJson(this.pod.status ?? {})) return;
    let pod = this.pod;
    for (let i = 0; i < 3; i++) {
      try {
        const updated = (await this.#env.client.updateStatus(PODS, { ...pod, status } as any)) as Json;
        if (updated.metadata?.uid === this.uid && !this.deleted) {
          // keep the newest copy: the informer's may lag behind our own write
          if (Number(updated.metadata.resourceVersion) >= Number(this.pod.metadata.resourceVersion))
            this.pod = updated as Json;
        }
        return;
      } catch (e) {
        if (isReason(e, 'NotFound')) return;
        if (!isReason(e, 'Conflict')) throw e;
        pod = (await this.#env.client.get(PODS, pod.metadata.name, {
          namespace: pod.metadata.namespace,
        })) as Json;
        if (pod.metadata.uid !== this.uid) return;
      }
    }
  }

  // ---- sandbox and containers ----

  #sandboxConfig(attempt: number): PodSandboxConfig {
    const pod = this.pod;
    const spec = pod.spec;
    const ns = pod.metadata.namespace;
    const dnsConfig = sandboxDnsConfig(pod, {
      clusterDNS: this.#env.clusterDNS,
      clusterDomain: this.#env.clusterDomain,
      hostResolvConf: this.#env.hostResolvConf,
    });
    const portMappings = [];
    for (const c of spec.containers)
      for (const p of c.ports ?? [])
        if (p.hostPort)
          portMappings.push({
            protocol: p.protocol ?? 'TCP',
            containerPort: p.containerPort,
            hostPort: p.hostPort,
            hostIp: p.hostIP,
          });
    const sc = spec.securityContext ?? {};
    return {
      metadata: { name: pod.metadata.name, namespace: ns, uid: this.uid, attempt },
      hostname: (spec.hostname ?? pod.metadata.name).slice(0, 63),
      logDirectory: podLogDir(this.#env.podLogsDir, pod),
      dnsConfig,
      portMappings,
      labels: {
        ...(pod.metadata.labels ?? {}),
        [POD_NAME]: pod.metadata.name,
        [POD_NAMESPACE]: ns,
        [POD_UID]: this.uid,
      },
      annotations: { ...(pod.metadata.annotations ?? {}) },
      linux: {
        securityContext: {
          namespaceOptions: {
            network: spec.hostNetwork ? 'NODE' : 'POD',
            pid: spec.hostPID ? 'NODE' : spec.shareProcessNamespace ? 'POD' : 'CONTAINER',
            ipc: spec.hostIPC ? 'NODE' : 'POD',
          },
          ...(sc.runAsUser !== undefined ? { runAsUser: { value: sc.runAsUser } } : {}),
          ...(sc.runAsGroup !== undefined ? { runAsGroup: { value: sc.runAsGroup } } : {}),
          supplementalGroups: sc.supplementalGroups ?? [],
        },
      },
    };
  }

  #volumeContext(podIPs: string[]) {
    return {
      pod: this.pod,
      podDir: this.podDir,
      podIPs,
      hostIP: this.#env.hostIP,
      node: this.#env.node,
      get: this.#env.get,
    };
  }

  async #ensureImage(c: Json): Promise<string> {
    const { cri } = this.#env;
    const image = c.image;
    const tagged = /:[^/]+$/.test(image.replace(/@.*$/, '')) || image.includes('@');
    const policy = c.imagePullPolicy ?? (!tagged || image.endsWith(':latest') ? 'Always' : 'IfNotPresent');
    const present = async () => (await cri.imageStatus({ image: { image } })).image;
    if (policy === 'Never') {
      const img = await present();
      if (!img) {
        const msg = `Container image "${image}" is not present with pull policy of Never`;
        this.#event('Warning', 'ErrImageNeverPull', msg, c.name);
        throw new ImageError('ErrImageNeverPull', msg);
      }
      return img.id;
    }
    if (policy === 'IfNotPresent') {
      const img = await present();
      if (img) {
        this.#event('Normal', 'Pulled', `Container image "${image}" already present on machine`, c.name);
        return img.id;
      }
    }
    const b = this.#imageBackoff.get(c.name);
    if (b && Date.now() < b.until) {
      this.#later(b.until - Date.now());
      this.#event('Normal', 'BackOff', `Back-off pulling image "${image}"`, c.name);
      this.#event('Warning', 'Failed', 'Error: ImagePullBackOff', c.name);
      throw new ImageError('ImagePullBackOff', `Back-off pulling image "${image}"`);
    }
    this.#event('Normal', 'Pulling', `Pulling image "${image}"`, c.name);
    const started = Date.now();
    try {
      const r = await cri.pullImage({ image: { image } });
      this.#imageBackoff.delete(c.name);
      const took = `${((Date.now() - started) / 1000).toFixed(3)}s`;
      this.#event('Normal', 'Pulled', `Successfully pulled image "${image}" in ${took}`, c.name);
      return r.imageRef;
    } catch (e) {
      const next = b ? Math.min(b.next * 2, this.#env.backoffMaxMs) : this.#env.backoffBaseMs;
      this.#imageBackoff.set(c.name, { next, until: Date.now() + (b?.next ?? this.#env.backoffBaseMs) });
      this.#later(b?.next ?? this.#env.backoffBaseMs);
      const msg = `Failed to pull image "${image}": ${(e as Error).message}`;
      this.#event('Warning', 'Failed', msg, c.name);
      this.#event('Warning', 'Failed', 'Error: ErrImagePull', c.name);
      throw new ImageError('ErrImagePull', msg);
    }
  }

  #securityContext(c: Json): LinuxContainerSecurityContext {
    const pod = this.pod.spec.securityContext ?? {};
    const sc = c.securityContext ?? {};
    const user = sc.runAsUser ?? pod.runAsUser;
    const group = sc.runAsGroup ?? pod.runAsGroup;
    const groups = [...(pod.supplementalGroups ?? [])];
    if (pod.fsGroup !== undefined) groups.push(pod.fsGroup);
    const out: LinuxContainerSecurityContext = {
      privileged: !!sc.privileged,
      readonlyRootfs: !!sc.readOnlyRootFilesystem,
      noNewPrivs: sc.allowPrivilegeEscalation === false,
      supplementalGroups: groups,
      namespaceOptions: {
        network: this.pod.spec.hostNetwork ? 'NODE' : 'POD',
        pid: this.pod.spec.hostPID ? 'NODE' : this.pod.spec.shareProcessNamespace ? 'POD' : 'CONTAINER',
        ipc: this.pod.spec.hostIPC ? 'NODE' : 'POD',
      },
    };
    if (user !== undefined) out.runAsUser = { value: user };
    if (group !== undefined) out.runAsGroup = { value: group };
    if (sc.capabilities) {
      const caps = (l?: string[]) =>
        (l ?? []).map((x) => (x === 'ALL' || x.startsWith('CAP_') ? x : `CAP_${x}`));
      out.capabilities = {
        addCapabilities: caps(sc.capabilities.add),
        dropCapabilities: caps(sc.capabilities.drop),
      };
    }
    return out;
  }

  async #start(
    v: ContainerView,
    attempt: number,
    kind: 'init' | 'main',
    sandboxId: string,
    sandboxConfig: PodSandboxConfig,
    podIPs: string[],
  ): Promise<void> {
    this.#acted = true;
    const c = v.spec;
    const { cri } = this.#env;
    const tag = this.pod.metadata.name;
    let t = performance.now();
    let imageRef: string;
    try {
      imageRef = await this.#ensureImage(c);
      t = phase(tag, 'image', t);
    } catch (e) {
      if (!(e instanceof ImageError)) throw e;
      this.#waiting.set(c.name, { reason: e.reason, message: e.message });
      v.waiting = this.#waiting.get(c.name);
      return;
    }
    let config: ContainerConfig;
    try {
      const envs = await containerEnv({
        pod: this.pod,
        container: c,
        podIPs,
        hostIP: this.#env.hostIP,
        node: this.#env.node,
        get: this.#env.get,
      });
      const vars = new Map(envs.map((e) => [e.key, e.value]));
      config = {
        metadata: { name: c.name, attempt },
        image: { image: imageRef, userSpecifiedImage: c.image },
        command: (c.command ?? []).map((s: string) => expand(s, vars)),
        args: (c.args ?? []).map((s: string) => expand(s, vars)),
        workingDir: c.workingDir ?? '',
        envs,
        mounts: mountsFor(this.pod, this.podDir, c),
        labels: {
          [POD_NAME]: this.pod.metadata.name,
          [POD_NAMESPACE]: this.pod.metadata.namespace,
          [POD_UID]: this.uid,
          [CONTAINER_NAME]: c.name,
        },
        annotations: {
          [RESTART_COUNT]: String(attempt),
          [GRACE_PERIOD]: String(this.pod.spec.terminationGracePeriodSeconds ?? 30),
          ...(kind === 'init' ? { [CONTAINER_KIND]: 'init' } : {}),
        },
        logPath: `${c.name}/${attempt}.log`,
        stdin: !!c.stdin,
        stdinOnce: !!c.stdinOnce,
        tty: !!c.tty,
        linux: { resources: linuxResources(c), securityContext: this.#securityContext(c) },
      };
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      this.#waiting.set(c.name, { reason: 'CreateContainerConfigError', message: e.message });
      this.#event('Warning', 'Failed', `Error: ${e.message}`, c.name);
      v.waiting = this.#waiting.get(c.name);
      this.#later(2000);
      return;
    }
    fs.mkdirSync(path.join(sandboxConfig.logDirectory!, c.name), { recursive: true });
    let containerId: string;
    try {
      t = phase(tag, 'env+config', t);
      ({ containerId } = await cri.createContainer({ podSandboxId: sandboxId, config, sandboxConfig }));
      t = phase(tag, 'createContainer', t);
    } catch (e) {
      this.#waiting.set(c.name, { reason: 'CreateContainerError', message: (e as Error).message });
      this.#event('Warning', 'Failed', `Error: ${(e as Error).message}`, c.name);
      v.waiting = this.#waiting.get(c.name);
      this.#later(2000);
      return;
    }
    this.#event('Normal', 'Created', `Created container: ${c.name}`, c.name);
    try {
      await cri.startContainer({ containerId });
      phase(tag, 'startContainer', t);
    } catch (e) {
      this.#event('Warning', 'Failed', `Error: ${(e as Error).message}`, c.name);
      await cri.removeContainer({ containerId }).catch(() => {});
      this.#waiting.set(c.name, { reason: 'RunContainerError', message: (e as Error).message });
      v.waiting = this.#waiting.get(c.name);
      this.#later(2000);
      return;
    }
    this.#waiting.delete(c.name);
    v.waiting = undefined;
    this.#event('Normal', 'Started', `Started container ${c.name}`, c.name);
    const post = c.lifecycle?.postStart;
    if (post) {
      const ok = await this.#hook(post, containerId, c, podIPs[0] ?? '', 30);
      if (!ok) {
        this.#env.log(`pod ${this.#key()}: postStart hook of ${c.name} failed; killing the container`);
        this.#event('Warning', 'FailedPostStartHook', `PostStartHook failed`, c.name);
        this.#event('Normal', 'Killing', 'FailedPostStartHook', c.name);
        await cri.stopContainer({ containerId, timeout: 0 }).catch(() => {});
      }
    }
    this.trigger();
  }

  async #restart(
    v: ContainerView,
    latest: ContainerStatus,
    kind: 'init' | 'main',
    sandboxId: string,
    sandboxConfig: PodSandboxConfig,
    podIPs: string[],
  ): Promise<void> {
    const name = v.spec.name;
    const now = Date.now();
    const finished = Math.floor(latest.finishedAt / 1e6) || now;
    const ran = finished - Math.floor(latest.startedAt / 1e6);
    let b = this.#backoff.get(name);
    if (!b || ran > this.#env.backoffResetMs) b = { next: 0 };
    const until = finished + b.next;
    if (now < until) {
      const w = {
        reason: 'CrashLoopBackOff',
        message: `back-off ${Math.round(b.next / 1000)}s restarting failed container=${name} pod=${this.pod.metadata.name}_${this.pod.metadata.namespace}(${this.uid})`,
      };
      this.#waiting.set(name, w);
      v.waiting = w;
      this.#event(
        'Warning',
        'BackOff',
        `Back-off restarting failed container ${name} in pod ${this.pod.metadata.name}_${this.pod.metadata.namespace}(${this.uid})`,
        name,
      );
      this.#later(until - now + 10);
      return;
    }
    this.#backoff.set(name, {
      next: b.next === 0 ? this.#env.backoffBaseMs : Math.min(b.next * 2, this.#env.backoffMaxMs),
    });
    // keep the last dead container (lastState, previous logs), drop older ones
    for (const old of v.history.slice(1))
      if (old.state !== 'CONTAINER_RUNNING')
        await this.#env.cri.removeContainer({ containerId: old.id }).catch(() => {});
    await this.#start(v, (latest.metadata.attempt ?? 0) + 1, kind, sandboxId, sandboxConfig, podIPs);
  }

  #ensureProbes(v: ContainerView, s: ContainerStatus, podIP: string): void {
    const c = v.spec;
    const have = this.#probes.get(c.name);
    if (have?.containerId === s.id) return;
    if (have) this.#stopProbes(have);
    const target = { cri: this.#env.cri, containerId: s.id, podIP, container: c };
    const p: Probes = { containerId: s.id };
    const onChange = () => this.trigger();
    if (c.startupProbe) p.startup = new ProbeWorker('startup', c.startupProbe, target, onChange);
    const started = () => !p.startup || p.startup.result;
    if (c.livenessProbe) p.liveness = new ProbeWorker('liveness', c.livenessProbe, target, onChange, started);
    if (c.readinessProbe)
      p.readiness = new ProbeWorker('readiness', c.readinessProbe, target, onChange, started);
    const name = { startup: 'Startup', liveness: 'Liveness', readiness: 'Readiness' };
    for (const w of [p.startup, p.liveness, p.readiness])
      if (w)
        w.onFailure = (kind, message) =>
          this.#event('Warning', 'Unhealthy', `${name[kind]} probe failed: ${message}`, c.name);
    for (const w of [p.startup, p.liveness, p.readiness]) w?.start();
    this.#probes.set(c.name, p);
  }

  #stopProbes(p: Probes): void {
    for (const w of [p.startup, p.liveness, p.readiness]) w?.stop();
  }

  /** Runs a lifecycle hook; true when it succeeded. */
  async #hook(h: Json, containerId: string, c: Json, podIP: string, timeoutS: number): Promise<boolean> {
    try {
      if (h.exec) {
        const r = await this.#env.cri.execSync({
          containerId,
          cmd: h.exec.command,
          timeout: Math.max(1, timeoutS),
        });
        return r.exitCode === 0;
      }
      if (h.httpGet) {
        const g = h.httpGet;
        return await new Promise<boolean>((resolve) => {
          const req = http.get(
            {
              host: g.host || podIP,
              port: resolvePort(c, g.port),
              path: g.path || '/',
              timeout: timeoutS * 1000,
              agent: false,
            },
            (res) => {
              res.resume();
              resolve((res.statusCode ?? 0) < 400);
            },
          );
          req.on('timeout', () => req.destroy());
          req.on('error', () => resolve(false));
        });
      }
      if (h.sleep) {
        await sleep(Math.min(h.sleep.seconds, timeoutS) * 1000);
        return true;
      }
    } catch {
      return false;
    }
    return false;
  }

  /** preStop, then StopContainer with what is left of the grace period. */
  async #stop(s: ContainerStatus, pod: Json, graceS: number): Promise<void> {
    this.#acted = true;
    const spec = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].find(
      (c: Json) => c.name === s.labels[CONTAINER_NAME],
    );
    const start = Date.now();
    if (graceS > 0 && spec?.lifecycle?.preStop && s.state === 'CONTAINER_RUNNING') {
      await Promise.race([
        this.#hook(spec.lifecycle.preStop, s.id, spec, pod.status?.podIP ?? '', graceS),
        sleep(graceS * 1000),
      ]);
    }
    const left = Math.max(graceS > 0 ? 2 : 0, Math.ceil(graceS - (Date.now() - start) / 1000));
    await this.#env.cri.stopContainer({ containerId: s.id, timeout: left });
  }

  async #removeSandbox(id: string, statuses: ContainerStatus[]): Promise<void> {
    const { cri } = this.#env;
    for (const s of statuses) await cri.removeContainer({ containerId: s.id }).catch(() => {});
    await cri.stopPodSandbox({ podSandboxId: id }).catch((e) => {
      if (!isNotFound(e)) throw e;
    });
    await cri.removePodSandbox({ podSandboxId: id }).catch((e) => {
      if (!isNotFound(e)) throw e;
    });
  }

  /** Graceful termination: preStop and SIGTERM within the grace period, clean-up, then the object goes. */
  async #terminate(): Promise<void> {
    const pod = this.pod;
    for (const p of this.#probes.values()) this.#stopProbes(p);
    this.#probes.clear();
    const { cri } = this.#env;
    const { sandboxes, statuses } = await this.#observe();
    const grace = this.deleted
      ? 0
      : (pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30);
    const live = statuses.filter((s) => s.state === 'CONTAINER_RUNNING');
    for (const s of live)
      this.#event(
        'Normal',
        'Killing',
        `Stopping container ${s.labels[CONTAINER_NAME]}`,
        s.labels[CONTAINER_NAME],
      );
    await Promise.all(live.map((s) => this.#stop(s, pod, grace)));
    for (const s of sandboxes) await cri.stopPodSandbox({ podSandboxId: s.id }).catch(() => {});
    if (!this.deleted) {
      const after = await this.#observe();
      const view = (c: Json): ContainerView => ({
        spec: c,
        history: this.#history(after.statuses, c.name),
        ready: false,
        started: false,
      });
      const status = podStatus({
        pod,
        scheme: this.#env.runtimeScheme,
        hostIP: this.#env.hostIP,
        podIPs: [],
        sandboxReady: false,
        init: (pod.spec.initContainers ?? []).map(view),
        containers: pod.spec.containers.map(view),
        initDone: true,
        phase: this.#terminalPhase,
        startTime: this.#startTime ?? time(Date.now()),
      });
      await this.#writeStatus(status).catch(() => {});
    }
    for (const s of statuses) await cri.removeContainer({ containerId: s.id }).catch(() => {});
    for (const s of sandboxes) await cri.removePodSandbox({ podSandboxId: s.id }).catch(() => {});
    await removePodDir(this.podDir);
    fs.rmSync(podLogDir(this.#env.podLogsDir, pod), { recursive: true, force: true });
    if (!this.deleted) {
      try {
        await this.#env.client.delete(PODS, pod.metadata.name, {
          namespace: pod.metadata.namespace,
          gracePeriodSeconds: 0,
          preconditions: { uid: this.uid },
        });
      } catch (e) {
        if (!isReason(e, 'NotFound') && !isReason(e, 'Conflict')) throw e;
      }
    }
    this.finished = true;
    for (const t of this.#timers) clearTimeout(t);
  }
}

/** Removes every trace of a pod the API no longer has (found through CRI labels). */
export async function cleanupOrphan(cri: CriClient, uid: string, dataDir: string): Promise<void> {
  const containers = (await cri.listContainers({ filter: { labelSelector: { [POD_UID]: uid } } })).containers;
  for (const c of containers) {
    await cri.stopContainer({ containerId: c.id, timeout: 0 }).catch(() => {});
    await cri.removeContainer({ containerId: c.id }).catch(() => {});
  }
  const sandboxes = (await cri.listPodSandbox({ filter: { labelSelector: { [POD_UID]: uid } } })).items;
  for (const s of sandboxes) {
    await cri.stopPodSandbox({ podSandboxId: s.id }).catch(() => {});
    await cri.removePodSandbox({ podSandboxId: s.id }).catch(() => {});
  }
  await removePodDir(path.join(dataDir, 'pods', uid));
}
