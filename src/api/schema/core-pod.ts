/** Schemas of core/v1 Pod and the types it is built from. */
import type { Schema } from '../resource.ts';
import {
  arr,
  bool,
  conditions,
  int,
  int64,
  intOrString,
  kind,
  labelSelector,
  listOf,
  OBJECT_META,
  obj,
  QUANTITY,
  quantityMap,
  ref,
  str,
  strArr,
  strMap,
  time,
} from './dsl.ts';

export const CORE = 'io.k8s.api.core.v1.';
const c = (name: string, description?: string, extra?: Partial<Schema>) =>
  ref(CORE + name, description, extra);
const gvk = (k: string) => ({ group: '', version: 'v1', kind: k });

function container(description: string): Schema {
  return obj(
    description,
    {
      args: strArr('Arguments to the entrypoint; the image CMD when empty. $(VAR) references expand.'),
      command: strArr('The entrypoint array, not run in a shell; the image ENTRYPOINT when empty.'),
      env: arr(c('EnvVar'), 'Environment variables to set in the container.', { mergeKey: 'name' }),
      envFrom: arr(c('EnvFromSource'), 'Sources whose keys become environment variables.', {
        listType: 'atomic',
      }),
      image: str('The container image name.'),
      imagePullPolicy: str(
        'Always, Never or IfNotPresent; Always for `:latest` or no tag, else IfNotPresent.',
        {
          enum: ['Always', 'IfNotPresent', 'Never'],
        },
      ),
      lifecycle: c('Lifecycle', 'Actions the system takes after start and before stop.'),
      livenessProbe: c('Probe', 'Periodic check of liveness; the container restarts when it fails.'),
      name: str('Name of the container, a DNS label unique in the pod.'),
      ports: arr(c('ContainerPort'), 'Ports exposed by the container (informational).', {
        mergeKey: 'containerPort',
        mapKeys: ['containerPort', 'protocol'],
      }),
      readinessProbe: c(
        'Probe',
        'Periodic check of readiness; the pod leaves service endpoints when it fails.',
      ),
      resizePolicy: arr(c('ContainerResizePolicy'), 'How resources are resized.', { listType: 'atomic' }),
      resources: c('ResourceRequirements', 'Compute resources the container needs.', { default: {} }),
      restartPolicy: str('For init containers only: `Always` makes it a sidecar.'),
      securityContext: c('SecurityContext', 'Security options for this container.'),
      startupProbe: c('Probe', 'Checks that the container has started; other probes wait for it.'),
      stdin: bool('Keep a stdin buffer open for the container.'),
      stdinOnce: bool('Close stdin after the first attach session.'),
      terminationMessagePath: str(
        'File whose content becomes the termination message; /dev/termination-log.',
      ),
      terminationMessagePolicy: str('File, or FallbackToLogsOnError to use the log tail.', {
        enum: ['FallbackToLogsOnError', 'File'],
      }),
      tty: bool('Allocate a TTY.'),
      volumeDevices: arr(c('VolumeDevice'), 'Block devices to expose.', { mergeKey: 'devicePath' }),
      volumeMounts: arr(c('VolumeMount'), 'Volumes to mount into the filesystem.', { mergeKey: 'mountPath' }),
      workingDir: str('Working directory; the image default when empty.'),
    },
    { required: ['name'] },
  );
}

