/**
 * The create-only kinds (`virtual: true`): authorization.k8s.io/v1 access and rules reviews,
 * authentication.k8s.io/v1 TokenReview and SelfSubjectReview. The API server validates the
 * request, fills `status` and returns it without storing anything. TokenRequest, the body of
 * `serviceaccounts/{name}/token`, is not a resource; its defaulting and checks are exported.
 */

import { child, dflt } from '../defaults/pod.ts';
import type { StatusCause } from '../errors.ts';
import type { KubeObject } from '../resource.ts';
import { invalid, required } from '../validation/causes.ts';
import { defineKind } from './define.ts';

type Json = Record<string, any>;

const AZ = 'authorization.k8s.io';
const AN = 'authentication.k8s.io';
const spec = (o: KubeObject) => (o.spec ?? {}) as Json;

/** ValidateSubjectAccessReviewSpec: exactly one of resource and non-resource attributes. */
function validateAttributes(s: Json): StatusCause[] {
  const causes: StatusCause[] = [];
  if (s.resourceAttributes && s.nonResourceAttributes) {
    causes.push(
      invalid(
        'spec.nonResourceAttributes',
        s.nonResourceAttributes,
        'cannot be specified in combination with resourceAttributes',
      ),
    );
  }
  if (!s.resourceAttributes && !s.nonResourceAttributes) {
    causes.push(
      invalid(
        'spec.resourceAttributes',
        null,
        'exactly one of nonResourceAttributes or resourceAttributes must be specified',
      ),
    );
  }
  return causes;
}

function validateSubject(s: Json): StatusCause[] {
  const causes = validateAttributes(s);
  if (!s.user && !s.groups?.length) {
    causes.push(invalid('spec.user', s.user ?? '', 'at least one of user or group must be specified'));
  }
  return causes;
}

const review = (group: string, kind: string, plural: string, namespaced = false) => ({
  group,
  version: 'v1',
  kind,
  plural,
  namespaced,
  virtual: true,
});

export const subjectAccessReview = defineKind({
  ...review(AZ, 'SubjectAccessReview', 'subjectaccessreviews'),
  validate: (o) => validateSubject(spec(o)),
});

export const localSubjectAccessReview = defineKind({
  ...review(AZ, 'LocalSubjectAccessReview', 'localsubjectaccessreviews', true),
  validate(o) {
    const s = spec(o);
    const causes = validateSubject(s);
    const ns = o.metadata?.namespace ?? '';
    if (s.resourceAttributes && (s.resourceAttributes.namespace ?? '') !== ns) {
      causes.push(
        invalid(
          'spec.resourceAttributes.namespace',
          s.resourceAttributes.namespace ?? '',
          'must match metadata.namespace',
        ),
      );
    }
    if (s.nonResourceAttributes) {
      causes.push(
        invalid('spec.nonResourceAttributes', s.nonResourceAttributes, 'disallowed on this kind of request'),
      );
    }
    return causes;
  },
});

export const selfSubjectAccessReview = defineKind({
  ...review(AZ, 'SelfSubjectAccessReview', 'selfsubjectaccessreviews'),
  validate: (o) => validateAttributes(spec(o)),
});

export const selfSubjectRulesReview = defineKind({
  ...review(AZ, 'SelfSubjectRulesReview', 'selfsubjectrulesreviews'),
});

export const tokenReview = defineKind({
  ...review(AN, 'TokenReview', 'tokenreviews'),
  // Upstream answers a missing token with 400 "token is required for TokenReview in authentication".
  validate: (o) => (spec(o).token ? [] : [required('spec.token')]),
});

export const selfSubjectReview = defineKind({
  ...review(AN, 'SelfSubjectReview', 'selfsubjectreviews'),
});

/** TokenRequest defaults: a token lasts an hour unless asked otherwise. */
export function defaultTokenRequest(obj: KubeObject): void {
  dflt(child(obj, 'spec'), 'expirationSeconds', 3600);
}

/** ValidateTokenRequest: between 10 minutes and 2^32 seconds. */
export function validateTokenRequest(obj: KubeObject): StatusCause[] {
  const exp = spec(obj).expirationSeconds;
  if (typeof exp !== 'number') return [];
  if (exp < 600)
    return [invalid('spec.expirationSeconds', exp, 'may not specify a duration less than 10 minutes')];
  if (exp > 2 ** 32)
    return [invalid('spec.expirationSeconds', exp, 'may not specify a duration larger than 2^32 seconds')];
  return [];
}
