/**
 * Schemas of the create-only kinds of authorization.k8s.io/v1 and authentication.k8s.io/v1:
 * access reviews, rules reviews, token reviews, SelfSubjectReview and TokenRequest (the body of
 * `serviceaccounts/{name}/token`). They have no lists: nothing of them is stored.
 */
import type { Schema } from '../resource.ts';
import { arr, bool, int64, kind, LABEL_SELECTOR, map, obj, ref, str, strArr, time } from './dsl.ts';

const AZ = 'io.k8s.api.authorization.v1.';
const AN = 'io.k8s.api.authentication.v1.';
const az = (k: string) => ({ group: 'authorization.k8s.io', version: 'v1', kind: k });
const an = (k: string) => ({ group: 'authentication.k8s.io', version: 'v1', kind: k });
const extra = () => map(strArr('Values.'), 'Further attributes of the user, as the authenticator gave them.');

function authorization(): Record<string, Schema> {
  const sarStatus = ref(`${AZ}SubjectAccessReviewStatus`, 'The answer, filled by the server.');
  return {
    [`${AZ}SubjectAccessReview`]: kind(
      az('SubjectAccessReview'),
      'Asks whether a user or group may do something.',
      {
        spec: ref(`${AZ}SubjectAccessReviewSpec`, 'The request to check.'),
        status: sarStatus,
      },
      ['spec'],
    ),
    [`${AZ}LocalSubjectAccessReview`]: kind(
      az('LocalSubjectAccessReview'),
      'Asks whether a user or group may do something in one namespace.',
      {
        spec: ref(`${AZ}SubjectAccessReviewSpec`, 'The request to check; its namespace must be this one.'),
        status: sarStatus,
      },
      ['spec'],
    ),
    [`${AZ}SelfSubjectAccessReview`]: kind(
      az('SelfSubjectAccessReview'),
      'Asks whether the calling user may do something.',
      { spec: ref(`${AZ}SelfSubjectAccessReviewSpec`, 'The action to check.'), status: sarStatus },
      ['spec'],
    ),
    [`${AZ}SelfSubjectRulesReview`]: kind(
      az('SelfSubjectRulesReview'),
      'Lists what the calling user may do in a namespace.',
      {
        spec: ref(`${AZ}SelfSubjectRulesReviewSpec`, 'The namespace to list.'),
        status: ref(`${AZ}SubjectRulesReviewStatus`, 'The rules, filled by the server.'),
      },
      ['spec'],
    ),
    [`${AZ}SubjectAccessReviewSpec`]: obj(
      'A user and an action; exactly one of resourceAttributes and nonResourceAttributes.',
      {
        extra: extra(),
        groups: strArr('The groups of the user.'),
        nonResourceAttributes: ref(`${AZ}NonResourceAttributes`, 'A request to a non-resource path.'),
        resourceAttributes: ref(`${AZ}ResourceAttributes`, 'A request on a resource.'),
        uid: str('The uid of the user.'),
        user: str('The user; at least one of user and groups.'),
      },
    ),
    [`${AZ}SelfSubjectAccessReviewSpec`]: obj(
      'An action; exactly one of resourceAttributes and nonResourceAttributes.',
      {
        nonResourceAttributes: ref(`${AZ}NonResourceAttributes`, 'A request to a non-resource path.'),
        resourceAttributes: ref(`${AZ}ResourceAttributes`, 'A request on a resource.'),
      },
    ),
    [`${AZ}ResourceAttributes`]: obj('A request on a resource, as the authorizer sees it.', {
      fieldSelector: ref(`${AZ}FieldSelectorAttributes`, 'The field selector of a list or watch.'),
      group: str('The API group; `*` for all.'),
      labelSelector: ref(`${AZ}LabelSelectorAttributes`, 'The label selector of a list or watch.'),
      name: str('The object name; empty for all.'),
      namespace: str('The namespace; empty for all (or for cluster-scoped resources).'),
      resource: str('The resource; `*` for all.'),
      subresource: str('The subresource; empty for none.'),
      verb: str('The verb: get, list, create, update, delete, watch, ... `*` for all.'),
      version: str('The API version; `*` for all.'),
    }),
    [`${AZ}FieldSelectorAttributes`]: obj('A field selector, raw or parsed.', {
      rawSelector: str('The selector as in a query string.'),
      requirements: arr(ref(`${AZ}FieldSelectorRequirement`), 'The parsed requirements.', {
        listType: 'atomic',
      }),
    }),
    [`${AZ}FieldSelectorRequirement`]: obj(
      'A field requirement.',
      {
        key: str('The field.'),
        operator: str('In, NotIn, Exists or DoesNotExist.'),
        values: strArr('Values.'),
      },
      { required: ['key', 'operator'] },
    ),
    [`${AZ}LabelSelectorAttributes`]: obj('A label selector, raw or parsed.', {
      rawSelector: str('The selector as in a query string.'),
      requirements: arr(ref(`${LABEL_SELECTOR}Requirement`), 'The parsed requirements.', {
        listType: 'atomic',
      }),
    }),
    [`${AZ}NonResourceAttributes`]: obj('A request to a path that is not a resource.', {
      path: str('The URL path.'),
      verb: str('The HTTP verb, lower case.'),
    }),
    [`${AZ}SubjectAccessReviewStatus`]: obj(
      'The answer to an access review.',
      {
        allowed: bool('Whether the action is allowed.'),
        denied: bool('Whether the action is denied outright, so no other authorizer is asked.'),
        evaluationError: str('What went wrong while checking, if anything.'),
        reason: str('Why, for people.'),
      },
      { required: ['allowed'] },
    ),
    [`${AZ}SelfSubjectRulesReviewSpec`]: obj('Which namespace to list rules for.', {
      namespace: str('The namespace.'),
    }),
    [`${AZ}SubjectRulesReviewStatus`]: obj(
      'What a user may do in a namespace; possibly incomplete.',
      {
        evaluationError: str('What went wrong while listing, if anything.'),
        incomplete: bool('True when some authorizer cannot list its rules.'),
        nonResourceRules: arr(ref(`${AZ}NonResourceRule`), 'Rules on non-resource paths.', {
          listType: 'atomic',
        }),
        resourceRules: arr(ref(`${AZ}ResourceRule`), 'Rules on resources.', { listType: 'atomic' }),
      },
      { required: ['resourceRules', 'nonResourceRules', 'incomplete'] },
    ),
    [`${AZ}ResourceRule`]: obj(
      'Verbs allowed on some resources.',
      {
        apiGroups: strArr('API groups; `*` for all.'),
        resourceNames: strArr('Object names; empty for all.'),
        resources: strArr('Resources; `*` for all.'),
        verbs: strArr('Verbs; `*` for all.'),
      },
      { required: ['verbs'] },
    ),
    [`${AZ}NonResourceRule`]: obj(
      'Verbs allowed on some non-resource paths.',
      {
        nonResourceURLs: strArr('Paths; a trailing `*` is a prefix match.'),
        verbs: strArr('Verbs; `*` for all.'),
      },
      { required: ['verbs'] },
    ),
  };
}