function podSpec(): Schema {
  return obj(
    'The desired behaviour of a pod.',
    {
      activeDeadlineSeconds: int64('Seconds a pod may be active before the system fails it.'),
      affinity: c('Affinity', 'Scheduling constraints.'),
      automountServiceAccountToken: bool('Whether a service account token is mounted automatically.'),
      containers: arr(c('Container'), 'The containers of the pod; at least one.', { mergeKey: 'name' }),
      dnsConfig: c('PodDNSConfig', 'DNS parameters merged with those from dnsPolicy.'),
      dnsPolicy: str('ClusterFirst, ClusterFirstWithHostNet, Default or None.', {
        enum: ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'],
      }),
      enableServiceLinks: bool('Whether service environment variables are injected, Docker-links style.'),
      ephemeralContainers: arr(c('EphemeralContainer'), 'Debugging containers added to a running pod.', {
        mergeKey: 'name',
      }),
      hostAliases: arr(c('HostAlias'), 'Extra entries for /etc/hosts.', { mergeKey: 'ip' }),
      hostIPC: bool("Use the host's IPC namespace."),
      hostNetwork: bool("Use the host's network namespace."),
      hostPID: bool("Use the host's PID namespace."),
      hostUsers: bool("Use the host's user namespace (default true)."),
      hostname: str('Hostname of the pod; the pod name when empty.'),
      imagePullSecrets: arr(c('LocalObjectReference'), 'Secrets used to pull images.', { mergeKey: 'name' }),
      initContainers: arr(
        c('Container'),
        'Containers run in order to completion before the app containers.',
        {
          mergeKey: 'name',
        },
      ),
      nodeName: str('The node the pod is bound to; set by the scheduler.'),
      nodeSelector: strMap('Labels a node must have for the pod to run there.', {
        'x-kubernetes-map-type': 'atomic',
      }),
      os: c('PodOS', 'The operating system of the containers.'),
      overhead: quantityMap('Resources used by the pod sandbox itself.'),
      preemptionPolicy: str('Never or PreemptLowerPriority.'),
      priority: int('Priority value; resolved from priorityClassName by admission.'),
      priorityClassName: str('Name of the PriorityClass of the pod.'),
      readinessGates: arr(c('PodReadinessGate'), 'Extra conditions required for readiness.', {
        listType: 'atomic',
      }),
      restartPolicy: str('Always, OnFailure or Never.', { enum: ['Always', 'Never', 'OnFailure'] }),
      runtimeClassName: str('The RuntimeClass used to run the pod.'),
      schedulerName: str('The scheduler that places the pod.'),
      securityContext: c('PodSecurityContext', 'Pod-level security attributes.'),
      serviceAccount: str('Deprecated alias of serviceAccountName.'),
      serviceAccountName: str('The service account the pod runs as.'),
      setHostnameAsFQDN: bool('Set the hostname to the fully qualified domain name.'),
      shareProcessNamespace: bool('Share one PID namespace between the containers.'),
      subdomain: str('Subdomain; the FQDN becomes <hostname>.<subdomain>.<namespace>.svc.<domain>.'),
      terminationGracePeriodSeconds: int64('Seconds between the stop signal and the kill signal.'),
      tolerations: arr(c('Toleration'), 'Taints the pod tolerates.', { listType: 'atomic' }),
      topologySpreadConstraints: arr(
        c('TopologySpreadConstraint'),
        'How pods spread across topology domains.',
        {
          mergeKey: 'topologyKey',
          mapKeys: ['topologyKey', 'whenUnsatisfiable'],
        },
      ),
      volumes: arr(c('Volume'), 'Volumes the containers can mount.', { mergeKey: 'name' }),
    },
    { required: ['containers'] },
  );
}

