export { type ArchivedImage, type ImageLayout, openImageArchive } from './archive.ts';
export type { BlobProgress, PullLayoutOptions, PushLayoutOptions } from './client.ts';
export { pullLayout, pushLayout, RegistryClient } from './client.ts';
export {
  type ClusterRegistry,
  type ClusterRegistryOptions,
  findClusterRegistry,
  publishRegistry,
  REGISTRY_CONFIGMAP,
  type RegistryLocation,
  startClusterRegistry,
} from './cluster.ts';
export * from './distribution.ts';
export { RegistryError } from './errors.ts';
export { mirrorHostPrefix, mirrorRepository } from './mirror.ts';
export type { RegistryOptions, RunningRegistry } from './server.ts';
export { registryListener, startRegistry } from './server.ts';
export { type FetchLike, type TlsOptions, tlsFetch } from './tls-fetch.ts';
