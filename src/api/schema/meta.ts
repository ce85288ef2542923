/** Schemas of apimachinery's shared types: ObjectMeta, ListMeta, LabelSelector, Time, Quantity, ... */
import type { Schema } from '../resource.ts';
import {
  arr,
  bool,
  CONDITION,
  DURATION,
  INT_OR_STRING,
  int64,
  LABEL_SELECTOR,
  LIST_META,
  META,
  MICRO_TIME,
  OBJECT_META,
  obj,
  QUANTITY,
  RAW_EXTENSION,
  ref,
  str,
  strArr,
  strMap,
  TIME,
  time,
} from './dsl.ts';

export function metaSchemas(): Record<string, Schema> {
  return {
    [OBJECT_META]: obj(
      'Metadata every persisted object has: name, namespace, labels, owners and bookkeeping.',
      {
        annotations: strMap('Unstructured key/value data kept with the object; not used for selection.'),
        creationTimestamp: time('When the server created the object; set by the system, read-only.'),
        deletionGracePeriodSeconds: int64(
          'Seconds allowed for graceful termination before the object is removed.',
        ),
        deletionTimestamp: time('When the object will be or was marked for deletion; set by the system.'),
        finalizers: strArr('Keys that must be removed before the object is deleted from storage.', {
          listType: 'set',
          patchStrategy: 'merge',
        }),
        generateName: str('A prefix the server uses to generate a unique name when `name` is empty.'),
        generation: int64('A sequence number for the desired state; bumped by the system on spec changes.'),
        labels: strMap('Key/value pairs used to organize and select objects.'),
        managedFields: arr(
          ref(`${META}ManagedFieldsEntry`),
          'Which field manager owns which fields (server-side apply).',
          {
            listType: 'atomic',
          },
        ),
        name: str('Unique name within the namespace; cannot be changed after creation.'),
        namespace: str('The namespace the object lives in; empty for cluster-scoped kinds.'),
        ownerReferences: arr(
          ref(`${META}OwnerReference`),
          'Objects this one depends on; the garbage collector uses them.',
          {
            mergeKey: 'uid',
          },
        ),
        resourceVersion: str(
          'An opaque value that changes on every write; used for optimistic concurrency and watches.',
        ),
        selfLink: str('Deprecated; not set by the server.'),
        uid: str('A value unique in time and space for this object; set by the server.'),
      },
    ),
    [LIST_META]: obj('Metadata of a list response.', {
      continue: str('A token to fetch the next page when the list was limited.'),
      remainingItemCount: int64('How many items remain after this page, when known.'),
      resourceVersion: str('The store revision this list was read at.'),
      selfLink: str('Deprecated; not set by the server.'),
    }),
    [`${META}OwnerReference`]: obj(
      'Points at an owner of an object.',
      {
        apiVersion: str('API version of the owner.'),
        blockOwnerDeletion: bool(
          'When true, the owner cannot be deleted in the foreground before this object is.',
        ),
        controller: bool('True when the owner is the managing controller.'),
        kind: str('Kind of the owner.'),
        name: str('Name of the owner.'),
        uid: str('UID of the owner.'),
      },
      { required: ['apiVersion', 'kind', 'name', 'uid'], extra: { 'x-kubernetes-map-type': 'atomic' } },
    ),
    [`${META}ManagedFieldsEntry`]: obj('A record of the fields one manager owns.', {
      apiVersion: str('Version of the resource the fields describe.'),
      fieldsType: str('Format of fieldsV1; only `FieldsV1`.'),
      fieldsV1: ref(`${META}FieldsV1`, 'The set of owned fields.'),
      manager: str('Name of the field manager.'),
      operation: str('`Apply` or `Update`.'),
      subresource: str('Subresource the fields were written through, if any.'),
      time: time('When the entry was last changed.'),
    }),
    [`${META}FieldsV1`]: {
      type: 'object',
      description: 'A trie of field paths, encoded as JSON.',
      'x-kubernetes-preserve-unknown-fields': true,
    },
    [LABEL_SELECTOR]: obj(
      'A label query; requirements are ANDed. An empty selector matches everything, a null one nothing.',
      {
        matchExpressions: arr(ref(`${META}LabelSelectorRequirement`), 'Set-based requirements.', {
          listType: 'atomic',
        }),
        matchLabels: strMap('Labels that must be equal.'),
      },
      { extra: { 'x-kubernetes-map-type': 'atomic' } },
    ),
    [`${META}LabelSelectorRequirement`]: obj(
      'A key, an operator and values.',
      {
        key: str('The label key.'),
        operator: str('In, NotIn, Exists or DoesNotExist.'),
        values: strArr('Values for In and NotIn; empty for Exists and DoesNotExist.'),
      },
      { required: ['key', 'operator'] },
    ),
    [CONDITION]: obj(
      'One aspect of the current state of an object.',
      {
        lastTransitionTime: time('When the status last changed.'),
        message: str('A human readable explanation.'),
        observedGeneration: int64('The generation the condition was computed for.'),
        reason: str('A CamelCase reason for the last transition.'),
        status: str('True, False or Unknown.'),
        type: str('The condition type, in CamelCase.'),
      },
      { required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'] },
    ),
    [TIME]: {
      type: 'string',
      format: 'date-time',
      description: 'An RFC 3339 timestamp with second precision.',
    },
    [MICRO_TIME]: {
      type: 'string',
      format: 'date-time',
      description: 'An RFC 3339 timestamp with microseconds.',
    },
    [DURATION]: { type: 'string', description: 'A duration such as `1h30m`.' },
    [QUANTITY]: {
      description: 'A fixed-point number with a suffix, such as `100m`, `1Gi` or `2`.',
      anyOf: [{ type: 'integer' }, { type: 'string' }],
      'x-kubernetes-int-or-string': true,
    },
    [INT_OR_STRING]: {
      description: 'Either an integer or a string, such as a port number or name, or a percentage.',
      anyOf: [{ type: 'integer' }, { type: 'string' }],
      'x-kubernetes-int-or-string': true,
      format: 'int-or-string',
    },
    [RAW_EXTENSION]: {
      type: 'object',
      description: 'An embedded object of any kind.',
      'x-kubernetes-preserve-unknown-fields': true,
    },
  };
}
