/**
 * The agent's Node object and its Lease: registration (create, or take over an existing Node
 * of the same name), the status the agent reports (capacity, allocatable, addresses, nodeInfo,
 * conditions, daemonEndpoints) and the heartbeat Lease in `kube-node-lease`.
 */
import fs from 'node:fs';
import os from 'node:os';
import { isReason } from '../api/errors.ts';
import { LEASES, microTime, NODES, type RestClient } from '../client/index.ts';
import { time } from './status.ts';

type Json = Record<string, any>;

export const KUBELET_VERSION = 'v1.32.0-skiff';

export interface NodeFacts {
  name: string;
  hostIP: string;
  podCIDR?: string;
  kubeletPort: number;
  runtimeVersion: string;
  cpu: number;
  memoryBytes: number;
  maxPods: number;
  labels?: Record<string, string>;
}

/** The first non-internal IPv4 address of the machine, else loopback. */
export function defaultHostIP(): string {
  for (const addrs of Object.values(os.networkInterfaces()))
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}

function osImage(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(fs.readFileSync('/etc/os-release', 'utf8'));
    if (m) return m[1];
  } catch {}
  return 'Linux';
}

const ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ppc64: 'ppc64le',
  s390x: 's390x',
};

export function nodeStatus(f: NodeFacts, ready: { ok: boolean; message: string }, old?: Json): Json {
  const now = time(Date.now());
  const capacity = {
    cpu: String(f.cpu),
    memory: `${Math.floor(f.memoryBytes / 1024)}Ki`,
    pods: String(f.maxPods),
    'ephemeral-storage': '0',
  };
  const cond = (type: string, status: boolean, reason: string, message: string) => {
    const s = status ? 'True' : 'False';
    const prev = (old?.conditions ?? []).find((c: Json) => c.type === type);
    return {
      type,
      status: s,
      lastHeartbeatTime: now,
      lastTransitionTime: prev?.status === s ? prev.lastTransitionTime : now,
      reason,
      message,
    };
  };
  return {
    capacity,
    allocatable: { ...capacity },
    conditions: [
      cond('MemoryPressure', false, 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
      cond('DiskPressure', false, 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
      cond('PIDPressure', false, 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
      ready.ok
        ? cond('Ready', true, 'KubeletReady', 'kubelet is posting ready status')
        : cond('Ready', false, 'KubeletNotReady', ready.message),
    ],
    addresses: [
      { type: 'InternalIP', address: f.hostIP },
      { type: 'Hostname', address: f.name },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: f.kubeletPort } },
    nodeInfo: {
      machineID: readId('/etc/machine-id'),
      systemUUID: readId('/sys/class/dmi/id/product_uuid'),
      bootID: readId('/proc/sys/kernel/random/boot_id'),
      kernelVersion: os.release(),
      osImage: osImage(),
      containerRuntimeVersion: f.runtimeVersion,
      kubeletVersion: KUBELET_VERSION,
      kubeProxyVersion: '',
      operatingSystem: 'linux',
      architecture: ARCH[process.arch] ?? process.arch,
    },
  };
}

function readId(p: string): string {
  try {
    return fs.readFileSync(p, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Creates the Node or adopts the existing one; then writes its status. Returns the Node. */
export async function registerNode(
  client: RestClient,
  f: NodeFacts,
  ready: { ok: boolean; message: string },
): Promise<Json> {
  const labels = {
    'kubernetes.io/hostname': f.name,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': ARCH[process.arch] ?? process.arch,
    ...(f.labels ?? {}),
  };
  let node: Json;
  try {
    node = (await client.create(NODES, {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: f.name, labels },
      spec: f.podCIDR ? { podCIDR: f.podCIDR, podCIDRs: [f.podCIDR] } : {},
      status: nodeStatus(f, ready),
    })) as Json;
  } catch (e) {
    if (!isReason(e, 'AlreadyExists')) throw e;
    node = (await client.get(NODES, f.name)) as Json;
    node.metadata.labels = { ...(node.metadata.labels ?? {}), ...labels };
    if (f.podCIDR && !node.spec?.podCIDR)
      node.spec = { ...node.spec, podCIDR: f.podCIDR, podCIDRs: [f.podCIDR] };
    node = (await client.update(NODES, node as any)) as Json;
  }
  return updateNodeStatus(client, f, ready, node);
}

export async function updateNodeStatus(
  client: RestClient,
  f: NodeFacts,
  ready: { ok: boolean; message: string },
  node?: Json,
): Promise<Json> {
  for (let i = 0; i < 3; i++) {
    node ??= (await client.get(NODES, f.name)) as Json;
    try {
      return (await client.updateStatus(NODES, {
        ...node,
        status: { ...node.status, ...nodeStatus(f, ready, node.status) },
      } as any)) as Json;
    } catch (e) {
      if (!isReason(e, 'Conflict')) throw e;
      node = undefined;
    }
  }
  throw new Error(`could not update the status of node ${f.name}`);
}

/** Creates or renews the node's Lease (holder = node name, 40 s duration). */
export async function renewLease(
  client: RestClient,
  nodeName: string,
  nodeUid: string | undefined,
): Promise<void> {
  const namespace = 'kube-node-lease';
  let lease: Json | undefined;
  try {
    lease = (await client.get(LEASES, nodeName, { namespace })) as Json;
  } catch (e) {
    if (!isReason(e, 'NotFound')) throw e;
  }
  const spec = { holderIdentity: nodeName, leaseDurationSeconds: 40, renewTime: microTime(Date.now()) };
  if (!lease) {
    await client.create(LEASES, {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: nodeName,
        namespace,
        ...(nodeUid
          ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeUid }] }
          : {}),
      },
      spec,
    } as any);
    return;
  }
  lease.spec = { ...lease.spec, ...spec };
  await client.update(LEASES, lease as any);
}