function volumeSchemas(): Record<string, Schema> {
  const keyItems = arr(c('KeyToPath'), 'Which keys to project and where; all keys when empty.', {
    listType: 'atomic',
  });
  return {
    [`${CORE}Volume`]: obj(
      'A named volume the containers of a pod may mount; exactly one source is set.',
      {
        configMap: c('ConfigMapVolumeSource', 'A ConfigMap as files.'),
        csi: c('CSIVolumeSource', 'An ephemeral volume from a CSI driver.'),
        downwardAPI: c('DownwardAPIVolumeSource', 'Pod fields as files.'),
        emptyDir: c('EmptyDirVolumeSource', 'A directory that shares the pod lifetime.'),
        ephemeral: c('EphemeralVolumeSource', 'A volume from a per-pod claim template.'),
        hostPath: c('HostPathVolumeSource', 'A file or directory of the host.'),
        name: str('Name of the volume, a DNS label unique in the pod.'),
        nfs: c('NFSVolumeSource', 'An NFS export.'),
        persistentVolumeClaim: c('PersistentVolumeClaimVolumeSource', 'A claim in the same namespace.'),
        projected: c('ProjectedVolumeSource', 'Several sources in one directory.'),
        secret: c('SecretVolumeSource', 'A Secret as files.'),
      },
      { required: ['name'] },
    ),
    [`${CORE}KeyToPath`]: obj(
      'Maps a key to a relative file path.',
      {
        key: str('The key to project.'),
        mode: int('File mode bits.'),
        path: str('Relative path of the file.'),
      },
      { required: ['key', 'path'] },
    ),
    [`${CORE}ConfigMapVolumeSource`]: obj('A ConfigMap volume.', {
      defaultMode: int('Mode bits of the created files; 0644 by default.'),
      items: keyItems,
      name: str('Name of the ConfigMap.', { default: '' }),
      optional: bool('Whether the ConfigMap may be missing.'),
    }),
    [`${CORE}SecretVolumeSource`]: obj('A Secret volume.', {
      defaultMode: int('Mode bits of the created files; 0644 by default.'),
      items: keyItems,
      optional: bool('Whether the Secret may be missing.'),
      secretName: str('Name of the Secret.'),
    }),
    [`${CORE}EmptyDirVolumeSource`]: obj('An empty directory.', {
      medium: str('Storage medium: empty for the node default, or `Memory`.'),
      sizeLimit: ref(QUANTITY, 'Limit of the local storage the directory may use.'),
    }),
    [`${CORE}HostPathVolumeSource`]: obj(
      'A host path.',
      {
        path: str('Path on the host.'),
        type: str(
          'Check done before mounting: DirectoryOrCreate, Directory, FileOrCreate, File, Socket, ...',
        ),
      },
      { required: ['path'] },
    ),
    [`${CORE}NFSVolumeSource`]: obj(
      'An NFS mount.',
      {
        path: str('Exported path.'),
        readOnly: bool('Mount read-only.'),
        server: str('Host name or IP of the NFS server.'),
      },
      { required: ['server', 'path'] },
    ),
    [`${CORE}PersistentVolumeClaimVolumeSource`]: obj(
      'A reference to a claim.',
      { claimName: str('Name of the claim.'), readOnly: bool('Mount read-only.') },
      { required: ['claimName'] },
    ),
    [`${CORE}CSIVolumeSource`]: obj(
      'An inline CSI volume.',
      {
        driver: str('Name of the CSI driver.'),
        fsType: str('Filesystem type.'),
        nodePublishSecretRef: c('LocalObjectReference', 'Secret passed to NodePublishVolume.'),
        readOnly: bool('Mount read-only.'),
        volumeAttributes: strMap('Driver-specific attributes.'),
      },
      { required: ['driver'] },
    ),
    [`${CORE}EphemeralVolumeSource`]: obj('A generic ephemeral volume.', {
      volumeClaimTemplate: c('PersistentVolumeClaimTemplate', 'Template of the claim created for the pod.'),
    }),
    [`${CORE}PersistentVolumeClaimTemplate`]: obj(
      'A claim template.',
      {
        metadata: ref(OBJECT_META, 'Labels and annotations copied to the claim.', { default: {} }),
        spec: c('PersistentVolumeClaimSpec', 'Spec of the claim.', { default: {} }),
      },
      { required: ['spec'] },
    ),
    [`${CORE}DownwardAPIVolumeSource`]: obj('Downward API files.', {
      defaultMode: int('Mode bits of the created files.'),
      items: arr(c('DownwardAPIVolumeFile'), 'The files.', { listType: 'atomic' }),
    }),
    [`${CORE}DownwardAPIVolumeFile`]: obj(
      'One downward API file.',
      {
        fieldRef: c('ObjectFieldSelector', 'A pod field.'),
        mode: int('Mode bits of the file.'),
        path: str('Relative path of the file.'),
        resourceFieldRef: c('ResourceFieldSelector', 'A container resource.'),
      },
      { required: ['path'] },
    ),
    [`${CORE}ProjectedVolumeSource`]: obj('Several sources projected into one directory.', {
      defaultMode: int('Mode bits of the created files.'),
      sources: arr(c('VolumeProjection'), 'The sources.', { listType: 'atomic' }),
    }),
    [`${CORE}VolumeProjection`]: obj('One projected source.', {
      configMap: c('ConfigMapProjection', 'A ConfigMap.'),
      downwardAPI: c('DownwardAPIProjection', 'Pod fields.'),
      secret: c('SecretProjection', 'A Secret.'),
      serviceAccountToken: c('ServiceAccountTokenProjection', 'A bound service account token.'),
    }),
    [`${CORE}ConfigMapProjection`]: obj('A projected ConfigMap.', {
      items: keyItems,
      name: str('Name of the ConfigMap.', { default: '' }),
      optional: bool('Whether the ConfigMap may be missing.'),
    }),
    [`${CORE}SecretProjection`]: obj('A projected Secret.', {
      items: keyItems,
      name: str('Name of the Secret.', { default: '' }),
      optional: bool('Whether the Secret may be missing.'),
    }),
    [`${CORE}DownwardAPIProjection`]: obj('Projected pod fields.', {
      items: arr(c('DownwardAPIVolumeFile'), 'The files.', { listType: 'atomic' }),
    }),
    [`${CORE}ServiceAccountTokenProjection`]: obj(
      'A projected service account token.',
      {
        audience: str('Intended audience of the token.'),
        expirationSeconds: int64('Requested lifetime; 1 hour by default.'),
        path: str('Relative path of the token file.'),
      },
      { required: ['path'] },
    ),
  };
}

