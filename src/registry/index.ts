export type { PullLayoutOptions, PushLayoutOptions } from './client.ts';
export { pullLayout, pushLayout, RegistryClient } from './client.ts';
export * from './distribution.ts';
export { RegistryError } from './errors.ts';
export type { RegistryOptions, RunningRegistry } from './server.ts';
export { startRegistry } from './server.ts';
