/**
 * Container probes. A `ProbeWorker` runs one probe (liveness, readiness or startup) of one
 * container on its own timer: first after initialDelaySeconds, then every periodSeconds, each
 * try bounded by timeoutSeconds. The result flips only after failureThreshold consecutive
 * failures or successThreshold consecutive successes, as in Kubernetes; `onChange` tells the
 * pod worker. Liveness starts as success, readiness and startup as failure.
 *
 * Handlers: exec (CRI ExecSync, exit 0 passes), httpGet (2xx/3xx passes, against the pod IP
 * unless `host` is set) and tcpSocket (a connection passes).
 */
import https from 'node:https';
import net from 'node:net';
import type { CriClient } from '../cri/index.ts';

// Not `import http from 'node:http'`: Node 24 builds that import's namespace by reading every
// export, and its lazy WebSocket exports load undici (with http2 and zlib) into every process.
const http = process.getBuiltinModule('node:http');

type Json = Record<string, any>;

export type ProbeKind = 'liveness' | 'readiness' | 'startup';

export interface ProbeTarget {
  cri: CriClient;
  containerId: string;
  podIP: string;
  container: Json;
}

/** A named or numeric port of the container. */
export function resolvePort(container: Json, port: number | string): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const p = (container.ports ?? []).find((x: Json) => x.name === port);
  if (!p) throw new Error(`no port named ${port}`);
  return p.containerPort;
}

type Outcome = { ok: boolean; message: string };

function httpProbe(h: Json, t: ProbeTarget, timeoutMs: number): Promise<Outcome> {
  const mod = h.scheme === 'HTTPS' ? https : http;
  const headers: Record<string, string> = { 'user-agent': 'kube-probe/1.32' };
  for (const x of h.httpHeaders ?? []) headers[x.name.toLowerCase()] = x.value;
  return new Promise((resolve) => {
    const req = mod.request(
      {
        host: h.host || t.podIP,
        port: resolvePort(t.container, h.port),
        path: h.path || '/',
        method: 'GET',
        headers,
        timeout: timeoutMs,
        rejectUnauthorized: false,
        agent: false,
      },
      (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        resolve({ ok: code >= 200 && code < 400, message: `HTTP probe failed with statuscode: ${code}` });
      },
    );
    req.on('timeout', () => req.destroy(new Error('context deadline exceeded')));
    req.on('error', (e) =>
      resolve({
        ok: false,
        message: `Get "http://${h.host || t.podIP}:${h.port}${h.path || '/'}": ${e.message}`,
      }),
    );
    req.end();
  });
}

function tcpProbe(s: Json, t: ProbeTarget, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const addr = `${s.host || t.podIP}:${resolvePort(t.container, s.port)}`;
    const sock = net.connect({ host: s.host || t.podIP, port: resolvePort(t.container, s.port) });
    const done = (ok: boolean, why = '') => {
      sock.destroy();
      resolve({ ok, message: `dial tcp ${addr}: ${why}` });
    };
    sock.setTimeout(timeoutMs, () => done(false, 'i/o timeout'));
    sock.on('connect', () => done(true));
    sock.on('error', (e) => done(false, e.message));
  });
}

/** Runs a probe handler once: whether it passed, and why not (the kubelet's event text). */
export async function probeOnce(probe: Json, t: ProbeTarget): Promise<Outcome> {
  const timeoutS = probe.timeoutSeconds ?? 1;
  try {
    if (probe.exec) {
      const r = await t.cri.execSync({
        containerId: t.containerId,
        cmd: probe.exec.command,
        timeout: timeoutS,
      });
      const out = Buffer.concat([Buffer.from(r.stdout ?? []), Buffer.from(r.stderr ?? [])])
        .toString()
        .trim();
      return { ok: r.exitCode === 0, message: out || `command exited with ${r.exitCode}` };
    }
    if (probe.httpGet) return await httpProbe(probe.httpGet, t, timeoutS * 1000);
    if (probe.tcpSocket) return await tcpProbe(probe.tcpSocket, t, timeoutS * 1000);
  } catch (e) {
    return { ok: false, message: (e as Error).message };
  }
  return { ok: false, message: 'the probe has no handler' };
}

export class ProbeWorker {
  readonly kind: ProbeKind;
  result: boolean;
  #probe: Json;
  #target: ProbeTarget;
  #onChange: () => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  #successes = 0;
  #failures = 0;
  /** Liveness and readiness wait for the startup probe; the pod worker opens this gate. */
  gated: () => boolean;
  /** told of every failed try (the pod worker records an Unhealthy event) */
  onFailure?: (kind: ProbeKind, message: string) => void;

  constructor(kind: ProbeKind, probe: Json, target: ProbeTarget, onChange: () => void, gated = () => true) {
    this.kind = kind;
    this.#probe = probe;
    this.#target = target;
    this.#onChange = onChange;
    this.gated = gated;
    this.result = kind === 'liveness';
  }

  start(): void {
    this.#schedule((this.#probe.initialDelaySeconds ?? 0) * 1000);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#tick(), ms);
    this.#timer.unref?.();
  }

  async #tick(): Promise<void> {
    const period = (this.#probe.periodSeconds ?? 10) * 1000;
    if (!this.gated()) return this.#schedule(Math.min(period, 500));
    const { ok, message } = await probeOnce(this.#probe, this.#target);
    if (this.#stopped) return;
    if (!ok) this.onFailure?.(this.kind, message);
    if (ok) {
      this.#failures = 0;
      this.#successes++;
    } else {
      this.#successes = 0;
      this.#failures++;
    }
    const before = this.result;
    if (ok && this.#successes >= (this.#probe.successThreshold ?? 1)) this.result = true;
    if (!ok && this.#failures >= (this.#probe.failureThreshold ?? 3)) this.result = false;
    if (this.result !== before) this.#onChange();
    // a started container is not probed for startup any more
    if (this.kind === 'startup' && this.result) return;
    this.#schedule(period);
  }
}
