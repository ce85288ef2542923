/** Validation of PodSpec and PodTemplateSpec (the parts Skiff uses), as core/validation words it. */
import type { StatusCause } from '../errors.ts';
import {
  deepEqual,
  duplicate,
  forbidden,
  invalid,
  nonNegative,
  notFoundValue,
  portRange,
  required,
} from './causes.ts';
import { oneOf, validateAnnotations, validateLabels } from './meta.ts';
import { isDNS1123Label, isEnvVarName, isValidPortName } from './names.ts';

type Json = Record<string, any>;

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const TERMINATION_MESSAGE_POLICIES = ['File', 'FallbackToLogsOnError'];

function validateContainers(
  list: Json[],
  path: string,
  volumes: Set<string>,
  names: Set<string>,
): StatusCause[] {
  const causes: StatusCause[] = [];
  list.forEach((ctr, i) => {
    const p = `${path}[${i}]`;
    if (!ctr.name) causes.push(required(`${p}.name`));
    else {
      for (const m of isDNS1123Label(ctr.name)) causes.push(invalid(`${p}.name`, ctr.name, m));
      if (names.has(ctr.name)) causes.push(duplicate(`${p}.name`, ctr.name));
      names.add(ctr.name);
    }
    if (!ctr.image) causes.push(required(`${p}.image`));
    causes.push(...oneOf(`${p}.imagePullPolicy`, ctr.imagePullPolicy, PULL_POLICIES));
    causes.push(
      ...oneOf(`${p}.terminationMessagePolicy`, ctr.terminationMessagePolicy, TERMINATION_MESSAGE_POLICIES),
    );
    const portNames = new Set<string>();
    (ctr.ports ?? []).forEach((port: Json, j: number) => {
      const pp = `${p}.ports[${j}]`;
      if (port.name) {
        for (const m of isValidPortName(port.name)) causes.push(invalid(`${pp}.name`, port.name, m));
        if (portNames.has(port.name)) causes.push(duplicate(`${pp}.name`, port.name));
        portNames.add(port.name);
      }
      if (port.containerPort === undefined || port.containerPort === 0)
        causes.push(required(`${pp}.containerPort`));
      else causes.push(...portRange(`${pp}.containerPort`, port.containerPort));
      if (port.hostPort) causes.push(...portRange(`${pp}.hostPort`, port.hostPort));
      if (!port.protocol) causes.push(required(`${pp}.protocol`));
      else causes.push(...oneOf(`${pp}.protocol`, port.protocol, PROTOCOLS));
    });
    (ctr.env ?? []).forEach((env: Json, j: number) => {
      const ep = `${p}.env[${j}]`;
      if (!env.name) causes.push(required(`${ep}.name`));
      else for (const m of isEnvVarName(env.name)) causes.push(invalid(`${ep}.name`, env.name, m));
      if (env.value && env.valueFrom) {
        causes.push(invalid(`${ep}.valueFrom`, '', 'may not be specified when `value` is not empty'));
      }
    });
    const mountPaths = new Set<string>();
    (ctr.volumeMounts ?? []).forEach((mnt: Json, j: number) => {
      const mp = `${p}.volumeMounts[${j}]`;
      if (!mnt.name) causes.push(required(`${mp}.name`));
      else if (!volumes.has(mnt.name)) causes.push(notFoundValue(`${mp}.name`, mnt.name));
      if (!mnt.mountPath) causes.push(required(`${mp}.mountPath`));
      else {
        if (mountPaths.has(mnt.mountPath))
          causes.push(invalid(`${mp}.mountPath`, mnt.mountPath, 'must be unique'));
        mountPaths.add(mnt.mountPath);
      }
    });
    for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
      const pr = ctr[probe];
      if (!pr) continue;
      for (const f of [
        'initialDelaySeconds',
        'timeoutSeconds',
        'periodSeconds',
        'successThreshold',
        'failureThreshold',
      ]) {
        causes.push(...nonNegative(`${p}.${probe}.${f}`, pr[f]));
      }
      const handlers = ['exec', 'httpGet', 'tcpSocket', 'grpc'].filter((h) => pr[h]);
      if (handlers.length === 0) causes.push(required(`${p}.${probe}`, 'must specify a handler type'));
      else if (handlers.length > 1)
        causes.push(forbidden(`${p}.${probe}.${handlers[1]}`, 'may not specify more than 1 handler type'));
    }
  });
  return causes;
}

