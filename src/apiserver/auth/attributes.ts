/**
 * What an authorizer decides on: who asks (`User`) to do what (`Attributes`), as Kubernetes'
 * authorizer.Attributes. A resource request names a verb, API group, resource, optional
 * subresource, namespace and name; a non-resource request names a path (`/version`, `/api`).
 */
import { StatusError } from '../../api/errors.ts';
import type { User } from '../context.ts';
import type { RequestInfo } from '../request-info.ts';

export interface ResourceAttributes {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export interface NonResourceAttributes {
  verb: string;
  path: string;
}

export type Attributes = ResourceAttributes | NonResourceAttributes;

export const isResource = (a: Attributes): a is ResourceAttributes => 'resource' in a;

export const MASTERS = 'system:masters';
export const AUTHENTICATED = 'system:authenticated';

export function isMaster(user: User): boolean {
  return user.groups.includes(MASTERS);
}

/** The groups a user is matched with: its own plus system:authenticated, as every authenticator adds. */
export function effectiveGroups(user: User): string[] {
  return user.groups.includes(AUTHENTICATED) ? user.groups : [...user.groups, AUTHENTICATED];
}

/** The verb of a resource request, from the method and whether it names one object (RequestInfoFactory). */
export function resourceVerb(method: string, info: RequestInfo, watching: boolean): string {
  switch (method) {
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return info.name ? 'delete' : 'deletecollection';
    default:
      if (watching) return 'watch';
      return info.name ? 'get' : 'list';
  }
}

export function requestAttributes(
  method: string,
  info: RequestInfo,
  query: URLSearchParams,
): ResourceAttributes {
  const watching = ['1', 'true'].includes(query.get('watch') ?? '');
  return {
    verb: resourceVerb(method, info, watching),
    group: info.group,
    resource: info.resource ?? '',
    subresource: info.subresource,
    namespace: info.resource === 'namespaces' && info.name && !info.namespace ? info.name : info.namespace,
    name: info.name,
  };
}

export function nonResourceAttributes(method: string, path: string): NonResourceAttributes {
  return { verb: method.toLowerCase(), path };
}

/** The 403 Kubernetes answers, worded byte for byte like its forbidden responder. */
export function forbidden(user: User, a: Attributes, reason = ''): StatusError {
  const tail = reason ? `: ${reason}` : '';
  if (!isResource(a)) {
    return new StatusError(
      'Forbidden',
      `forbidden: User "${user.name}" cannot ${a.verb} path "${a.path}"${tail}`,
    );
  }
  const full = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  // The object is named by group-qualified resource without subresource, as errors.NewForbidden does.
  const qualified = a.group ? `${a.resource}.${a.group}` : a.resource;
  const subject = a.name ? `${qualified} "${a.name}"` : qualified;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  return new StatusError(
    'Forbidden',
    `${subject} is forbidden: User "${user.name}" cannot ${a.verb} resource "${full}" in API group "${a.group}" ${scope}${tail}`,
    { name: a.name, group: a.group, kind: a.resource },
  );
}

/** The authorizer contract: allowed or not, and a reason either way (SubjectAccessReview's status). */
export interface Decision {
  allowed: boolean;
  reason: string;
}

export interface Authorizer {
  authorize(user: User, a: Attributes): Promise<Decision>;
}
