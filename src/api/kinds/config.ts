/** core/v1 Namespace, ConfigMap, Secret and ServiceAccount. */

import { child, dflt } from '../defaults/pod.ts';
import type { StatusCause } from '../errors.ts';
import { ageColumn, col, nameColumn, since } from '../printers/format.ts';
import type { KubeObject } from '../resource.ts';
import { deepEqual, forbidden, immutable, invalid, required } from '../validation/causes.ts';
import { isConfigMapKey, isDNS1123Label } from '../validation/names.ts';
import { defineKind, field } from './define.ts';

type Json = Record<string, any>;

const MAX_DATA_BYTES = 1024 * 1024;

function validateKeys(maps: [string, Json | undefined][]): StatusCause[] {
  const causes: StatusCause[] = [];
  const seen = new Set<string>();
  let size = 0;
  for (const [path, data] of maps) {
    for (const [k, v] of Object.entries(data ?? {})) {
      for (const m of isConfigMapKey(k)) causes.push(invalid(`${path}[${k}]`, k, m));
      if (seen.has(k)) causes.push(invalid(`${path}[${k}]`, k, 'duplicate of key present in data'));
      seen.add(k);
      size += String(v ?? '').length;
    }
  }
  if (size > MAX_DATA_BYTES) {
    causes.push({
      reason: 'FieldValueTooLong',
      field: '',
      message: `Too long: must have at most ${MAX_DATA_BYTES} bytes`,
    });
  }
  return causes;
}

/** Objects with `immutable: true` keep their data and stay immutable. */
function immutableData(obj: KubeObject, old: KubeObject, fields: string[]): StatusCause[] {
  if (old.immutable !== true) return [];
  const causes: StatusCause[] = [];
  if (obj.immutable !== true)
    causes.push(forbidden('immutable', 'field is immutable when `immutable` is set'));
  for (const f of fields) {
    if (!deepEqual(obj[f] ?? {}, old[f] ?? {}))
      causes.push(forbidden(f, 'field is immutable when `immutable` is set'));
  }
  return causes;
}

const dataColumn = col('Data', 'integer', 'The number of keys.');

export const namespace = defineKind({
  group: '',
  version: 'v1',
  kind: 'Namespace',
  plural: 'namespaces',
  namespaced: false,
  shortNames: ['ns'],
  verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  status: true,
  extraSubresources: ['finalize'],
  name: isDNS1123Label,
  selectableFields: { 'status.phase': field('status.phase') },
  defaults(obj) {
    obj.spec ??= {};
    dflt(obj.spec as Json, 'finalizers', ['kubernetes']);
    obj.status ??= {};
    dflt(obj.status as Json, 'phase', 'Active');
    // Every namespace carries its name as a label.
    const meta = child(obj, 'metadata');
    if (meta.name) meta.labels = { ...meta.labels, 'kubernetes.io/metadata.name': meta.name };
  },
  validate(obj) {
    const causes: StatusCause[] = [];
    ((obj.spec as Json)?.finalizers ?? []).forEach((f: string, i: number) => {
      if (!f) causes.push(required(`spec.finalizers[${i}]`));
    });
    return causes;
  },
  table: {
    columns: [nameColumn, col('Status', 'string', 'The phase of the namespace.'), ageColumn],
    row: (obj, now) => [
      obj.metadata?.name,
      (obj.status as Json)?.phase ?? '',
      since(obj.metadata?.creationTimestamp, now),
    ],
  },
});

export const configMap = defineKind({
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  plural: 'configmaps',
  namespaced: true,
  shortNames: ['cm'],
  validate: (obj) =>
    validateKeys([
      ['data', obj.data as Json],
      ['binaryData', obj.binaryData as Json],
    ]),
  validateUpdate: (obj, old) => immutableData(obj, old, ['data', 'binaryData']),
  table: {
    columns: [nameColumn, dataColumn, ageColumn],
    row: (obj, now) => [
      obj.metadata?.name,
      Object.keys((obj.data as Json) ?? {}).length + Object.keys((obj.binaryData as Json) ?? {}).length,
      since(obj.metadata?.creationTimestamp, now),
    ],
  },
});

const SA_TOKEN = 'kubernetes.io/service-account-token';

export const secret = defineKind({
  group: '',
  version: 'v1',
  kind: 'Secret',
  plural: 'secrets',
  namespaced: true,
  selectableFields: { type: field('type') },
  defaults(obj) {
    dflt(obj, 'type', 'Opaque');
    // stringData is write-only: fold it into data, base64 encoded.
    if (obj.stringData && typeof obj.stringData === 'object') {
      const data = child(obj, 'data');
      for (const [k, v] of Object.entries(obj.stringData as Json))
        data[k] = Buffer.from(String(v)).toString('base64');
      delete obj.stringData;
    }
  },
  validate(obj) {
    const causes = validateKeys([['data', obj.data as Json]]);
    const data = (obj.data as Json) ?? {};
    const annotations = obj.metadata?.annotations ?? {};
    switch (obj.type) {
      case SA_TOKEN:
        if (!annotations['kubernetes.io/service-account.name']) {
          causes.push(required('metadata.annotations[kubernetes.io/service-account.name]'));
        }
        break;
      case 'kubernetes.io/dockerconfigjson':
        if (!data['.dockerconfigjson']) causes.push(required('data[.dockerconfigjson]'));
        break;
      case 'kubernetes.io/tls':
        if (!('tls.crt' in data)) causes.push(required('data[tls.crt]'));
        if (!('tls.key' in data)) causes.push(required('data[tls.key]'));
        break;
      case 'kubernetes.io/basic-auth':
        if (!('username' in data) && !('password' in data)) {
          causes.push(required('data[username]', 'either username or password is required'));
        }
        break;
      case 'kubernetes.io/ssh-auth':
        if (!('ssh-privatekey' in data)) causes.push(required('data[ssh-privatekey]'));
        break;
    }
    return causes;
  },
  validateUpdate: (obj, old) => [
    ...immutable('type', obj.type, old.type),
    ...immutableData(obj, old, ['data']),
  ],
  table: {
    columns: [
      nameColumn,
      col('Type', 'string', 'The type of the secret.'),
      col('Data', 'integer', 'The number of keys in the secret.'),
      ageColumn,
    ],
    row: (obj, now) => [
      obj.metadata?.name,
      obj.type ?? '',
      Object.keys((obj.data as Json) ?? {}).length,
      since(obj.metadata?.creationTimestamp, now),
    ],
  },
});

export const serviceAccount = defineKind({
  group: '',
  version: 'v1',
  kind: 'ServiceAccount',
  plural: 'serviceaccounts',
  namespaced: true,
  shortNames: ['sa'],
  extraSubresources: ['token'],
  table: {
    columns: [
      nameColumn,
      col('Secrets', 'string', 'The number of secrets of the service account.'),
      ageColumn,
    ],
    row: (obj, now) => [
      obj.metadata?.name,
      ((obj.secrets as unknown[]) ?? []).length,
      since(obj.metadata?.creationTimestamp, now),
    ],
  },
});
