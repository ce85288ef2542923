/**
 * The Container Runtime Interface (CRI), Kubernetes' contract between a node agent and a
 * container runtime, as Skiff speaks it: upstream's `runtime.v1` gRPC API (api.proto, loaded at
 * run time), a promise client, a server helper, and a conformance suite every runtime must pass.
 *
 * Lifecycle: RunPodSandbox → CreateContainer → StartContainer → (ExecSync, ContainerStatus, logs
 * at the container's LogPath in the CRI log format) → StopContainer → RemoveContainer →
 * StopPodSandbox → RemovePodSandbox.
 */
export { type CriClient, type CriClientOptions, criClient } from './client.ts';
export {
  CriError,
  criExists,
  criInvalid,
  criNotFound,
  criPrecondition,
  criUnimplemented,
  GrpcStatus,
  isNotFound,
} from './errors.ts';
export { type CriLogLine, formatCriLogLine, parseCriLog } from './log-format.ts';
export { CRI_PROTO_PATH, loadCri } from './proto.ts';
export { type CriImplementation, type CriServer, serveCri } from './server.ts';
export {
  exitStatus,
  type StreamingIO,
  type StreamingRuntime,
  type StreamingServer,
  startStreamingServer,
} from './streaming.ts';
export type * from './types.ts';
