/**
 * TypeScript shapes of the CRI messages, as `@grpc/proto-loader` presents them with the options
 * in proto.ts: field names in lowerCamelCase, enums as their string names, int64 as `number`
 * (nanosecond timestamps therefore lose precision below ~256ns, which no caller relies on),
 * `bytes` as Buffer, maps as plain objects. On requests every field is optional; responses
 * carry every scalar field (proto3 defaults filled in).
 */

export type Labels = Record<string, string>;

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export type MountPropagation =
  | 'PROPAGATION_PRIVATE'
  | 'PROPAGATION_HOST_TO_CONTAINER'
  | 'PROPAGATION_BIDIRECTIONAL';
export type NamespaceMode = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';
export type PodSandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
export type ContainerState =
  | 'CONTAINER_CREATED'
  | 'CONTAINER_RUNNING'
  | 'CONTAINER_EXITED'
  | 'CONTAINER_UNKNOWN';

export interface VersionRequest {
  version?: string;
}
export interface VersionResponse {
  version: string;
  runtimeName: string;
  runtimeVersion: string;
  runtimeApiVersion: string;
}

export interface DNSConfig {
  servers?: string[];
  searches?: string[];
  options?: string[];
}
export interface PortMapping {
  protocol?: Protocol;
  containerPort?: number;
  hostPort?: number;
  hostIp?: string;
}
export interface Int64Value {
  value: number;
}
export interface UInt64Value {
  value: number;
}
export interface NamespaceOption {
  network?: NamespaceMode;
  pid?: NamespaceMode;
  ipc?: NamespaceMode;
  targetId?: string;
}
export interface LinuxSandboxSecurityContext {
  namespaceOptions?: NamespaceOption;
  runAsUser?: Int64Value;
  runAsGroup?: Int64Value;
  readonlyRootfs?: boolean;
  supplementalGroups?: number[];
  privileged?: boolean;
}
export interface LinuxPodSandboxConfig {
  cgroupParent?: string;
  securityContext?: LinuxSandboxSecurityContext;
  sysctls?: Labels;
  overhead?: LinuxContainerResources;
  resources?: LinuxContainerResources;
}
export interface PodSandboxMetadata {
  name: string;
  uid: string;
  namespace: string;
  attempt?: number;
}
export interface PodSandboxConfig {
  metadata?: PodSandboxMetadata;
  hostname?: string;
  logDirectory?: string;
  dnsConfig?: DNSConfig;
  portMappings?: PortMapping[];
  labels?: Labels;
  annotations?: Labels;
  linux?: LinuxPodSandboxConfig;
}
export interface RunPodSandboxRequest {
  config?: PodSandboxConfig;
  runtimeHandler?: string;
}
export interface RunPodSandboxResponse {
  podSandboxId: string;
}
export interface PodSandboxIdRequest {
  podSandboxId?: string;
}
export interface PodSandboxStatusRequest {
  podSandboxId?: string;
  verbose?: boolean;
}
export interface PodSandboxNetworkStatus {
  ip: string;
  additionalIps: { ip: string }[];
}
export interface PodSandboxStatus {
  id: string;
  metadata: PodSandboxMetadata;
  state: PodSandboxState;
  createdAt: number;
  network: PodSandboxNetworkStatus | null;
  linux: { namespaces: { options: NamespaceOption | null } | null } | null;
  labels: Labels;
  annotations: Labels;
  runtimeHandler: string;
}
export interface PodSandboxStatusResponse {
  status: PodSandboxStatus;
  info: Labels;
  containersStatuses?: ContainerStatus[];
  timestamp?: number;
}
export interface PodSandboxFilter {
  id?: string;
  state?: { state: PodSandboxState };
  labelSelector?: Labels;
}
export interface ListPodSandboxRequest {
  filter?: PodSandboxFilter;
}
export interface PodSandbox {
  id: string;
  metadata: PodSandboxMetadata;
  state: PodSandboxState;
  createdAt: number;
  labels: Labels;
  annotations: Labels;
  runtimeHandler: string;
}
export interface ListPodSandboxResponse {
  items: PodSandbox[];
}

