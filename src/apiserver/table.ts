/**
 * Server-side printing: `meta.k8s.io/v1 Table` from a def's columns, for `kubectl get`.
 * Kinds without columns get Kubernetes' default: Name and Created At.
 */
import type { KubeObject, ResourceDef, TableColumn } from '../api/resource.ts';

const DEFAULT_COLUMNS: TableColumn[] = [
  {
    name: 'Name',
    type: 'string',
    format: 'name',
    description: 'Name must be unique within a namespace.',
    priority: 0,
  },
  {
    name: 'Created At',
    type: 'date',
    description: 'CreationTimestamp is a timestamp of when the object was created.',
    priority: 0,
  },
];

export function columnsOf(def: ResourceDef): TableColumn[] {
  return def.table?.columns ?? DEFAULT_COLUMNS;
}

function rowOf(def: ResourceDef, obj: KubeObject, includeObject: string | null, now: Date) {
  let cells: unknown[];
  try {
    cells = def.table ? def.table.row(obj, now) : [obj.metadata?.name, obj.metadata?.creationTimestamp];
  } catch {
    cells = columnsOf(def).map((_, i) => (i === 0 ? obj.metadata?.name : '<unknown>'));
  }
  const row: Record<string, unknown> = { cells };
  if (includeObject === 'Object') row.object = obj;
  else if (includeObject !== 'None') {
    row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
  }
  return row;
}

/** A Table for one object or a list (`items`). */
export function toTable(
  def: ResourceDef,
  obj: KubeObject,
  includeObject: string | null,
  now: Date,
  withColumns = true,
): KubeObject {
  const isList = Array.isArray(obj.items);
  const items = isList ? (obj.items as KubeObject[]) : [obj];
  const meta = obj.metadata ?? {};
  const table: KubeObject = {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: isList
      ? {
          resourceVersion: meta.resourceVersion,
          continue: meta.continue,
          remainingItemCount: meta.remainingItemCount,
        }
      : { resourceVersion: meta.resourceVersion },
    columnDefinitions: withColumns ? columnsOf(def) : [],
    rows: items.map((o) => rowOf(def, o, includeObject, now)),
  };
  return table;
}
