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

export interface PodNetwork {
  setUp(sandbox: PodNetworkSandbox, opts?: { portMappings?: PodPortMapping[] }): Promise<{ ips: string[] }>;
  tearDown(sandbox: PodNetworkSandbox, opts?: { portMappings?: PodPortMapping[] }): Promise<void>;
}
