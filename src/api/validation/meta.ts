/** Validation of ObjectMeta, labels, annotations and label selectors, as apimachinery does it. */
import type { StatusCause } from '../errors.ts';
import type { KubeObject, ObjectMetaLike } from '../resource.ts';
import { forbidden, formatValue, immutable, invalid, notSupported, required } from './causes.ts';
import { isDNS1123Label, isQualifiedName, isValidLabelValue, type NameValidator } from './names.ts';

const TOTAL_ANNOTATION_SIZE = 256 * 1024;

export function validateLabels(labels: unknown, path: string): StatusCause[] {
  if (!labels || typeof labels !== 'object') return [];
  const causes: StatusCause[] = [];
  for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
    for (const m of isQualifiedName(k)) causes.push(invalid(path, k, m));
    if (typeof v !== 'string') causes.push(invalid(path, v, 'must be a string'));
    else for (const m of isValidLabelValue(v)) causes.push(invalid(path, v, m));
  }
  return causes;
}

export function validateAnnotations(annotations: unknown, path: string): StatusCause[] {
  if (!annotations || typeof annotations !== 'object') return [];
  const causes: StatusCause[] = [];
  let size = 0;
  for (const [k, v] of Object.entries(annotations as Record<string, unknown>)) {
    for (const m of isQualifiedName(k.toLowerCase())) causes.push(invalid(path, k, m));
    size += k.length + String(v ?? '').length;
  }
  if (size > TOTAL_ANNOTATION_SIZE) {
    causes.push({
      reason: 'FieldValueTooLong',
      field: path,
      message: `Too long: must have at most ${TOTAL_ANNOTATION_SIZE} bytes`,
    });
  }
  return causes;
}

export interface MetaRules {
  namespaced: boolean;
  name: NameValidator;
}

/** ValidateObjectMeta: name or generateName, namespace presence, labels, annotations, owners, finalizers. */
export function validateObjectMeta(obj: KubeObject, rules: MetaRules): StatusCause[] {
  const meta: ObjectMetaLike = obj.metadata ?? {};
  const causes: StatusCause[] = [];
  if (meta.generateName && !meta.name) {
    // A generated name is checked on its prefix; a trailing '-' is fine.
    const prefix = meta.generateName.replace(/-$/, '');
    if (prefix)
      for (const m of rules.name(prefix)) causes.push(invalid('metadata.generateName', meta.generateName, m));
  }
  if (!meta.name) {
    if (!meta.generateName) causes.push(required('metadata.name', 'name or generateName is required'));
  } else {
    for (const m of rules.name(meta.name)) causes.push(invalid('metadata.name', meta.name, m));
  }
  if (rules.namespaced) {
    if (!meta.namespace) causes.push(required('metadata.namespace'));
    else
      for (const m of isDNS1123Label(meta.namespace))
        causes.push(invalid('metadata.namespace', meta.namespace, m));
  } else if (meta.namespace) {
    causes.push(forbidden('metadata.namespace', 'not allowed on this type'));
  }
  if (typeof meta.generation === 'number' && meta.generation < 0) {
    causes.push(invalid('metadata.generation', meta.generation, 'must be greater than or equal to 0'));
  }
  causes.push(...validateLabels(meta.labels, 'metadata.labels'));
  causes.push(...validateAnnotations(meta.annotations, 'metadata.annotations'));
  (meta.ownerReferences ?? []).forEach((ref, i) => {
    const p = `metadata.ownerReferences[${i}]`;
    if (!ref.apiVersion)
      causes.push(invalid(`${p}.apiVersion`, ref.apiVersion ?? '', 'version must not be empty'));
    if (!ref.kind) causes.push(invalid(`${p}.kind`, ref.kind ?? '', 'kind must not be empty'));
    if (!ref.name) causes.push(invalid(`${p}.name`, ref.name ?? '', 'name must not be empty'));
    if (!ref.uid) causes.push(invalid(`${p}.uid`, ref.uid ?? '', 'uid must not be empty'));
  });
  const controllers = (meta.ownerReferences ?? []).filter((r) => r.controller);
  if (controllers.length > 1) {
    causes.push(
      invalid(
        'metadata.ownerReferences',
        meta.ownerReferences,
        `Only one reference can have Controller set to true. Found "true" in references for ${controllers.map((r) => `${r.kind}/${r.name}`).join(' and ')}`,
      ),
    );
  }
  (meta.finalizers ?? []).forEach((f, i) => {
    for (const m of isQualifiedName(f)) causes.push(invalid(`metadata.finalizers[${i}]`, f, m));
  });
  return causes;
}