function containerPartSchemas(): Record<string, Schema> {
  return {
    [`${CORE}Container`]: container('A single application container of a pod.'),
    [`${CORE}EphemeralContainer`]: container('A temporary container added to a running pod for debugging.'),
    [`${CORE}ContainerPort`]: obj(
      'A network port of a container.',
      {
        containerPort: int('Port number on the pod IP, 0 < x < 65536.'),
        hostIP: str('Host IP to bind the host port to.'),
        hostPort: int('Port number on the host.'),
        name: str('An IANA_SVC_NAME unique in the pod, referred to by services.'),
        protocol: str('UDP, TCP or SCTP; TCP by default.', { default: 'TCP', enum: ['SCTP', 'TCP', 'UDP'] }),
      },
      { required: ['containerPort'] },
    ),
    [`${CORE}EnvVar`]: obj(
      'An environment variable.',
      {
        name: str('Name of the variable.'),
        value: str('Value; $(VAR) references expand.'),
        valueFrom: c('EnvVarSource', 'Where the value comes from, when value is empty.'),
      },
      { required: ['name'] },
    ),
    [`${CORE}EnvVarSource`]: obj('A source for an environment variable value.', {
      configMapKeyRef: c('ConfigMapKeySelector', 'A key of a ConfigMap.'),
      fieldRef: c('ObjectFieldSelector', 'A pod field.'),
      resourceFieldRef: c('ResourceFieldSelector', 'A container resource limit or request.'),
      secretKeyRef: c('SecretKeySelector', 'A key of a Secret.'),
    }),
    [`${CORE}ConfigMapKeySelector`]: obj(
      'Selects a key of a ConfigMap.',
      {
        key: str('The key.'),
        name: str('Name of the ConfigMap.', { default: '' }),
        optional: bool('Whether the ConfigMap or key may be missing.'),
      },
      { required: ['key'], extra: { 'x-kubernetes-map-type': 'atomic' } },
    ),
    [`${CORE}SecretKeySelector`]: obj(
      'Selects a key of a Secret.',
      {
        key: str('The key.'),
        name: str('Name of the Secret.', { default: '' }),
        optional: bool('Whether the Secret or key may be missing.'),
      },
      { required: ['key'], extra: { 'x-kubernetes-map-type': 'atomic' } },
    ),
    [`${CORE}ObjectFieldSelector`]: obj(
      'Selects a field of the pod.',
      {
        apiVersion: str('Version of the schema the path is written in; v1 by default.'),
        fieldPath: str('Path of the field, such as `metadata.name`.'),
      },
      { required: ['fieldPath'], extra: { 'x-kubernetes-map-type': 'atomic' } },
    ),
    [`${CORE}ResourceFieldSelector`]: obj(
      'Selects a container resource.',
      {
        containerName: str('Container name; required for volumes.'),
        divisor: ref(QUANTITY, 'Output format of the value; 1 by default.'),
        resource: str('The resource, such as `limits.cpu`.'),
      },
      { required: ['resource'], extra: { 'x-kubernetes-map-type': 'atomic' } },
    ),
    [`${CORE}EnvFromSource`]: obj('A source of a set of environment variables.', {
      configMapRef: c('ConfigMapEnvSource', 'The ConfigMap.'),
      prefix: str('Prefix added to every key.'),
      secretRef: c('SecretEnvSource', 'The Secret.'),
    }),
    [`${CORE}ConfigMapEnvSource`]: obj('A ConfigMap whose keys become variables.', {
      name: str('Name of the ConfigMap.', { default: '' }),
      optional: bool('Whether the ConfigMap may be missing.'),
    }),
    [`${CORE}SecretEnvSource`]: obj('A Secret whose keys become variables.', {
      name: str('Name of the Secret.', { default: '' }),
      optional: bool('Whether the Secret may be missing.'),
    }),
    [`${CORE}ResourceRequirements`]: obj('Compute resource requirements.', {
      claims: arr(c('ResourceClaim'), 'Dynamic resource claims used by the container.', { mergeKey: 'name' }),
      limits: quantityMap('The most of each resource the container may use.'),
      requests: quantityMap('The least of each resource the container needs; used for scheduling.'),
    }),
    [`${CORE}ResourceClaim`]: obj(
      'A reference to a pod resource claim.',
      { name: str('Name of the claim.') },
      {
        required: ['name'],
      },
    ),
    [`${CORE}ContainerResizePolicy`]: obj(
      'How a resource is resized.',
      {
        resourceName: str('The resource, cpu or memory.'),
        restartPolicy: str('NotRequired or RestartContainer.'),
      },
      { required: ['resourceName', 'restartPolicy'] },
    ),
    [`${CORE}VolumeMount`]: obj(
      'A mount of a volume into a container.',
      {
        mountPath: str('Path inside the container; must not contain `:`.'),
        mountPropagation: str('None, HostToContainer or Bidirectional.'),
        name: str('Name of the volume.'),
        readOnly: bool('Mount read-only.'),
        recursiveReadOnly: str('Disabled, IfPossible or Enabled.'),
        subPath: str('Path within the volume to mount instead of its root.'),
        subPathExpr: str('Like subPath, with $(VAR) expansion.'),
      },
      { required: ['name', 'mountPath'] },
    ),
    [`${CORE}VolumeDevice`]: obj(
      'A raw block device in a container.',
      { devicePath: str('Path of the device in the container.'), name: str('Name of the claim volume.') },
      { required: ['name', 'devicePath'] },
    ),
    [`${CORE}Probe`]: obj('A health check of a container.', {
      exec: c('ExecAction', 'Run a command.'),
      failureThreshold: int('Consecutive failures to count as failed; 3 by default.'),
      grpc: c('GRPCAction', 'Call the gRPC health service.'),
      httpGet: c('HTTPGetAction', 'Send an HTTP GET.'),
      initialDelaySeconds: int('Seconds after start before the first probe.'),
      periodSeconds: int('Seconds between probes; 10 by default.'),
      successThreshold: int('Consecutive successes to count as passed; 1 by default.'),
      tcpSocket: c('TCPSocketAction', 'Open a TCP connection.'),
      terminationGracePeriodSeconds: int64('Grace period used when the probe fails.'),
      timeoutSeconds: int('Seconds before a probe times out; 1 by default.'),
    }),
    [`${CORE}ExecAction`]: obj('A command run in the container.', {
      command: strArr('The command line; not run in a shell. Exit status 0 is success.'),
    }),
    [`${CORE}HTTPGetAction`]: obj(
      'An HTTP GET request.',
      {
        host: str('Host to connect to; the pod IP by default.'),
        httpHeaders: arr(c('HTTPHeader'), 'Custom request headers.', { listType: 'atomic' }),
        path: str('Path of the request.'),
        port: intOrString('Port number or name.'),
        scheme: str('HTTP or HTTPS; HTTP by default.'),
      },
      { required: ['port'] },
    ),
    [`${CORE}HTTPHeader`]: obj(
      'An HTTP header.',
      { name: str('Header name.'), value: str('Header value.') },
      { required: ['name', 'value'] },
    ),
    [`${CORE}TCPSocketAction`]: obj(
      'A TCP connection attempt.',
      { host: str('Host to connect to; the pod IP by default.'), port: intOrString('Port number or name.') },
      { required: ['port'] },
    ),
    [`${CORE}GRPCAction`]: obj(
      'A gRPC health check.',
      { port: int('Port number.'), service: str('Service name sent in the request.', { default: '' }) },
      { required: ['port'] },
    ),
    [`${CORE}Lifecycle`]: obj('Hooks run around the container lifetime.', {
      postStart: c('LifecycleHandler', 'Runs right after the container is created.'),
      preStop: c('LifecycleHandler', 'Runs before the container is stopped.'),
      stopSignal: str('Signal used to stop the container.'),
    }),
    [`${CORE}LifecycleHandler`]: obj('One lifecycle action.', {
      exec: c('ExecAction', 'Run a command.'),
      httpGet: c('HTTPGetAction', 'Send an HTTP GET.'),
      sleep: c('SleepAction', 'Sleep.'),
      tcpSocket: c('TCPSocketAction', 'Deprecated; kept for compatibility.'),
    }),
    [`${CORE}SleepAction`]: obj(
      'A pause.',
      { seconds: int64('Seconds to sleep.') },
      { required: ['seconds'] },
    ),
    [`${CORE}SecurityContext`]: obj('Container security options; override the pod-level ones.', {
      allowPrivilegeEscalation: bool('Whether a process may gain more privileges than its parent.'),
      capabilities: c('Capabilities', 'Capabilities to add and drop.'),
      privileged: bool('Run as privileged.'),
      procMount: str('Default or Unmasked.'),
      readOnlyRootFilesystem: bool('Mount the root filesystem read-only.'),
      runAsGroup: int64('GID of the entrypoint process.'),
      runAsNonRoot: bool('Refuse to start as UID 0.'),
      runAsUser: int64('UID of the entrypoint process.'),
      seccompProfile: c('SeccompProfile', 'The seccomp profile.'),
    }),
    [`${CORE}Capabilities`]: obj('POSIX capabilities.', {
      add: strArr('Capabilities to add.'),
      drop: strArr('Capabilities to drop.'),
    }),
    [`${CORE}SeccompProfile`]: obj(
      'A seccomp profile.',
      {
        localhostProfile: str('Path of a profile on the node, for Localhost.'),
        type: str('Localhost, RuntimeDefault or Unconfined.'),
      },
      { required: ['type'] },
    ),
    [`${CORE}PodSecurityContext`]: obj('Pod-level security attributes.', {
      fsGroup: int64('A supplemental group that owns volumes.'),
      fsGroupChangePolicy: str('OnRootMismatch or Always.'),
      runAsGroup: int64('GID of the entrypoint processes.'),
      runAsNonRoot: bool('Refuse to start containers as UID 0.'),
      runAsUser: int64('UID of the entrypoint processes.'),
      seccompProfile: c('SeccompProfile', 'The seccomp profile.'),
      supplementalGroups: arr({ type: 'integer', format: 'int64' }, 'Extra groups of the first process.', {
        listType: 'atomic',
      }),
      sysctls: arr(c('Sysctl'), 'Namespaced sysctls to set.', { listType: 'atomic' }),
    }),
    [`${CORE}Sysctl`]: obj(
      'A kernel parameter.',
      { name: str('Name.'), value: str('Value.') },
      {
        required: ['name', 'value'],
      },
    ),
  };
}

