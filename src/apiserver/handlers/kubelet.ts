/**
 * Finding the node agent that runs a pod, for the subresources the API server proxies to it
 * (`pods/log`, `exec`, `attach`, `portforward`): the pod's container by Kubernetes' defaulting
 * rules, and the kubelet's address from its Node (InternalIP, daemonEndpoints.kubeletEndpoint.Port).
 */
import { badRequest, StatusError } from '../../api/errors.ts';
import type { KubeObject, ResourceRegistry } from '../../api/resource.ts';
import type { Objects } from '../objects.ts';

type Json = Record<string, any>;

export const DEFAULT_CONTAINER_ANNOTATION = 'kubectl.kubernetes.io/default-container';

/** How the API server reaches kubelets; default plain HTTP without credentials. */
export interface KubeletClientOptions {
  https?: boolean;
  /** client certificate and key (PEM) presented to kubelets, and the CA that signed their serving certificates */
  cert?: string;
  key?: string;
  ca?: string;
  /** a bearer token presented to kubelets */
  token?: string;
}

export interface KubeletTarget {
  pod: KubeObject;
  container?: string;
  /** `http://10.0.0.5:10250` */
  base: string;
}

/** The container a request means: the one asked for, the default-container annotation, or the only one. */
export function containerFor(pod: KubeObject, asked: string | null): string {
  const spec = (pod.spec ?? {}) as Json;
  const names = (spec.containers ?? []).map((c: Json) => c.name as string);
  const init = (spec.initContainers ?? []).map((c: Json) => c.name as string);
  const eph = (spec.ephemeralContainers ?? []).map((c: Json) => c.name as string);
  const podName = pod.metadata?.name;
  if (asked) {
    if (![...names, ...init, ...eph].includes(asked)) {
      throw badRequest(`container ${asked} is not valid for pod ${podName}`);
    }
    return asked;
  }
  const annotated = pod.metadata?.annotations?.[DEFAULT_CONTAINER_ANNOTATION];
  if (annotated && names.includes(annotated)) return annotated;
  if (names.length === 1) return names[0];
  let msg = `a container name must be specified for pod ${podName}, choose one of: [${names.join(' ')}]`;
  if (init.length) msg += ` or one of the init containers: [${init.join(' ')}]`;
  throw badRequest(msg);
}

export async function kubeletTarget(
  objects: Objects,
  registry: ResourceRegistry,
  namespace: string,
  name: string,
  container: string | null | false,
  https = false,
): Promise<KubeletTarget> {
  const podDef = registry.byResource('', 'v1', 'pods')!;
  const pod = (await objects.get(podDef, namespace, name)).obj;
  const c = container === false ? undefined : containerFor(pod, container);
  const nodeName = (pod.spec as Json | undefined)?.nodeName as string | undefined;
  if (!nodeName) throw badRequest(`pod ${name} does not have a host assigned`);
  const nodeDef = registry.byResource('', 'v1', 'nodes')!;
  const node = (await objects.tryGet(nodeDef, undefined, nodeName))?.obj;
  if (!node)
    throw new StatusError('NotFound', `nodes "${nodeName}" not found`, { name: nodeName, kind: 'nodes' });
  const status = (node.status ?? {}) as Json;
  const addrs = (status.addresses ?? []) as { type: string; address: string }[];
  const addr =
    addrs.find((a) => a.type === 'InternalIP') ?? addrs.find((a) => a.type === 'Hostname') ?? addrs[0];
  if (!addr) throw badRequest(`no preferred addresses found; known addresses: []`);
  const port = status.daemonEndpoints?.kubeletEndpoint?.Port ?? 10250;
  const host = addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  return { pod, container: c, base: `${https ? 'https' : 'http'}://${host}:${port}` };
}
