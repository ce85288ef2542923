/** POST to a collection: a new object at a new revision. */

import { invalid } from '../../api/errors.ts';
import type { KubeObject, ResourceDef } from '../../api/resource.ts';
import { admitCreate } from '../admission/index.ts';
import type { Ctx, ManageFields } from '../context.ts';
import type { Objects } from '../objects.ts';
import {
  checkKind,
  checkNamespace,
  defaultAndValidate,
  fieldManagement,
  fieldValidation,
  generateName,
  nameCauses,
  newUid,
  now,
  requireNamespace,
} from './prepare.ts';

export async function create(ctx: Ctx): Promise<void> {
  const obj = await ctx.objectBody();
  checkKind(ctx, obj);
  checkNamespace(ctx, obj);
  fieldValidation(ctx, obj);
  await requireNamespace(ctx, true);
  const undo = await admitCreate(ctx.parts, ctx.def, obj);
  let created: KubeObject;
  try {
    created = await createObject(ctx.parts.objects, ctx.def, obj, ctx.dryRun, fieldManagement(ctx));
  } catch (e) {
    await undo().catch(() => {});
    throw e;
  }
  if (ctx.dryRun) await undo();
  ctx.send(201, created);
}

/** Fill server-owned metadata, default, validate and store (unless dry-run). Shared with apply. */
export async function createObject(
  objects: Objects,
  def: ResourceDef,
  obj: KubeObject,
  dryRun: boolean,
  manage?: ManageFields,
): Promise<KubeObject> {
  const m = obj.metadata!;
  if (!m.name && m.generateName) m.name = generateName(m.generateName);
  const causes = nameCauses(def, m.name);
  if (causes.length) throw invalid(def.group, def.kind, m.name ?? '', causes);
  m.uid = newUid();
  m.creationTimestamp = now();
  delete m.resourceVersion;
  delete m.deletionTimestamp;
  delete m.deletionGracePeriodSeconds;
  if (def.tracksGeneration !== false) m.generation = 1;
  else delete m.generation;
  // Pods and Nodes keep the status their creator sent (agents register nodes with it).
  if (def.hasStatus && def.plural !== 'pods' && !(def.plural === 'nodes' && def.group === ''))
    delete obj.status;
  defaultAndValidate(def, obj);
  if (manage) obj = manage(undefined, obj);
  if (dryRun) return obj;
  return objects.create(def, obj);
}
