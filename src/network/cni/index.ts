export type { DefaultConflistOptions } from './conflist.ts';
export {
  defaultConflist,
  loadConfDir,
  loopbackConflist,
  parseConflist,
  validateConflist,
} from './conflist.ts';
export { CniError } from './errors.ts';
export { type PluginExec, type PluginOutput, spawnPlugin } from './exec.ts';
export type { CniNetworkOptions } from './network.ts';
export { cniNetwork } from './network.ts';
export type * from './types.ts';
