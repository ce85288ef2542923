/** Every named schema of the built-in kinds. */
import type { Schema } from '../resource.ts';
import { appsSchemas } from './apps.ts';
import { batchSchemas } from './batch.ts';
import { coreSchemas } from './core.ts';
import { podSchemas } from './core-pod.ts';
import { groupSchemas } from './groups.ts';
import { metaSchemas } from './meta.ts';

export function builtinSchemas(): Record<string, Schema> {
  return {
    ...metaSchemas(),
    ...podSchemas(),
    ...coreSchemas(),
    ...appsSchemas(),
    ...batchSchemas(),
    ...groupSchemas(),
  };
}
