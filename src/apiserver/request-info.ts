/**
 * What a resource URL names, as Kubernetes' RequestInfo parses it:
 *   /api/v1/namespaces/{ns}/{resource}/{name}/{subresource}
 *   /apis/{group}/{version}/{resource}/{name}/{subresource}
 * `namespaces/{name}/status` and `namespaces/{name}/finalize` name the namespace itself.
 */
export interface RequestInfo {
  group: string;
  version: string;
  namespace?: string;
  resource?: string;
  name?: string;
  subresource?: string;
}

export function parseResourcePath(path: string): RequestInfo | undefined {
  const parts = path
    .split('/')
    .filter((p) => p !== '')
    .map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 2) {
    group = '';
    version = parts[1];
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    group = parts[1];
    version = parts[2];
    rest = parts.slice(3);
  } else return undefined;
  const info: RequestInfo = { group, version };
  if (rest.length === 0) return info;
  if (rest[0] === 'namespaces' && rest.length >= 2) {
    if (rest.length === 2 || (rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'))) {
      info.resource = 'namespaces';
      info.name = rest[1];
      info.subresource = rest[2];
      return info;
    }
    info.namespace = rest[1];
    rest = rest.slice(2);
  }
  [info.resource, info.name, info.subresource] = rest;
  if (rest.length > 3) return undefined;
  return info;
}