function schedulingSchemas(): Record<string, Schema> {
  return {
    [`${CORE}Toleration`]: obj('Lets a pod run on nodes with a matching taint.', {
      effect: str('NoSchedule, PreferNoSchedule or NoExecute; all effects when empty.'),
      key: str('Taint key; with operator Exists an empty key matches all taints.'),
      operator: str('Exists or Equal; Equal by default.'),
      tolerationSeconds: int64('For NoExecute, how long the pod stays bound after the taint appears.'),
      value: str('Taint value for Equal.'),
    }),
    [`${CORE}Affinity`]: obj('Affinity rules.', {
      nodeAffinity: c('NodeAffinity', 'Rules about nodes.'),
      podAffinity: c('PodAffinity', 'Co-location with other pods.'),
      podAntiAffinity: c('PodAntiAffinity', 'Separation from other pods.'),
    }),
    [`${CORE}NodeAffinity`]: obj('Node affinity.', {
      preferredDuringSchedulingIgnoredDuringExecution: arr(
        c('PreferredSchedulingTerm'),
        'Weighted preferences.',
        {
          listType: 'atomic',
        },
      ),
      requiredDuringSchedulingIgnoredDuringExecution: c(
        'NodeSelector',
        'Hard requirement at scheduling time.',
      ),
    }),
    [`${CORE}NodeSelector`]: obj(
      'Node selector terms, ORed.',
      { nodeSelectorTerms: arr(c('NodeSelectorTerm'), 'The terms.', { listType: 'atomic' }) },
      { required: ['nodeSelectorTerms'], extra: { 'x-kubernetes-map-type': 'atomic' } },
    ),
    [`${CORE}NodeSelectorTerm`]: obj(
      'Requirements ANDed together.',
      {
        matchExpressions: arr(c('NodeSelectorRequirement'), 'Requirements on labels.', {
          listType: 'atomic',
        }),
        matchFields: arr(c('NodeSelectorRequirement'), 'Requirements on fields.', { listType: 'atomic' }),
      },
      { extra: { 'x-kubernetes-map-type': 'atomic' } },
    ),
    [`${CORE}NodeSelectorRequirement`]: obj(
      'A key, operator and values.',
      {
        key: str('The key.'),
        operator: str('In, NotIn, Exists, DoesNotExist, Gt or Lt.'),
        values: strArr('The values.'),
      },
      { required: ['key', 'operator'] },
    ),
    [`${CORE}PreferredSchedulingTerm`]: obj(
      'A weighted node selector term.',
      { preference: c('NodeSelectorTerm', 'The term.'), weight: int('Weight, 1-100.') },
      { required: ['weight', 'preference'] },
    ),
    [`${CORE}PodAffinity`]: obj('Pod affinity.', {
      preferredDuringSchedulingIgnoredDuringExecution: arr(
        c('WeightedPodAffinityTerm'),
        'Weighted preferences.',
        {
          listType: 'atomic',
        },
      ),
      requiredDuringSchedulingIgnoredDuringExecution: arr(c('PodAffinityTerm'), 'Hard requirements.', {
        listType: 'atomic',
      }),
    }),
    [`${CORE}PodAntiAffinity`]: obj('Pod anti-affinity.', {
      preferredDuringSchedulingIgnoredDuringExecution: arr(
        c('WeightedPodAffinityTerm'),
        'Weighted preferences.',
        {
          listType: 'atomic',
        },
      ),
      requiredDuringSchedulingIgnoredDuringExecution: arr(c('PodAffinityTerm'), 'Hard requirements.', {
        listType: 'atomic',
      }),
    }),
    [`${CORE}PodAffinityTerm`]: obj(
      'Pods matching the selector in the namespaces, within one topology domain.',
      {
        labelSelector: labelSelector('Selects the pods.'),
        matchLabelKeys: strArr('Label keys whose values are copied into the selector.'),
        mismatchLabelKeys: strArr('Label keys whose values must differ.'),
        namespaceSelector: labelSelector('Selects the namespaces.'),
        namespaces: strArr('Namespace names.'),
        topologyKey: str('Node label key that defines a topology domain.'),
      },
      { required: ['topologyKey'] },
    ),
    [`${CORE}WeightedPodAffinityTerm`]: obj(
      'A weighted pod affinity term.',
      { podAffinityTerm: c('PodAffinityTerm', 'The term.'), weight: int('Weight, 1-100.') },
      { required: ['weight', 'podAffinityTerm'] },
    ),
    [`${CORE}TopologySpreadConstraint`]: obj(
      'How matching pods spread across a topology.',
      {
        labelSelector: labelSelector('Selects the pods counted.'),
        matchLabelKeys: strArr('Label keys whose values are copied into the selector.'),
        maxSkew: int('Largest allowed difference between domains.'),
        minDomains: int('Minimum number of eligible domains.'),
        nodeAffinityPolicy: str('Honor or Ignore.'),
        nodeTaintsPolicy: str('Honor or Ignore.'),
        topologyKey: str('Node label key of the domains.'),
        whenUnsatisfiable: str('DoNotSchedule or ScheduleAnyway.'),
      },
      { required: ['maxSkew', 'topologyKey', 'whenUnsatisfiable'] },
    ),
    [`${CORE}PodDNSConfig`]: obj('DNS parameters.', {
      nameservers: strArr('Name server IPs.'),
      options: arr(c('PodDNSConfigOption'), 'Resolver options.', { listType: 'atomic' }),
      searches: strArr('Search domains.'),
    }),
    [`${CORE}PodDNSConfigOption`]: obj('A resolver option.', { name: str('Name.'), value: str('Value.') }),
    [`${CORE}HostAlias`]: obj(
      'An /etc/hosts entry.',
      { hostnames: strArr('Host names of the IP.'), ip: str('The IP address.') },
      { required: ['ip'] },
    ),
    [`${CORE}LocalObjectReference`]: obj(
      'A reference to an object in the same namespace.',
      { name: str('Name of the referent.', { default: '' }) },
      { extra: { 'x-kubernetes-map-type': 'atomic' } },
    ),
    [`${CORE}PodReadinessGate`]: obj(
      'A condition the pod must have for readiness.',
      { conditionType: str('The condition type.') },
      { required: ['conditionType'] },
    ),
    [`${CORE}PodOS`]: obj('An operating system.', { name: str('linux or windows.') }, { required: ['name'] }),
  };
}

