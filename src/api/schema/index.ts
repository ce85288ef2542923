/** Every named schema of the built-in kinds. */
import type { Schema } from '../resource.ts';
import { appsSchemas } from './apps.ts';
import { coreSchemas } from './core.ts';
import { podSchemas } from './core-pod.ts';
import { metaSchemas } from './meta.ts';

export function builtinSchemas(): Record<string, Schema> {
  return { ...metaSchemas(), ...podSchemas(), ...coreSchemas(), ...appsSchemas() };
}