/** ValidateObjectMetaUpdate: identity fields never change. */
export function validateObjectMetaUpdate(obj: KubeObject, old: KubeObject): StatusCause[] {
  const m = obj.metadata ?? {};
  const o = old.metadata ?? {};
  const causes: StatusCause[] = [];
  causes.push(...immutable('metadata.name', m.name, o.name));
  causes.push(...immutable('metadata.namespace', m.namespace ?? '', o.namespace ?? ''));
  if (m.uid && o.uid) causes.push(...immutable('metadata.uid', m.uid, o.uid));
  if (m.creationTimestamp && o.creationTimestamp) {
    causes.push(...immutable('metadata.creationTimestamp', m.creationTimestamp, o.creationTimestamp));
  }
  return causes;
}

const SELECTOR_OPS = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** ValidateLabelSelector: keys, values and operators. */
export function validateLabelSelector(sel: unknown, path: string): StatusCause[] {
  if (!sel || typeof sel !== 'object') return [];
  const s = sel as LabelSelector;
  const causes: StatusCause[] = [];
  (s.matchExpressions ?? []).forEach((e, i) => {
    const p = `${path}.matchExpressions[${i}]`;
    if (!SELECTOR_OPS.includes(e.operator)) {
      causes.push(invalid(`${p}.operator`, e.operator, 'not a valid selector operator'));
    } else if ((e.operator === 'In' || e.operator === 'NotIn') && !e.values?.length) {
      causes.push(required(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
    } else if ((e.operator === 'Exists' || e.operator === 'DoesNotExist') && e.values?.length) {
      causes.push(
        forbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"),
      );
    }
    for (const m of isQualifiedName(e.key ?? '')) causes.push(invalid(`${p}.key`, e.key, m));
  });
  causes.push(...validateLabels(s.matchLabels, `${path}.matchLabels`));
  return causes;
}

/** Does the label selector match these labels? */
export function selectorMatches(sel: unknown, labels: Record<string, string> = {}): boolean {
  if (!sel || typeof sel !== 'object') return false;
  const s = sel as LabelSelector;
  for (const [k, v] of Object.entries(s.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of s.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const inValues = has && (e.values ?? []).includes(labels[e.key]);
    if (e.operator === 'In' && !inValues) return false;
    if (e.operator === 'NotIn' && inValues) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

export function isEmptySelector(sel: unknown): boolean {
  const s = (sel ?? {}) as LabelSelector;
  return Object.keys(s.matchLabels ?? {}).length === 0 && (s.matchExpressions ?? []).length === 0;
}

/** Go's %#v of a LabelSelector, as Kubernetes prints it in `field is immutable` errors. */
export function formatSelector(sel: unknown): string {
  const s = (sel ?? {}) as LabelSelector;
  const labels = s.matchLabels ? formatValue(s.matchLabels) : 'map[string]string(nil)';
  const exprs = s.matchExpressions?.length
    ? `[]v1.LabelSelectorRequirement{${s.matchExpressions
        .map(
          (e) =>
            `v1.LabelSelectorRequirement{Key:${JSON.stringify(e.key)}, Operator:${JSON.stringify(e.operator)}, Values:${formatValue(e.values ?? [])}}`,
        )
        .join(', ')}}`
    : '[]v1.LabelSelectorRequirement(nil)';
  return `v1.LabelSelector{MatchLabels:${labels}, MatchExpressions:${exprs}}`;
}

/** Checks a value is one of a fixed set (enum fields). */
export function oneOf(path: string, value: unknown, allowed: readonly string[]): StatusCause[] {
  if (value === undefined || value === null) return [];
  return allowed.includes(value as string) ? [] : [notSupported(path, value, allowed)];
}