const VOLUME_SOURCES = [
  'hostPath',
  'emptyDir',
  'secret',
  'configMap',
  'persistentVolumeClaim',
  'projected',
  'downwardAPI',
  'nfs',
  'csi',
  'ephemeral',
];

function validateVolumes(volumes: Json[], path: string): { causes: StatusCause[]; names: Set<string> } {
  const causes: StatusCause[] = [];
  const names = new Set<string>();
  volumes.forEach((v, i) => {
    const p = `${path}[${i}]`;
    if (!v.name) causes.push(required(`${p}.name`));
    else {
      for (const m of isDNS1123Label(v.name)) causes.push(invalid(`${p}.name`, v.name, m));
      if (names.has(v.name)) causes.push(duplicate(`${p}.name`, v.name));
      names.add(v.name);
    }
    const sources = VOLUME_SOURCES.filter((s) => v[s] !== undefined && v[s] !== null);
    if (sources.length === 0) causes.push(required(p, 'must specify a volume type'));
    else if (sources.length > 1)
      causes.push(forbidden(`${p}.${sources[1]}`, 'may not specify more than 1 volume type'));
    if (v.hostPath && !v.hostPath.path) causes.push(required(`${p}.hostPath.path`));
    if (v.persistentVolumeClaim && !v.persistentVolumeClaim.claimName) {
      causes.push(required(`${p}.persistentVolumeClaim.claimName`));
    }
    if (v.secret && !v.secret.secretName) causes.push(required(`${p}.secret.secretName`));
    if (v.configMap && !v.configMap.name) causes.push(required(`${p}.configMap.name`));
  });
  return { causes, names };
}

export function validatePodSpec(spec: Json | undefined, path: string): StatusCause[] {
  if (!spec) return [required(path)];
  const causes: StatusCause[] = [];
  const vol = validateVolumes(spec.volumes ?? [], `${path}.volumes`);
  causes.push(...vol.causes);
  const containerNames = new Set<string>();
  if (!Array.isArray(spec.containers) || spec.containers.length === 0)
    causes.push(required(`${path}.containers`));
  else causes.push(...validateContainers(spec.containers, `${path}.containers`, vol.names, containerNames));
  causes.push(
    ...validateContainers(spec.initContainers ?? [], `${path}.initContainers`, vol.names, containerNames),
  );
  if (spec.restartPolicy === undefined || spec.restartPolicy === '')
    causes.push(required(`${path}.restartPolicy`));
  else causes.push(...oneOf(`${path}.restartPolicy`, spec.restartPolicy, RESTART_POLICIES));
  if (spec.dnsPolicy !== undefined) causes.push(...oneOf(`${path}.dnsPolicy`, spec.dnsPolicy, DNS_POLICIES));
  if (spec.dnsPolicy === 'None' && !spec.dnsConfig) {
    causes.push(required(`${path}.dnsConfig`, 'must provide `dnsConfig` when `dnsPolicy` is None'));
  }
  if (typeof spec.activeDeadlineSeconds === 'number' && spec.activeDeadlineSeconds <= 0) {
    causes.push(
      invalid(
        `${path}.activeDeadlineSeconds`,
        spec.activeDeadlineSeconds,
        'must be between 1 and 2147483647, inclusive',
      ),
    );
  }
  causes.push(...nonNegative(`${path}.terminationGracePeriodSeconds`, spec.terminationGracePeriodSeconds));
  if (spec.nodeSelector) causes.push(...validateLabels(spec.nodeSelector, `${path}.nodeSelector`));
  if (spec.serviceAccountName) {
    for (const m of isDNS1123Label(spec.serviceAccountName)) {
      // Service account names are DNS subdomains upstream; a label is the common case.
      if (spec.serviceAccountName.includes('.')) break;
      causes.push(invalid(`${path}.serviceAccountName`, spec.serviceAccountName, m));
    }
  }
  if (spec.hostname)
    for (const m of isDNS1123Label(spec.hostname)) causes.push(invalid(`${path}.hostname`, spec.hostname, m));
  if (spec.subdomain)
    for (const m of isDNS1123Label(spec.subdomain))
      causes.push(invalid(`${path}.subdomain`, spec.subdomain, m));
  (spec.tolerations ?? []).forEach((t: Json, i: number) => {
    const p = `${path}.tolerations[${i}]`;
    causes.push(...oneOf(`${p}.operator`, t.operator, ['Equal', 'Exists']));
    if (t.operator === 'Exists' && t.value)
      causes.push(invalid(`${p}.operator`, t.value, "value must be empty when `operator` is 'Exists'"));
    if (!t.key && t.operator !== 'Exists')
      causes.push(
        invalid(
          `${p}.operator`,
          t.operator ?? '',
          'operator must be Exists when `key` is empty, which means "match all values and all keys"',
        ),
      );
    if (t.effect)
      causes.push(...oneOf(`${p}.effect`, t.effect, ['NoSchedule', 'PreferNoSchedule', 'NoExecute']));
  });
  return causes;
}

