/**
 * The Container Network Interface (CNI 1.0.0) as Skiff's runtime sees it.
 *
 * A *network configuration list* (conflist) names a network and lists the plugins that build an
 * attachment to it, in order: typically a main plugin that makes an interface (bridge), an IPAM
 * plugin it delegates to (host-local), then chained plugins that adjust what came before (portmap).
 * An *attachment* is one container's interface on one network, identified by
 * (container id, network name, interface name).
 *
 * Lifecycle, for each attachment:
 *   ADD   run every plugin in list order; each gets the previous plugin's result as `prevResult`,
 *         and the last result is the attachment's result, which the runtime caches on disk.
 *   CHECK run every plugin in list order with the cached result as `prevResult`; any error means the
 *         attachment is broken (skipped entirely when the list sets `disableCheck`).
 *   DEL   run every plugin in reverse order with the cached result as `prevResult`, then forget the
 *         cache. DEL must succeed when repeated or when the container is already gone.
 *
 * Plugins are executables found by `type` in CNI_PATH; they read their configuration on stdin, the
 * call's parameters from CNI_* environment variables, and print a result or an error as JSON.
 */

/** One plugin entry in a conflist. Unknown keys are passed through to the plugin untouched. */
export interface CniPluginConf {
  type: string;
  /** Capability arguments this plugin accepts in `runtimeConfig`, such as `{portMappings: true}`. */
  capabilities?: Record<string, boolean>;
  [key: string]: unknown;
}

export interface CniConflist {
  cniVersion: string;
  /** Further versions the list conforms to; the highest one every plugin supports is used. */
  cniVersions?: string[];
  name: string;
  disableCheck?: boolean;
  plugins: CniPluginConf[];
}

export interface CniInterface {
  name: string;
  mac?: string;
  mtu?: number;
  /** The netns path when the interface is inside the container; absent for host-side interfaces. */
  sandbox?: string;
}

export interface CniIPConfig {
  /** CIDR notation: `10.244.1.5/24`. */
  address: string;
  gateway?: string;
  /** Index into `interfaces`. */
  interface?: number;
}

export interface CniRoute {
  dst: string;
  gw?: string;
}

export interface CniDNS {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

/** A plugin's success result (the CNI 1.0.0 Result type). */
export interface CniResult {
  cniVersion: string;
  interfaces?: CniInterface[];
  ips?: CniIPConfig[];
  routes?: CniRoute[];
  dns?: CniDNS;
}

/** The `portMappings` capability argument, as the CNI conventions define it. */
export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
  hostIP?: string;
}

/** What the runtime knows about a pod sandbox when it wires its network. */
export interface SandboxRef {
  /** The sandbox (infra container) id: CNI_CONTAINERID. */
  id: string;
  name: string;
  namespace: string;
  /** A path to the sandbox's network namespace, e.g. `/var/run/netns/<name>`. */
  netnsPath: string;
}

export interface AttachOptions {
  portMappings?: PortMapping[];
}

/** A pod network: what the CRI runtime calls from RunPodSandbox and StopPodSandbox. */
export interface PodNetwork {
  /** Attach loopback and the pod interface; returns the pod's IPs (no prefix length) and the full result. */
  setUp(sandbox: SandboxRef, opts?: AttachOptions): Promise<{ ips: string[]; result: CniResult }>;
  /** Throws a CniError when the attachment is missing or broken. */
  check(sandbox: SandboxRef, opts?: AttachOptions): Promise<void>;
  /** Detach; idempotent, and works when the netns is already gone. */
  tearDown(sandbox: SandboxRef, opts?: AttachOptions): Promise<void>;
}
