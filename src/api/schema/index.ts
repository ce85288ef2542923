/** Every named schema of the built-in kinds. */
import type { Schema } from '../resource.ts';
import { appsSchemas } from './apps.ts';
import { authSchemas } from './auth.ts';
import { autoscalingSchemas } from './autoscaling.ts';
import { batchSchemas } from './batch.ts';
import { coreSchemas } from './core.ts';
import { podSchemas } from './core-pod.ts';
import { groupSchemas } from './groups.ts';
import { metaSchemas } from './meta.ts';
import { networkingSchemas } from './networking.ts';
import { storageSchemas } from './storage.ts';

export function builtinSchemas(): Record<string, Schema> {
  return {
    ...metaSchemas(),
    ...podSchemas(),
    ...coreSchemas(),
    ...appsSchemas(),
    ...batchSchemas(),
    ...groupSchemas(),
    ...networkingSchemas(),
    ...storageSchemas(),
    ...authSchemas(),
    ...autoscalingSchemas(),
  };
}