function podStatusSchemas(): Record<string, Schema> {
  return {
    [`${CORE}PodStatus`]: obj('The most recently observed state of a pod.', {
      conditions: conditions(`${CORE}PodCondition`, 'Current service state of the pod.'),
      containerStatuses: arr(c('ContainerStatus'), 'One entry per app container.', { listType: 'atomic' }),
      ephemeralContainerStatuses: arr(c('ContainerStatus'), 'One entry per ephemeral container.', {
        listType: 'atomic',
      }),
      hostIP: str('IP of the node the pod runs on.'),
      hostIPs: arr(c('HostIP'), 'IPs of the node.', { mergeKey: 'ip', listType: 'atomic' }),
      initContainerStatuses: arr(c('ContainerStatus'), 'One entry per init container.', {
        listType: 'atomic',
      }),
      message: str('Why the pod is in this state.'),
      nominatedNodeName: str('Node where the pod may run once preemption completes.'),
      phase: str('Pending, Running, Succeeded, Failed or Unknown.', {
        enum: ['Failed', 'Pending', 'Running', 'Succeeded', 'Unknown'],
      }),
      podIP: str('IP address of the pod.'),
      podIPs: arr(c('PodIP'), 'IP addresses of the pod.', { mergeKey: 'ip' }),
      qosClass: str('Guaranteed, Burstable or BestEffort.'),
      reason: str('A brief CamelCase reason, such as `Evicted`.'),
      startTime: time('When the node acknowledged the pod.'),
    }),
    [`${CORE}PodCondition`]: obj(
      'A condition of a pod.',
      {
        lastProbeTime: time('When the condition was last probed.'),
        lastTransitionTime: time('When the condition last changed.'),
        message: str('Details of the last transition.'),
        reason: str('A CamelCase reason.'),
        status: str('True, False or Unknown.'),
        type: str('PodScheduled, Initialized, ContainersReady, Ready, ...'),
      },
      { required: ['type', 'status'] },
    ),
    [`${CORE}PodIP`]: obj('An IP of a pod.', { ip: str('The address.') }, { required: ['ip'] }),
    [`${CORE}HostIP`]: obj('An IP of a host.', { ip: str('The address.') }, { required: ['ip'] }),
    [`${CORE}ContainerStatus`]: obj(
      'The state of one container.',
      {
        allocatedResources: quantityMap('Resources allocated to the container.'),
        containerID: str('ID as `<runtime>://<id>`.'),
        image: str('The image the container runs.'),
        imageID: str('ID of the image.'),
        lastState: c('ContainerState', 'The previous termination, if any.', { default: {} }),
        name: str('Name of the container.'),
        ready: bool('Whether the readiness check passed.'),
        resources: c('ResourceRequirements', 'Resources the runtime applied.'),
        restartCount: int('Times the container has been restarted.'),
        started: bool('Whether the startup probe passed.'),
        state: c('ContainerState', 'The current state.', { default: {} }),
      },
      { required: ['name', 'ready', 'restartCount', 'image', 'imageID'] },
    ),
    [`${CORE}ContainerState`]: obj('Exactly one of waiting, running or terminated.', {
      running: c('ContainerStateRunning', 'The container is running.'),
      terminated: c('ContainerStateTerminated', 'The container has exited.'),
      waiting: c('ContainerStateWaiting', 'The container is waiting to start.'),
    }),
    [`${CORE}ContainerStateWaiting`]: obj('A waiting container.', {
      message: str('Why it is waiting.'),
      reason: str('Short reason, such as ContainerCreating or CrashLoopBackOff.'),
    }),
    [`${CORE}ContainerStateRunning`]: obj('A running container.', {
      startedAt: time('When it last (re)started.'),
    }),
    [`${CORE}ContainerStateTerminated`]: obj(
      'A terminated container.',
      {
        containerID: str('ID as `<runtime>://<id>`.'),
        exitCode: int('Exit status of the last termination.'),
        finishedAt: time('When it exited.'),
        message: str('Details of the termination.'),
        reason: str('Short reason, such as Completed, Error or OOMKilled.'),
        signal: int('Signal that ended it.'),
        startedAt: time('When it started.'),
      },
      { required: ['exitCode'] },
    ),
  };
}

export function podSchemas(): Record<string, Schema> {
  return {
    [`${CORE}Pod`]: kind(gvk('Pod'), 'A group of containers that run together on one node.', {
      spec: c('PodSpec', 'The desired behaviour of the pod.', { default: {} }),
      status: c('PodStatus', 'The observed state of the pod; written by the system.', { default: {} }),
    }),
    [`${CORE}PodList`]: listOf(gvk('Pod'), `${CORE}Pod`, 'A list of pods.'),
    [`${CORE}PodSpec`]: podSpec(),
    [`${CORE}PodTemplateSpec`]: obj('The pods a controller creates from this template.', {
      metadata: ref(OBJECT_META, 'Labels and annotations of the pods.', { default: {} }),
      spec: c('PodSpec', 'Spec of the pods.', { default: {} }),
    }),
    ...containerPartSchemas(),
    ...volumeSchemas(),
    ...schedulingSchemas(),
    ...podStatusSchemas(),
  };
}