function authentication(): Record<string, Schema> {
  return {
    [`${AN}TokenReview`]: kind(
      an('TokenReview'),
      'Asks who a bearer token belongs to.',
      {
        spec: ref(`${AN}TokenReviewSpec`, 'The token.'),
        status: ref(`${AN}TokenReviewStatus`, 'The answer, filled by the server.'),
      },
      ['spec'],
    ),
    [`${AN}TokenReviewSpec`]: obj('A token to check.', {
      audiences: strArr("Audiences the token must be valid for; the server's own when empty."),
      token: str('The bearer token.'),
    }),
    [`${AN}TokenReviewStatus`]: obj('Who a token belongs to.', {
      audiences: strArr('The audiences the token is valid for.'),
      authenticated: bool('Whether the token is valid.'),
      error: str('Why the token could not be checked.'),
      user: ref(`${AN}UserInfo`, 'The user the token belongs to.'),
    }),
    [`${AN}UserInfo`]: obj('A user, as an authenticator knows it.', {
      extra: extra(),
      groups: strArr('Its groups.'),
      uid: str('A unique value that identifies the user over time.'),
      username: str('Its name.'),
    }),
    [`${AN}SelfSubjectReview`]: kind(an('SelfSubjectReview'), 'Asks who the calling user is.', {
      status: ref(`${AN}SelfSubjectReviewStatus`, 'The answer, filled by the server.'),
    }),
    [`${AN}SelfSubjectReviewStatus`]: obj('The calling user.', {
      userInfo: ref(`${AN}UserInfo`, 'The user attributes.'),
    }),
    [`${AN}TokenRequest`]: kind(
      an('TokenRequest'),
      'Asks for a token for a service account.',
      {
        spec: ref(`${AN}TokenRequestSpec`, 'The token wanted.'),
        status: ref(`${AN}TokenRequestStatus`, 'The token, filled by the server.'),
      },
      ['spec'],
    ),
    [`${AN}TokenRequestSpec`]: obj(
      'The token wanted.',
      {
        audiences: strArr("Audiences the token is for; the API server's own when empty."),
        boundObjectRef: ref(
          `${AN}BoundObjectReference`,
          'An object (Pod, Secret or Node) whose deletion ends the token.',
        ),
        expirationSeconds: int64('How long the token lasts; at least 600, 3600 by default.'),
      },
      { required: ['audiences'] },
    ),
    [`${AN}BoundObjectReference`]: obj('An object a token is bound to.', {
      apiVersion: str('Its API version.'),
      kind: str('Pod, Secret or Node.'),
      name: str('Its name.'),
      uid: str('Its uid.'),
    }),
    [`${AN}TokenRequestStatus`]: obj(
      'An issued token.',
      {
        expirationTimestamp: time('When the token expires.'),
        token: str('The token.'),
      },
      { required: ['token', 'expirationTimestamp'] },
    ),
  };
}

export function authSchemas(): Record<string, Schema> {
  return { ...authorization(), ...authentication() };
}
