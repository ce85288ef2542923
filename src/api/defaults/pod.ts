/** Pod defaulting as Kubernetes' core/v1 defaulters do it. */
type Json = Record<string, any>;

/** Sets `obj[key] = value` when the field is absent. */
export function dflt(obj: Json, key: string, value: unknown): void {
  if (obj[key] === undefined || obj[key] === null) obj[key] = value;
}

/** `Always` for `:latest` or untagged images, `IfNotPresent` otherwise; digests count as tags. */
export function defaultPullPolicy(image: string | undefined): string {
  if (!image) return 'IfNotPresent';
  if (image.includes('@')) return 'IfNotPresent';
  const lastSlash = image.lastIndexOf('/');
  const colon = image.indexOf(':', lastSlash + 1);
  if (colon < 0) return 'Always';
  return image.slice(colon + 1) === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultProbe(p: Json | undefined): void {
  if (!p) return;
  dflt(p, 'timeoutSeconds', 1);
  dflt(p, 'periodSeconds', 10);
  dflt(p, 'successThreshold', 1);
  dflt(p, 'failureThreshold', 3);
  if (p.httpGet) {
    dflt(p.httpGet, 'path', '/');
    dflt(p.httpGet, 'scheme', 'HTTP');
  }
  if (p.grpc) dflt(p.grpc, 'service', '');
}

function defaultContainer(c: Json): void {
  dflt(c, 'imagePullPolicy', defaultPullPolicy(c.image));
  dflt(c, 'terminationMessagePath', '/dev/termination-log');
  dflt(c, 'terminationMessagePolicy', 'File');
  dflt(c, 'resources', {});
  // Limits without requests: requests default to the limits.
  if (c.resources.limits) {
    c.resources.requests ??= {};
    for (const [k, v] of Object.entries(c.resources.limits)) dflt(c.resources.requests, k, v);
  }
  for (const port of c.ports ?? []) dflt(port, 'protocol', 'TCP');
  for (const env of c.env ?? []) {
    if (env.valueFrom?.fieldRef) dflt(env.valueFrom.fieldRef, 'apiVersion', 'v1');
  }
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  for (const h of [c.lifecycle?.postStart, c.lifecycle?.preStop]) {
    if (h?.httpGet) {
      dflt(h.httpGet, 'path', '/');
      dflt(h.httpGet, 'scheme', 'HTTP');
    }
  }
}

function defaultVolume(v: Json): void {
  if (v.secret) dflt(v.secret, 'defaultMode', 0o644);
  if (v.configMap) dflt(v.configMap, 'defaultMode', 0o644);
  if (v.downwardAPI) {
    dflt(v.downwardAPI, 'defaultMode', 0o644);
    for (const f of v.downwardAPI.items ?? []) if (f.fieldRef) dflt(f.fieldRef, 'apiVersion', 'v1');
  }
  if (v.projected) {
    dflt(v.projected, 'defaultMode', 0o644);
    for (const s of v.projected.sources ?? []) {
      if (s.serviceAccountToken) dflt(s.serviceAccountToken, 'expirationSeconds', 3600);
      for (const f of s.downwardAPI?.items ?? []) if (f.fieldRef) dflt(f.fieldRef, 'apiVersion', 'v1');
    }
  }
  if (v.hostPath) dflt(v.hostPath, 'type', '');
  if (v.emptyDir === null) v.emptyDir = {};
}

export function defaultPodSpec(spec: Json): void {
  dflt(spec, 'restartPolicy', 'Always');
  dflt(spec, 'dnsPolicy', 'ClusterFirst');
  dflt(spec, 'terminationGracePeriodSeconds', 30);
  dflt(spec, 'schedulerName', 'default-scheduler');
  dflt(spec, 'securityContext', {});
  dflt(spec, 'enableServiceLinks', true);
  if (spec.serviceAccount && !spec.serviceAccountName) spec.serviceAccountName = spec.serviceAccount;
  dflt(spec, 'serviceAccountName', 'default');
  spec.serviceAccount = spec.serviceAccountName;
  dflt(spec, 'priority', 0);
  if (spec.hostNetwork) {
    // Host-network pods publish their container ports on the host.
    for (const c of spec.containers ?? [])
      for (const p of c.ports ?? []) dflt(p, 'hostPort', p.containerPort);
  }
  for (const c of spec.containers ?? []) defaultContainer(c);
  for (const c of spec.initContainers ?? []) defaultContainer(c);
  for (const c of spec.ephemeralContainers ?? []) defaultContainer(c);
  for (const v of spec.volumes ?? []) defaultVolume(v);
}

/** Defaults of a template's pod spec (controllers' pod templates). */
export function defaultPodTemplate(tpl: Json | undefined): void {
  if (!tpl) return;
  tpl.spec ??= {};
  defaultPodSpec(tpl.spec);
}

/** The QoS class the API server records at creation. */
export function qosClass(spec: Json): string {
  const containers: Json[] = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  let anySet = false;
  let guaranteed = true;
  for (const c of containers) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    if (Object.keys(req).length || Object.keys(lim).length) anySet = true;
    for (const r of ['cpu', 'memory']) {
      if (lim[r] === undefined || (req[r] !== undefined && String(req[r]) !== String(lim[r])))
        guaranteed = false;
    }
  }
  if (!anySet) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** The object at `obj[key]`, created empty when absent. */
export function child(obj: Json, key: string): Json {
  if (obj[key] === undefined || obj[key] === null) obj[key] = {};
  return obj[key];
}