/** ValidatePodTemplateSpec: labels and annotations of the template, then its pod spec. */
export function validatePodTemplate(tpl: Json | undefined, path: string): StatusCause[] {
  if (!tpl) return [required(path)];
  return [
    ...validateLabels(tpl.metadata?.labels, `${path}.metadata.labels`),
    ...validateAnnotations(tpl.metadata?.annotations, `${path}.metadata.annotations`),
    ...validatePodSpec(tpl.spec, `${path}.spec`),
  ];
}

const POD_UPDATE_MESSAGE =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

/** ValidatePodUpdate's spec rule: only images, activeDeadlineSeconds and added tolerations may change. */
export function validatePodSpecUpdate(spec: Json = {}, old: Json = {}): StatusCause[] {
  const causes: StatusCause[] = [];
  const a = structuredClone(spec);
  const b = structuredClone(old);
  for (const key of ['containers', 'initContainers']) {
    const olds: Json[] = b[key] ?? [];
    (a[key] ?? []).forEach((c: Json, i: number) => {
      if (olds[i]) c.image = olds[i].image;
    });
  }
  if (typeof old.activeDeadlineSeconds === 'number' && typeof spec.activeDeadlineSeconds === 'number') {
    if (spec.activeDeadlineSeconds > old.activeDeadlineSeconds) {
      causes.push(
        invalid(
          'spec.activeDeadlineSeconds',
          spec.activeDeadlineSeconds,
          'must be less than or equal to previous value',
        ),
      );
    }
  } else if (old.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds === undefined) {
    causes.push(
      invalid('spec.activeDeadlineSeconds', null, 'must not update from a positive integer to nil value'),
    );
  }
  a.activeDeadlineSeconds = b.activeDeadlineSeconds;
  const oldTols: Json[] = b.tolerations ?? [];
  const newTols: Json[] = a.tolerations ?? [];
  if (oldTols.every((t) => newTols.some((n) => deepEqual(n, t)))) a.tolerations = b.tolerations;
  if (
    typeof old.terminationGracePeriodSeconds === 'number' &&
    old.terminationGracePeriodSeconds < 0 &&
    spec.terminationGracePeriodSeconds === 1
  ) {
    a.terminationGracePeriodSeconds = b.terminationGracePeriodSeconds;
  }
  // spec.nodeName is set only by the pods/binding subresource, which writes through the
  // store directly; a plain update may not set or change it.
  if (!deepEqual(a, b)) causes.push(forbidden('spec', POD_UPDATE_MESSAGE));
  return causes;
}
