/**
 * How Skiff's runtime gets a pod its network. RunPodSandbox creates the network namespace, then
 * calls `setUp`; StopPodSandbox calls `tearDown` before the namespace goes. src/network/cni/
 * provides the real one (`cniNetwork(...)`); without one a sandbox has only loopback.
 */
export interface PodNetworkSandbox {
  id: string;
  name: string;
  namespace: string;
  /** path of the sandbox's network namespace file */
  netnsPath: string;
}

export interface PodPortMapping {
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
  hostIP?: string;
}

/** Starts one plugin-style executable: `env` added, `stdin` as input, killed after `timeoutMs`. */
export type PluginExec = (
  file: string,
  env: Record<string, string>,
  stdin: string,
  timeoutMs: number,
) => Promise<{ status: number | null; stdout: string; stderr: string; timedOut: boolean }>;

export interface PodNetwork {
  /**
   * Optional: the same network with its plugin executables started by `exec` (CNI's
   * `PluginExec`). The runtime passes its command helper, so plugins fork from a small shell
   * rather than from the runtime's large process. `loopback: false`: the runtime brings `lo`
   * up itself, so the network does not run the loopback plugin.
   */
  withExec?(exec: PluginExec, opts?: { loopback?: boolean }): PodNetwork;
  setUp(sandbox: PodNetworkSandbox, opts?: { portMappings?: PodPortMapping[] }): Promise<{ ips: string[] }>;
  tearDown(sandbox: PodNetworkSandbox, opts?: { portMappings?: PodPortMapping[] }): Promise<void>;
}
