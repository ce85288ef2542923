/** The PatchEngine the handlers use, over src/apiserver/patch's functions and the kind's schema. */

import type { KubeObject } from '../api/resource.ts';
import type { PatchEngine } from './context.ts';
import { applyPatch, SchemaContext, serverSideApply, updateManagedFields } from './patch/index.ts';

export const patchEngine: PatchEngine = {
  jsonPatch: (obj, patch) =>
    applyPatch('application/json-patch+json', obj, patch, SchemaContext.untyped()) as KubeObject,
  mergePatch: (obj, patch) =>
    applyPatch('application/merge-patch+json', obj, patch, SchemaContext.untyped()) as KubeObject,
  strategicMergePatch: (obj, patch, def, registry) =>
    applyPatch(
      'application/strategic-merge-patch+json',
      obj,
      patch,
      SchemaContext.fromRegistry(registry, def),
      { strategicFallback: 'merge' },
    ) as KubeObject,
  apply: (live, config, { manager, force, def, registry }) => {
    const { object, managedFields } = serverSideApply({
      live,
      applied: config,
      manager,
      force,
      ctx: SchemaContext.fromRegistry(registry, def),
      now: new Date(),
      apiVersion: def.group ? `${def.group}/${def.version}` : def.version,
      resetFields: def.hasStatus ? ['status'] : undefined,
    });
    object.metadata = { ...object.metadata, managedFields };
    return object;
  },
  recordUpdate: (old, updated, { manager, def, registry, subresource }) => {
    const { object, managedFields } = updateManagedFields({
      old,
      updated,
      manager,
      ctx: SchemaContext.fromRegistry(registry, def),
      now: new Date(),
      apiVersion:
        subresource === 'scale' ? 'autoscaling/v1' : def.group ? `${def.group}/${def.version}` : def.version,
      subresource,
      resetFields:
        subresource === 'status' ? ['spec'] : def.hasStatus && !subresource ? ['status'] : undefined,
    });
    object.metadata = { ...object.metadata, managedFields };
    return object;
  },
};
