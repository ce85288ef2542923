/** Checks the controller kinds share: selector against template, replicas, immutable selector. */
import type { StatusCause } from '../errors.ts';
import {
  deepEqual,
  invalid,
  invalidFormatted,
  nonNegative,
  notSupported,
  required,
} from '../validation/causes.ts';
import {
  formatSelector,
  isEmptySelector,
  selectorMatches,
  validateLabelSelector,
} from '../validation/meta.ts';
import { validatePodTemplate } from '../validation/pod.ts';

type Json = Record<string, any>;

/**
 * ValidateDeploymentSpec-style checks: a non-empty selector that selects the template's
 * labels, a valid template, and (for long-running workloads) restartPolicy Always.
 */
export function validateSelectorAndTemplate(
  spec: Json,
  opts: { kind: string; templateRequired?: boolean; restartAlways?: boolean },
): StatusCause[] {
  const causes: StatusCause[] = [];
  if (!spec.selector) causes.push(required('spec.selector'));
  else {
    causes.push(...validateLabelSelector(spec.selector, 'spec.selector'));
    if (isEmptySelector(spec.selector)) {
      causes.push(
        invalidFormatted(
          'spec.selector',
          formatSelector(spec.selector),
          `empty selector is invalid for ${opts.kind}`,
        ),
      );
    }
  }
  const tpl = spec.template;
  if (!tpl) {
    if (opts.templateRequired !== false) causes.push(required('spec.template'));
    return causes;
  }
  const labels = tpl.metadata?.labels ?? {};
  if (spec.selector && !isEmptySelector(spec.selector) && !selectorMatches(spec.selector, labels)) {
    causes.push(
      invalid('spec.template.metadata.labels', labels, '`selector` does not match template `labels`'),
    );
  }
  causes.push(...validatePodTemplate(tpl, 'spec.template'));
  if (opts.restartAlways && tpl.spec?.restartPolicy && tpl.spec.restartPolicy !== 'Always') {
    causes.push(notSupported('spec.template.spec.restartPolicy', tpl.spec.restartPolicy, ['Always']));
  }
  if (tpl.spec?.activeDeadlineSeconds !== undefined && opts.restartAlways) {
    causes.push(
      invalid(
        'spec.template.spec.activeDeadlineSeconds',
        tpl.spec.activeDeadlineSeconds,
        'activeDeadlineSeconds in ReplicaSet is not Supported',
      ),
    );
  }
  return causes;
}

export function validateReplicas(spec: Json): StatusCause[] {
  return [
    ...nonNegative('spec.replicas', spec.replicas),
    ...nonNegative('spec.minReadySeconds', spec.minReadySeconds),
  ];
}

export function immutableSelector(spec: Json = {}, old: Json = {}): StatusCause[] {
  if (deepEqual(spec.selector, old.selector)) return [];
  return [invalidFormatted('spec.selector', formatSelector(spec.selector), 'field is immutable')];
}

/** An int-or-string that must be a non-negative integer or a percentage. */
export function intOrPercent(path: string, v: unknown): StatusCause[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'number') return nonNegative(path, v);
  if (typeof v === 'string') {
    const m = /^(\d+)%$/.exec(v);
    if (!m)
      return [
        invalid(
          path,
          v,
          "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
        ),
      ];
    if (Number(m[1]) > 100) return [invalid(path, v, 'must not be greater than 100%')];
    return [];
  }
  return [invalid(path, v, 'must be an integer or percentage (e.g 5 or 5%)')];
}

/** Resolves an int-or-string against a total (percentages round up when `roundUp`). */
export function scaledValue(v: unknown, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.endsWith('%')) {
    const x = (Number(v.slice(0, -1)) * total) / 100;
    return roundUp ? Math.ceil(x) : Math.floor(x);
  }
  return 0;
}
