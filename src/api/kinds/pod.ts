/** core/v1 Pod. */

import { defaultPodSpec, qosClass } from '../defaults/pod.ts';
import { podTable } from '../printers/pod.ts';
import type { KubeObject } from '../resource.ts';
import { validatePodSpec, validatePodSpecUpdate } from '../validation/pod.ts';
import { defineKind, field } from './define.ts';

type Json = Record<string, any>;

export const pod = defineKind({
  group: '',
  version: 'v1',
  kind: 'Pod',
  plural: 'pods',
  namespaced: true,
  shortNames: ['po'],
  categories: ['all'],
  status: true,
  extraSubresources: [
    'attach',
    'binding',
    'ephemeralcontainers',
    'eviction',
    'exec',
    'log',
    'portforward',
    'proxy',
  ],
  selectableFields: {
    'spec.nodeName': field('spec.nodeName'),
    'spec.restartPolicy': field('spec.restartPolicy'),
    'spec.schedulerName': field('spec.schedulerName'),
    'spec.serviceAccountName': field('spec.serviceAccountName'),
    'spec.hostNetwork': field('spec.hostNetwork', 'false'),
    'status.phase': field('status.phase'),
    'status.podIP': field('status.podIP'),
    'status.nominatedNodeName': field('status.nominatedNodeName'),
  },
  defaults(obj: KubeObject) {
    obj.spec ??= {};
    const spec = obj.spec as Json;
    defaultPodSpec(spec);
    obj.status ??= {};
    const status = obj.status as Json;
    if (!status.phase) status.phase = 'Pending';
    if (!status.qosClass) status.qosClass = qosClass(spec);
  },
  validate: (obj) => validatePodSpec(obj.spec as Json, 'spec'),
  validateUpdate: (obj, old) => validatePodSpecUpdate(obj.spec as Json, old.spec as Json),
  table: podTable,
});