export interface ImageSpec {
  image: string;
  annotations?: Labels;
  userSpecifiedImage?: string;
  runtimeHandler?: string;
  imageRef?: string;
}
export interface KeyValue {
  key: string;
  value: string;
}
export interface LinuxContainerResources {
  cpuPeriod?: number;
  cpuQuota?: number;
  cpuShares?: number;
  memoryLimitInBytes?: number;
  oomScoreAdj?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  unified?: Labels;
  memorySwapLimitInBytes?: number;
}
export interface Capability {
  addCapabilities?: string[];
  dropCapabilities?: string[];
  addAmbientCapabilities?: string[];
}
export interface LinuxContainerSecurityContext {
  capabilities?: Capability;
  privileged?: boolean;
  namespaceOptions?: NamespaceOption;
  runAsUser?: Int64Value;
  runAsGroup?: Int64Value;
  runAsUsername?: string;
  readonlyRootfs?: boolean;
  supplementalGroups?: number[];
  noNewPrivs?: boolean;
  maskedPaths?: string[];
  readonlyPaths?: string[];
}
export interface LinuxContainerConfig {
  resources?: LinuxContainerResources;
  securityContext?: LinuxContainerSecurityContext;
}
export interface ContainerMetadata {
  name: string;
  attempt?: number;
}
export interface Mount {
  containerPath: string;
  hostPath: string;
  readonly?: boolean;
  selinuxRelabel?: boolean;
  propagation?: MountPropagation;
}
export interface Device {
  containerPath: string;
  hostPath: string;
  permissions?: string;
}
export interface ContainerConfig {
  metadata?: ContainerMetadata;
  image?: ImageSpec;
  command?: string[];
  args?: string[];
  workingDir?: string;
  envs?: KeyValue[];
  mounts?: Mount[];
  devices?: Device[];
  labels?: Labels;
  annotations?: Labels;
  logPath?: string;
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
  linux?: LinuxContainerConfig;
}
export interface CreateContainerRequest {
  podSandboxId?: string;
  config?: ContainerConfig;
  sandboxConfig?: PodSandboxConfig;
}
export interface CreateContainerResponse {
  containerId: string;
}
export interface ContainerIdRequest {
  containerId?: string;
}
export interface StopContainerRequest {
  containerId?: string;
  /** seconds to wait after SIGTERM before SIGKILL */
  timeout?: number;
}
export interface ContainerFilter {
  id?: string;
  state?: { state: ContainerState };
  podSandboxId?: string;
  labelSelector?: Labels;
}
export interface ListContainersRequest {
  filter?: ContainerFilter;
}
export interface Container {
  id: string;
  podSandboxId: string;
  metadata: ContainerMetadata;
  image: ImageSpec;
  imageRef: string;
  state: ContainerState;
  createdAt: number;
  labels: Labels;
  annotations: Labels;
  imageId?: string;
}
export interface ListContainersResponse {
  containers: Container[];
}
export interface ContainerStatusRequest {
  containerId?: string;
  verbose?: boolean;
}
export interface ContainerStatus {
  id: string;
  metadata: ContainerMetadata;
  state: ContainerState;
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  image: ImageSpec;
  imageRef: string;
  reason: string;
  message: string;
  labels: Labels;
  annotations: Labels;
  mounts: Mount[];
  logPath: string;
  resources?: { linux: LinuxContainerResources | null } | null;
  imageId?: string;
}
export interface ContainerStatusResponse {
  status: ContainerStatus;
  info: Labels;
}
export interface UpdateContainerResourcesRequest {
  containerId?: string;
  linux?: LinuxContainerResources;
  annotations?: Labels;
}
export interface ExecSyncRequest {
  containerId?: string;
  cmd?: string[];
  /** seconds; 0 means no timeout */
  timeout?: number;
}
export interface ExecSyncResponse {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number;
}
export interface ExecRequest {
  containerId?: string;
  cmd?: string[];
  tty?: boolean;
  stdin?: boolean;
  stdout?: boolean;
  stderr?: boolean;
}
export interface AttachRequest {
  containerId?: string;
  stdin?: boolean;
  tty?: boolean;
  stdout?: boolean;
  stderr?: boolean;
}
export interface PortForwardRequest {
  podSandboxId?: string;
  port?: number[];
}
export interface UrlResponse {
  url: string;
}

