/**
 * Skiff's node agent (kubelet): runs the pods bound to its Node through any CRI runtime,
 * reports Node, Lease and pod status to the API server, and serves container logs.
 *
 *   const agent = await startAgent({ kubeconfig, nodeName, criEndpoint, dataDir, podCIDR }, signal);
 *   // agent.server.url: GET /containerLogs/{ns}/{pod}/{container}?follow&previous&tailLines...
 *   //   WebSocket /exec/{ns}/{pod}/{container}?command=..  /attach/..  /portForward/{ns}/{pod}?port=N
 *   await agent.close();
 */
export { type Agent, type AgentOptions, startAgent } from './agent.ts';
export { CONTAINER_NAME, POD_NAME, POD_NAMESPACE, POD_UID } from './labels.ts';
export { decodeCriLog, type LogOptions, streamLog } from './logs.ts';
export { KUBELET_VERSION, nodeStatus } from './node.ts';
export { parseQuantity } from './resources.ts';
export { type KubeletAuth, type KubeletServer, type KubeletServerOptions, serveKubelet } from './server.ts';
