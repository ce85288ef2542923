/**
 * The API server: Kubernetes' REST API over a store and a resource registry.
 *
 *   const s = await startApiServer({ dataDir, port: 0, backend, registry });
 *   // s.url, s.kubeconfigPath (admin, embedded certs), s.objects (in-process access), s.close()
 */

export { ensureJoinToken } from './auth/index.ts';
export type { PatchEngine, ServerParts, User } from './context.ts';
export { type DeleteOptions, deleteObject } from './handlers/delete.ts';
export { groupSegment, objectKey, resourcePrefix } from './keys.ts';
export type { ProtobufCodec } from './negotiation.ts';
export { type ObjectEvent, Objects, type Stored } from './objects.ts';
export { patchEngine } from './patch-engine.ts';
export { adminKubeconfig, ensurePki, type Pki, type PkiOptions } from './pki/index.ts';
export { ApiHandler, VERSION_INFO } from './server.ts';
export {
  DEFAULT_NAMESPACES,
  ensureDefaultNamespaces,
  type RunningServer,
  type StartOptions,
  startApiServer,
} from './start.ts';
