/**
 * Multi-node clusters on one machine (`skiff cluster create|delete|ls`): see cluster.ts.
 *
 *   const c = await createCluster({ name: 'dev', nodes: 3 });   // c.kubeconfig
 *   await deleteCluster('dev');
 */
export {
  CLUSTERS_DIR,
  type ClusterNode,
  type ClusterState,
  type ClusterSummary,
  type CreateOptions,
  clusterDir,
  createCluster,
  deleteCluster,
  listClusters,
  readState,
} from './cluster.ts';