export interface FilesystemUsage {
  timestamp: number;
  fsId: { mountpoint: string } | null;
  usedBytes: UInt64Value | null;
  inodesUsed: UInt64Value | null;
}
export interface CpuUsage {
  timestamp: number;
  usageCoreNanoSeconds: UInt64Value | null;
  usageNanoCores?: UInt64Value | null;
}
export interface MemoryUsage {
  timestamp: number;
  workingSetBytes: UInt64Value | null;
  availableBytes?: UInt64Value | null;
  usageBytes: UInt64Value | null;
  rssBytes?: UInt64Value | null;
  pageFaults?: UInt64Value | null;
  majorPageFaults?: UInt64Value | null;
}
export interface ContainerAttributes {
  id: string;
  metadata: ContainerMetadata;
  labels: Labels;
  annotations: Labels;
}
export interface ContainerStats {
  attributes: ContainerAttributes;
  cpu: CpuUsage | null;
  memory: MemoryUsage | null;
  writableLayer: FilesystemUsage | null;
}
export interface ContainerStatsResponse {
  stats: ContainerStats;
}
export interface ListContainerStatsRequest {
  filter?: { id?: string; podSandboxId?: string; labelSelector?: Labels };
}
export interface ListContainerStatsResponse {
  stats: ContainerStats[];
}
export interface RuntimeCondition {
  type: string;
  status: boolean;
  reason: string;
  message: string;
}
export interface StatusRequest {
  verbose?: boolean;
}
export interface StatusResponse {
  status: { conditions: RuntimeCondition[] };
  info: Labels;
}
export interface UpdateRuntimeConfigRequest {
  runtimeConfig?: { networkConfig?: { podCidr?: string } };
}

export interface Image {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  size: number;
  uid: Int64Value | null;
  username: string;
  spec: ImageSpec | null;
  pinned: boolean;
}
export interface ListImagesRequest {
  filter?: { image?: ImageSpec };
}
export interface ListImagesResponse {
  images: Image[];
}
export interface ImageStatusRequest {
  image?: ImageSpec;
  verbose?: boolean;
}
export interface ImageStatusResponse {
  /** null when the image is not present (not an error in CRI) */
  image: Image | null;
  info: Labels;
}
export interface AuthConfig {
  username?: string;
  password?: string;
  auth?: string;
  serverAddress?: string;
  identityToken?: string;
  registryToken?: string;
}
export interface PullImageRequest {
  image?: ImageSpec;
  auth?: AuthConfig;
  sandboxConfig?: PodSandboxConfig;
}
export interface PullImageResponse {
  imageRef: string;
}
export interface RemoveImageRequest {
  image?: ImageSpec;
}
export interface ImageFsInfoResponse {
  imageFilesystems: FilesystemUsage[];
  containerFilesystems: FilesystemUsage[];
}

// biome-ignore lint/complexity/noBannedTypes: CRI has many empty responses
export type Empty = {};

/** The RuntimeService RPCs Skiff uses, as promise functions. */
export interface RuntimeService {
  version(req: VersionRequest): Promise<VersionResponse>;
  runPodSandbox(req: RunPodSandboxRequest): Promise<RunPodSandboxResponse>;
  stopPodSandbox(req: PodSandboxIdRequest): Promise<Empty>;
  removePodSandbox(req: PodSandboxIdRequest): Promise<Empty>;
  podSandboxStatus(req: PodSandboxStatusRequest): Promise<PodSandboxStatusResponse>;
  listPodSandbox(req: ListPodSandboxRequest): Promise<ListPodSandboxResponse>;
  createContainer(req: CreateContainerRequest): Promise<CreateContainerResponse>;
  startContainer(req: ContainerIdRequest): Promise<Empty>;
  stopContainer(req: StopContainerRequest): Promise<Empty>;
  removeContainer(req: ContainerIdRequest): Promise<Empty>;
  listContainers(req: ListContainersRequest): Promise<ListContainersResponse>;
  containerStatus(req: ContainerStatusRequest): Promise<ContainerStatusResponse>;
  updateContainerResources(req: UpdateContainerResourcesRequest): Promise<Empty>;
  reopenContainerLog(req: ContainerIdRequest): Promise<Empty>;
  execSync(req: ExecSyncRequest): Promise<ExecSyncResponse>;
  exec(req: ExecRequest): Promise<UrlResponse>;
  attach(req: AttachRequest): Promise<UrlResponse>;
  portForward(req: PortForwardRequest): Promise<UrlResponse>;
  containerStats(req: ContainerIdRequest): Promise<ContainerStatsResponse>;
  listContainerStats(req: ListContainerStatsRequest): Promise<ListContainerStatsResponse>;
  updateRuntimeConfig(req: UpdateRuntimeConfigRequest): Promise<Empty>;
  status(req: StatusRequest): Promise<StatusResponse>;
}

/** The ImageService RPCs, as promise functions. */
export interface ImageService {
  listImages(req: ListImagesRequest): Promise<ListImagesResponse>;
  imageStatus(req: ImageStatusRequest): Promise<ImageStatusResponse>;
  pullImage(req: PullImageRequest): Promise<PullImageResponse>;
  removeImage(req: RemoveImageRequest): Promise<Empty>;
  imageFsInfo(req: Empty): Promise<ImageFsInfoResponse>;
}
