// Field numbers, types and JSON facts (Go pointer, omitempty, JSON name) of kubernetes/api,
// apimachinery and apiextensions-apiserver, in the notation of notation.ts.
import type { SchemaPackages } from './notation.ts';

export const PACKAGES: SchemaPackages = {
  'k8s.io.api.apps.v1': {
    ControllerRevision: 'metadata=1:meta.ObjectMeta data=2:runtime.RawExtension! revision=3:int64!',
    ControllerRevisionList: 'metadata=1:meta.ListMeta items=2:[]ControllerRevision!',
    DaemonSet: 'metadata=1:meta.ObjectMeta spec=2:DaemonSetSpec status=3:DaemonSetStatus',
    DaemonSetCondition:
      'type=1:string! status=2:string! lastTransitionTime=3:meta.Time reason=4:string message=5:string',
    DaemonSetList: 'metadata=1:meta.ListMeta items=2:[]DaemonSet!',
    DaemonSetSpec:
      'selector=1:meta.LabelSelector? template=2:core.PodTemplateSpec! updateStrategy=3:DaemonSetUpdateStrategy minReadySeconds=4:int32 revisionHistoryLimit=6:int32?',
    DaemonSetStatus:
      'currentNumberScheduled=1:int32! numberMisscheduled=2:int32! desiredNumberScheduled=3:int32! numberReady=4:int32! observedGeneration=5:int64 updatedNumberScheduled=6:int32 numberAvailable=7:int32 numberUnavailable=8:int32 collisionCount=9:int32? conditions=10:[]DaemonSetCondition',
    DaemonSetUpdateStrategy: 'type=1:string rollingUpdate=2:RollingUpdateDaemonSet?',
    Deployment: 'metadata=1:meta.ObjectMeta spec=2:DeploymentSpec status=3:DeploymentStatus',
    DeploymentCondition:
      'type=1:string! status=2:string! lastUpdateTime=6:meta.Time lastTransitionTime=7:meta.Time reason=4:string message=5:string',
    DeploymentList: 'metadata=1:meta.ListMeta items=2:[]Deployment!',
    DeploymentSpec:
      'replicas=1:int32? selector=2:meta.LabelSelector? template=3:core.PodTemplateSpec! strategy=4:DeploymentStrategy minReadySeconds=5:int32 revisionHistoryLimit=6:int32? paused=7:bool progressDeadlineSeconds=9:int32?',
    DeploymentStatus:
      'observedGeneration=1:int64 replicas=2:int32 updatedReplicas=3:int32 readyReplicas=7:int32 availableReplicas=4:int32 unavailableReplicas=5:int32 terminatingReplicas=9:int32? conditions=6:[]DeploymentCondition collisionCount=8:int32?',
    DeploymentStrategy: 'type=1:string rollingUpdate=2:RollingUpdateDeployment?',
    ReplicaSet: 'metadata=1:meta.ObjectMeta spec=2:ReplicaSetSpec status=3:ReplicaSetStatus',
    ReplicaSetCondition:
      'type=1:string! status=2:string! lastTransitionTime=3:meta.Time reason=4:string message=5:string',
    ReplicaSetList: 'metadata=1:meta.ListMeta items=2:[]ReplicaSet!',
    ReplicaSetSpec:
      'replicas=1:int32? minReadySeconds=4:int32 selector=2:meta.LabelSelector? template=3:core.PodTemplateSpec',
    ReplicaSetStatus:
      'replicas=1:int32! fullyLabeledReplicas=2:int32 readyReplicas=4:int32 availableReplicas=5:int32 terminatingReplicas=7:int32? observedGeneration=3:int64 conditions=6:[]ReplicaSetCondition',
    RollingUpdateDaemonSet: 'maxUnavailable=1:intstr.IntOrString? maxSurge=2:intstr.IntOrString?',
    RollingUpdateDeployment: 'maxUnavailable=1:intstr.IntOrString? maxSurge=2:intstr.IntOrString?',
    RollingUpdateStatefulSetStrategy: 'partition=1:int32? maxUnavailable=2:intstr.IntOrString?',
    StatefulSet: 'metadata=1:meta.ObjectMeta spec=2:StatefulSetSpec status=3:StatefulSetStatus',
    StatefulSetCondition:
      'type=1:string! status=2:string! lastTransitionTime=3:meta.Time reason=4:string message=5:string',
    StatefulSetList: 'metadata=1:meta.ListMeta items=2:[]StatefulSet!',
    StatefulSetOrdinals: 'start=1:int32!',
    StatefulSetPersistentVolumeClaimRetentionPolicy: 'whenDeleted=1:string whenScaled=2:string',
    StatefulSetSpec:
      'replicas=1:int32? selector=2:meta.LabelSelector? template=3:core.PodTemplateSpec! volumeClaimTemplates=4:[]core.PersistentVolumeClaim serviceName=5:string! podManagementPolicy=6:string updateStrategy=7:StatefulSetUpdateStrategy revisionHistoryLimit=8:int32? minReadySeconds=9:int32 persistentVolumeClaimRetentionPolicy=10:StatefulSetPersistentVolumeClaimRetentionPolicy? ordinals=11:StatefulSetOrdinals?',
    StatefulSetStatus:
      'observedGeneration=1:int64 replicas=2:int32! readyReplicas=3:int32 currentReplicas=4:int32 updatedReplicas=5:int32 currentRevision=6:string updateRevision=7:string collisionCount=9:int32? conditions=10:[]StatefulSetCondition availableReplicas=11:int32!',
    StatefulSetUpdateStrategy: 'type=1:string rollingUpdate=2:RollingUpdateStatefulSetStrategy?',
  },
  'k8s.io.api.authentication.v1': {
    AttestationValue: 'items=1:[]string',
    BoundObjectReference: 'kind=1:string apiVersion=2:string name=3:string uID=4:string@uid',
    ExtraValue: 'items=1:[]string',
    SelfSubjectReview: 'metadata=1:meta.ObjectMeta status=2:SelfSubjectReviewStatus',
    SelfSubjectReviewStatus: 'userInfo=1:UserInfo',
    TokenRequest: 'metadata=1:meta.ObjectMeta spec=2:TokenRequestSpec! status=3:TokenRequestStatus',
    TokenRequestSpec:
      'audiences=1:[]string! expirationSeconds=4:int64? boundObjectRef=3:BoundObjectReference? attestations=5:{AttestationValue}',
    TokenRequestStatus: 'token=1:string! expirationTimestamp=2:meta.Time!',
    TokenReview: 'metadata=1:meta.ObjectMeta spec=2:TokenReviewSpec! status=3:TokenReviewStatus',
    TokenReviewSpec: 'token=1:string audiences=2:[]string',
    TokenReviewStatus: 'authenticated=1:bool user=2:UserInfo audiences=4:[]string error=3:string',
    UserInfo: 'username=1:string uid=2:string groups=3:[]string extra=4:{ExtraValue}',
  },
  'k8s.io.api.authorization.v1': {
    ExtraValue: 'items=1:[]string',
    FieldSelectorAttributes: 'rawSelector=1:string requirements=2:[]meta.FieldSelectorRequirement',
    LabelSelectorAttributes: 'rawSelector=1:string requirements=2:[]meta.LabelSelectorRequirement',
    LocalSubjectAccessReview:
      'metadata=1:meta.ObjectMeta spec=2:SubjectAccessReviewSpec! status=3:SubjectAccessReviewStatus',
    NonResourceAttributes: 'path=1:string verb=2:string',
    NonResourceRule: 'verbs=1:[]string! nonResourceURLs=2:[]string',
    ResourceAttributes:
      'namespace=1:string verb=2:string group=3:string version=4:string resource=5:string subresource=6:string name=7:string fieldSelector=8:FieldSelectorAttributes? labelSelector=9:LabelSelectorAttributes?',
    ResourceRule: 'verbs=1:[]string! apiGroups=2:[]string resources=3:[]string resourceNames=4:[]string',
    SelfSubjectAccessReview:
      'metadata=1:meta.ObjectMeta spec=2:SelfSubjectAccessReviewSpec! status=3:SubjectAccessReviewStatus',
    SelfSubjectAccessReviewSpec:
      'resourceAttributes=1:ResourceAttributes? nonResourceAttributes=2:NonResourceAttributes?',
    SelfSubjectRulesReview:
      'metadata=1:meta.ObjectMeta spec=2:SelfSubjectRulesReviewSpec! status=3:SubjectRulesReviewStatus',
    SelfSubjectRulesReviewSpec: 'namespace=1:string',
    SubjectAccessReview:
      'metadata=1:meta.ObjectMeta spec=2:SubjectAccessReviewSpec! status=3:SubjectAccessReviewStatus',
    SubjectAccessReviewSpec:
      'resourceAttributes=1:ResourceAttributes? nonResourceAttributes=2:NonResourceAttributes? user=3:string groups=4:[]string extra=5:{ExtraValue} uid=6:string',
    SubjectAccessReviewStatus: 'allowed=1:bool! denied=4:bool reason=2:string evaluationError=3:string',
    SubjectRulesReviewStatus:
      'resourceRules=1:[]ResourceRule! nonResourceRules=2:[]NonResourceRule! incomplete=3:bool! evaluationError=4:string',
  },
  'k8s.io.api.autoscaling.v1': {
    Scale: 'metadata=1:meta.ObjectMeta spec=2:ScaleSpec status=3:ScaleStatus',
    ScaleSpec: 'replicas=1:int32',
    ScaleStatus: 'replicas=1:int32! selector=2:string',
  },
  'k8s.io.api.autoscaling.v2': {
    ContainerResourceMetricSource: 'name=1:string! target=2:MetricTarget! container=3:string!',
    ContainerResourceMetricStatus: 'name=1:string! current=2:MetricValueStatus! container=3:string!',
    CrossVersionObjectReference: 'kind=1:string! name=2:string! apiVersion=3:string',
    ExternalMetricSource: 'metric=1:MetricIdentifier! target=2:MetricTarget!',
    ExternalMetricStatus: 'metric=1:MetricIdentifier! current=2:MetricValueStatus!',
    HPAScalingPolicy: 'type=1:string! value=2:int32! periodSeconds=3:int32!',
    HPAScalingRules:
      'stabilizationWindowSeconds=3:int32? selectPolicy=1:string? policies=2:[]HPAScalingPolicy tolerance=4:resource.Quantity?',
    HorizontalPodAutoscaler:
      'metadata=1:meta.ObjectMeta spec=2:HorizontalPodAutoscalerSpec status=3:HorizontalPodAutoscalerStatus',
    HorizontalPodAutoscalerBehavior: 'scaleUp=1:HPAScalingRules? scaleDown=2:HPAScalingRules?',
    HorizontalPodAutoscalerCondition:
      'type=1:string! status=2:string! lastTransitionTime=3:meta.Time reason=4:string message=5:string observedGeneration=6:int64?',
    HorizontalPodAutoscalerList: 'metadata=1:meta.ListMeta items=2:[]HorizontalPodAutoscaler!',
    HorizontalPodAutoscalerSpec:
      'scaleTargetRef=1:CrossVersionObjectReference! minReplicas=2:int32? maxReplicas=3:int32! metrics=4:[]MetricSpec behavior=5:HorizontalPodAutoscalerBehavior?',
    HorizontalPodAutoscalerStatus:
      'observedGeneration=1:int64? lastScaleTime=2:meta.Time? currentReplicas=3:int32 desiredReplicas=4:int32! currentMetrics=5:[]MetricStatus! conditions=6:[]HorizontalPodAutoscalerCondition',
    MetricIdentifier: 'name=1:string! selector=2:meta.LabelSelector?',
    MetricSpec:
      'type=1:string! object=2:ObjectMetricSource? pods=3:PodsMetricSource? resource=4:ResourceMetricSource? containerResource=7:ContainerResourceMetricSource? external=5:ExternalMetricSource?',
    MetricStatus:
      'type=1:string! object=2:ObjectMetricStatus? pods=3:PodsMetricStatus? resource=4:ResourceMetricStatus? containerResource=7:ContainerResourceMetricStatus? external=5:ExternalMetricStatus?',
    MetricTarget:
      'type=1:string! value=2:resource.Quantity? averageValue=3:resource.Quantity? averageUtilization=4:int32?',
    MetricValueStatus:
      'value=1:resource.Quantity? averageValue=2:resource.Quantity? averageUtilization=3:int32?',
    ObjectMetricSource:
      'describedObject=1:CrossVersionObjectReference! target=2:MetricTarget! metric=3:MetricIdentifier!',
    ObjectMetricStatus:
      'metric=1:MetricIdentifier! current=2:MetricValueStatus! describedObject=3:CrossVersionObjectReference!',
    PodsMetricSource: 'metric=1:MetricIdentifier! target=2:MetricTarget!',
    PodsMetricStatus: 'metric=1:MetricIdentifier! current=2:MetricValueStatus!',
    ResourceMetricSource: 'name=1:string! target=2:MetricTarget!',
    ResourceMetricStatus: 'name=1:string! current=2:MetricValueStatus!',
  },
  'k8s.io.api.batch.v1': {
    CronJob: 'metadata=1:meta.ObjectMeta spec=2:CronJobSpec status=3:CronJobStatus',
    CronJobList: 'metadata=1:meta.ListMeta items=2:[]CronJob!',
    CronJobSpec:
      'schedule=1:string! timeZone=8:string? startingDeadlineSeconds=2:int64? concurrencyPolicy=3:string suspend=4:bool? jobTemplate=5:JobTemplateSpec! successfulJobsHistoryLimit=6:int32? failedJobsHistoryLimit=7:int32?',
    CronJobStatus:
      'active=1:[]core.ObjectReference lastScheduleTime=4:meta.Time? lastSuccessfulTime=5:meta.Time?',
    Job: 'metadata=1:meta.ObjectMeta spec=2:JobSpec status=3:JobStatus',
    JobCondition:
      'type=1:string! status=2:string! lastProbeTime=3:meta.Time lastTransitionTime=4:meta.Time reason=5:string message=6:string',
    JobList: 'metadata=1:meta.ListMeta items=2:[]Job!',
    JobSchedulingConfiguration: '',
    JobSpec:
      'parallelism=1:int32? completions=2:int32? activeDeadlineSeconds=3:int64? podFailurePolicy=11:PodFailurePolicy? successPolicy=16:SuccessPolicy? backoffLimit=7:int32? backoffLimitPerIndex=12:int32? maxFailedIndexes=13:int32? selector=4:meta.LabelSelector? manualSelector=5:bool? template=6:core.PodTemplateSpec! ttlSecondsAfterFinished=8:int32? completionMode=9:string? suspend=10:bool? podReplacementPolicy=14:string? managedBy=15:string? scheduling=17:JobSchedulingConfiguration?',
    JobStatus:
      'conditions=1:[]JobCondition startTime=2:meta.Time? completionTime=3:meta.Time? active=4:int32 succeeded=5:int32 failed=6:int32 terminating=11:int32? completedIndexes=7:string failedIndexes=10:string? uncountedTerminatedPods=8:UncountedTerminatedPods? ready=9:int32?',
    JobTemplateSpec: 'metadata=1:meta.ObjectMeta spec=2:JobSpec',
    PodFailurePolicy: 'rules=1:[]PodFailurePolicyRule!',
    PodFailurePolicyOnExitCodesRequirement: 'containerName=1:string? operator=2:string! values=3:[]int32!',
    PodFailurePolicyOnPodConditionsPattern: 'type=1:string! status=2:string!',
    PodFailurePolicyRule:
      'action=1:string! onExitCodes=2:PodFailurePolicyOnExitCodesRequirement? onPodConditions=3:[]PodFailurePolicyOnPodConditionsPattern',
    SuccessPolicy: 'rules=1:[]SuccessPolicyRule!',
    SuccessPolicyRule: 'succeededIndexes=1:string? succeededCount=2:int32?',
    UncountedTerminatedPods: 'succeeded=1:[]string failed=2:[]string',
  },
  'k8s.io.api.coordination.v1': {
    Lease: 'metadata=1:meta.ObjectMeta spec=2:LeaseSpec',
    LeaseList: 'metadata=1:meta.ListMeta items=2:[]Lease!',
    LeaseSpec:
      'holderIdentity=1:string? leaseDurationSeconds=2:int32? acquireTime=3:meta.MicroTime? renewTime=4:meta.MicroTime? leaseTransitions=5:int32? strategy=6:string? preferredHolder=7:string?',
  },
  'k8s.io.api.core.v1': {
    AWSElasticBlockStoreVolumeSource: 'volumeID=1:string! fsType=2:string partition=3:int32 readOnly=4:bool',
    Affinity: 'nodeAffinity=1:NodeAffinity? podAffinity=2:PodAffinity? podAntiAffinity=3:PodAntiAffinity?',
    AppArmorProfile: 'type=1:string! localhostProfile=2:string?',
    AttachedVolume: 'name=1:string! devicePath=2:string!',
    AzureDiskVolumeSource:
      'diskName=1:string! diskURI=2:string! cachingMode=3:string? fsType=4:string? readOnly=5:bool? kind=6:string?',
    AzureFilePersistentVolumeSource:
      'secretName=1:string! shareName=2:string! readOnly=3:bool secretNamespace=4:string?',
    AzureFileVolumeSource: 'secretName=1:string! shareName=2:string! readOnly=3:bool',
    Binding: 'metadata=1:meta.ObjectMeta target=2:ObjectReference!',
    CSIPersistentVolumeSource:
      'driver=1:string! volumeHandle=2:string! readOnly=3:bool fsType=4:string volumeAttributes=5:{string} controllerPublishSecretRef=6:SecretReference? nodeStageSecretRef=7:SecretReference? nodePublishSecretRef=8:SecretReference? controllerExpandSecretRef=9:SecretReference? nodeExpandSecretRef=10:SecretReference?',
    CSIVolumeSource:
      'driver=1:string! readOnly=2:bool? fsType=3:string? volumeAttributes=4:{string} nodePublishSecretRef=5:LocalObjectReference?',
    Capabilities: 'add=1:[]string drop=2:[]string',
    CephFSPersistentVolumeSource:
      'monitors=1:[]string! path=2:string user=3:string secretFile=4:string secretRef=5:SecretReference? readOnly=6:bool',
    CephFSVolumeSource:
      'monitors=1:[]string! path=2:string user=3:string secretFile=4:string secretRef=5:LocalObjectReference? readOnly=6:bool',
    CinderPersistentVolumeSource:
      'volumeID=1:string! fsType=2:string readOnly=3:bool secretRef=4:SecretReference?',
    CinderVolumeSource:
      'volumeID=1:string! fsType=2:string readOnly=3:bool secretRef=4:LocalObjectReference?',
    ClientIPConfig: 'timeoutSeconds=1:int32?',
    ClusterTrustBundleProjection:
      'name=1:string? signerName=2:string? labelSelector=3:meta.LabelSelector? optional=5:bool? path=4:string! user=6:int64?',
    ConfigMap: 'metadata=1:meta.ObjectMeta immutable=4:bool? data=2:{string} binaryData=3:{bytes}',
    ConfigMapEnvSource: 'localObjectReference=1:LocalObjectReference^ optional=2:bool?',
    ConfigMapKeySelector: 'localObjectReference=1:LocalObjectReference^ key=2:string! optional=3:bool?',
    ConfigMapList: 'metadata=1:meta.ListMeta items=2:[]ConfigMap!',
    ConfigMapNodeConfigSource:
      'namespace=1:string! name=2:string! uid=3:string resourceVersion=4:string kubeletConfigKey=5:string!',
    ConfigMapProjection: 'localObjectReference=1:LocalObjectReference^ items=2:[]KeyToPath optional=4:bool?',
    ConfigMapVolumeSource:
      'localObjectReference=1:LocalObjectReference^ items=2:[]KeyToPath defaultMode=3:int32? optional=4:bool? defaultUser=5:int64?',
    Container:
      'name=1:string! image=2:string command=3:[]string args=4:[]string workingDir=5:string ports=6:[]ContainerPort envFrom=19:[]EnvFromSource env=7:[]EnvVar resources=8:ResourceRequirements resizePolicy=23:[]ContainerResizePolicy restartPolicy=24:string? restartPolicyRules=25:[]ContainerRestartRule volumeMounts=9:[]VolumeMount volumeDevices=21:[]VolumeDevice livenessProbe=10:Probe? readinessProbe=11:Probe? startupProbe=22:Probe? lifecycle=12:Lifecycle? terminationMessagePath=13:string terminationMessagePolicy=20:string imagePullPolicy=14:string securityContext=15:SecurityContext? stdin=16:bool stdinOnce=17:bool tty=18:bool',
    ContainerExtendedResourceRequest: 'containerName=1:string! resourceName=2:string! requestName=3:string!',
    ContainerImage: 'names=1:[]string! sizeBytes=2:int64',
    ContainerPort: 'name=1:string hostPort=2:int32 containerPort=3:int32! protocol=4:string hostIP=5:string',
    ContainerResizePolicy: 'resourceName=1:string! restartPolicy=2:string!',
    ContainerRestartRule: 'action=1:string exitCodes=2:ContainerRestartRuleOnExitCodes?',
    ContainerRestartRuleOnExitCodes: 'operator=1:string values=2:[]int32',
    ContainerState:
      'waiting=1:ContainerStateWaiting? running=2:ContainerStateRunning? terminated=3:ContainerStateTerminated?',
    ContainerStateRunning: 'startedAt=1:meta.Time',
    ContainerStateTerminated:
      'exitCode=1:int32! signal=2:int32 reason=3:string message=4:string startedAt=5:meta.Time finishedAt=6:meta.Time containerID=7:string',
    ContainerStateWaiting: 'reason=1:string message=2:string',
    ContainerStatus:
      'name=1:string! state=2:ContainerState lastState=3:ContainerState ready=4:bool! restartCount=5:int32! image=6:string! imageID=7:string! containerID=8:string started=9:bool? allocatedResources=10:{resource.Quantity} resources=11:ResourceRequirements? volumeMounts=12:[]VolumeMountStatus user=13:ContainerUser? allocatedResourcesStatus=14:[]ResourceStatus stopSignal=15:string?',
    ContainerUser: 'linux=1:LinuxContainerUser?',
    DaemonEndpoint: 'Port=1:int32!',
    DownwardAPIProjection: 'items=1:[]DownwardAPIVolumeFile',
    DownwardAPIVolumeFile:
      'path=1:string! fieldRef=2:ObjectFieldSelector? resourceFieldRef=3:ResourceFieldSelector? mode=4:int32? user=5:int64?',
    DownwardAPIVolumeSource: 'items=1:[]DownwardAPIVolumeFile defaultMode=2:int32? defaultUser=3:int64?',
    EmptyDirVolumeSource: 'medium=1:string sizeLimit=2:resource.Quantity? mode=3:int32?',
    EndpointAddress: 'ip=1:string! hostname=3:string nodeName=4:string? targetRef=2:ObjectReference?',
    EndpointPort: 'name=1:string port=2:int32! protocol=3:string appProtocol=4:string?',
    EndpointSubset:
      'addresses=1:[]EndpointAddress notReadyAddresses=2:[]EndpointAddress ports=3:[]EndpointPort',
    Endpoints: 'metadata=1:meta.ObjectMeta subsets=2:[]EndpointSubset',
    EndpointsList: 'metadata=1:meta.ListMeta items=2:[]Endpoints!',
    EnvFromSource: 'prefix=1:string configMapRef=2:ConfigMapEnvSource? secretRef=3:SecretEnvSource?',
    EnvVar: 'name=1:string! value=2:string valueFrom=3:EnvVarSource?',
    EnvVarSource:
      'fieldRef=1:ObjectFieldSelector? resourceFieldRef=2:ResourceFieldSelector? configMapKeyRef=3:ConfigMapKeySelector? secretKeyRef=4:SecretKeySelector? fileKeyRef=5:FileKeySelector?',
    EphemeralContainer: 'ephemeralContainerCommon=1:EphemeralContainerCommon^ targetContainerName=2:string',
    EphemeralContainerCommon:
      'name=1:string! image=2:string command=3:[]string args=4:[]string workingDir=5:string ports=6:[]ContainerPort envFrom=19:[]EnvFromSource env=7:[]EnvVar resources=8:ResourceRequirements resizePolicy=23:[]ContainerResizePolicy restartPolicy=24:string? restartPolicyRules=25:[]ContainerRestartRule volumeMounts=9:[]VolumeMount volumeDevices=21:[]VolumeDevice livenessProbe=10:Probe? readinessProbe=11:Probe? startupProbe=22:Probe? lifecycle=12:Lifecycle? terminationMessagePath=13:string terminationMessagePolicy=20:string imagePullPolicy=14:string securityContext=15:SecurityContext? stdin=16:bool stdinOnce=17:bool tty=18:bool',
    EphemeralVolumeSource: 'volumeClaimTemplate=1:PersistentVolumeClaimTemplate?',
    Event:
      'metadata=1:meta.ObjectMeta! involvedObject=2:ObjectReference! reason=3:string message=4:string source=5:EventSource firstTimestamp=6:meta.Time lastTimestamp=7:meta.Time count=8:int32 type=9:string eventTime=10:meta.MicroTime series=11:EventSeries? action=12:string related=13:ObjectReference? reportingComponent=14:string! reportingInstance=15:string!',
    EventList: 'metadata=1:meta.ListMeta items=2:[]Event!',
    EventSeries: 'count=1:int32 lastObservedTime=2:meta.MicroTime',
    EventSource: 'component=1:string host=2:string',
    EvictionResponder: 'name=1:string! priority=2:int32?',
    ExecAction: 'command=1:[]string',
    FCVolumeSource: 'targetWWNs=1:[]string lun=2:int32? fsType=3:string readOnly=4:bool wwids=5:[]string',
    FileKeySelector: 'volumeName=1:string! path=2:string! key=3:string! optional=4:bool?',
    FlexPersistentVolumeSource:
      'driver=1:string! fsType=2:string secretRef=3:SecretReference? readOnly=4:bool options=5:{string}',
    FlexVolumeSource:
      'driver=1:string! fsType=2:string secretRef=3:LocalObjectReference? readOnly=4:bool options=5:{string}',
    FlockerVolumeSource: 'datasetName=1:string datasetUUID=2:string',
    GCEPersistentDiskVolumeSource: 'pdName=1:string! fsType=2:string partition=3:int32 readOnly=4:bool',
    GRPCAction: 'port=1:int32! service=2:string? mode=3:string?',
    GitRepoVolumeSource: 'repository=1:string! revision=2:string directory=3:string',
    GlusterfsPersistentVolumeSource:
      'endpoints=1:string! path=2:string! readOnly=3:bool endpointsNamespace=4:string?',
    GlusterfsVolumeSource: 'endpoints=1:string! path=2:string! readOnly=3:bool',
    HTTPGetAction:
      'path=1:string port=2:intstr.IntOrString! host=3:string scheme=4:string httpHeaders=5:[]HTTPHeader protocol=6:string?',
    HTTPHeader: 'name=1:string! value=2:string!',
    HostAlias: 'ip=1:string! hostnames=2:[]string',
    HostIP: 'ip=1:string!',
    HostPathVolumeSource: 'path=1:string! type=2:string?',
    ISCSIPersistentVolumeSource:
      'targetPortal=1:string! iqn=2:string! lun=3:int32! iscsiInterface=4:string fsType=5:string readOnly=6:bool portals=7:[]string chapAuthDiscovery=8:bool chapAuthSession=11:bool secretRef=10:SecretReference? initiatorName=12:string?',
    ISCSIVolumeSource:
      'targetPortal=1:string! iqn=2:string! lun=3:int32! iscsiInterface=4:string fsType=5:string readOnly=6:bool portals=7:[]string chapAuthDiscovery=8:bool chapAuthSession=11:bool secretRef=10:LocalObjectReference? initiatorName=12:string?',
    ImageVolumeSource: 'reference=1:string pullPolicy=2:string',
    ImageVolumeStatus: 'imageRef=1:string',
    KeyToPath: 'key=1:string! path=2:string! mode=3:int32? user=4:int64?',
    Lifecycle: 'postStart=1:LifecycleHandler? preStop=2:LifecycleHandler? stopSignal=3:string?',
    LifecycleHandler:
      'exec=1:ExecAction? httpGet=2:HTTPGetAction? tcpSocket=3:TCPSocketAction? sleep=4:SleepAction?',
    LimitRange: 'metadata=1:meta.ObjectMeta spec=2:LimitRangeSpec',
    LimitRangeItem:
      'type=1:string! max=2:{resource.Quantity} min=3:{resource.Quantity} default=4:{resource.Quantity} defaultRequest=5:{resource.Quantity} maxLimitRequestRatio=6:{resource.Quantity}',
    LimitRangeList: 'metadata=1:meta.ListMeta items=2:[]LimitRange!',
    LimitRangeSpec: 'limits=1:[]LimitRangeItem!',
    LinuxContainerUser: 'uid=1:int64! gid=2:int64! supplementalGroups=3:[]int64',
    LoadBalancerIngress: 'ip=1:string hostname=2:string ipMode=3:string? ports=4:[]PortStatus',
    LoadBalancerStatus: 'ingress=1:[]LoadBalancerIngress',
    LocalObjectReference: 'name=1:string',
    LocalVolumeSource: 'path=1:string! fsType=2:string?',
    ModifyVolumeStatus: 'targetVolumeAttributesClassName=1:string status=2:string!',
    NFSVolumeSource: 'server=1:string! path=2:string! readOnly=3:bool',
    Namespace: 'metadata=1:meta.ObjectMeta spec=2:NamespaceSpec status=3:NamespaceStatus',
    NamespaceCondition:
      'type=1:string! status=2:string! lastTransitionTime=4:meta.Time reason=5:string message=6:string',
    NamespaceList: 'metadata=1:meta.ListMeta items=2:[]Namespace!',
    NamespaceSpec: 'finalizers=1:[]string',
    NamespaceStatus: 'phase=1:string conditions=2:[]NamespaceCondition',
    Node: 'metadata=1:meta.ObjectMeta spec=2:NodeSpec status=3:NodeStatus',
    NodeAddress: 'type=1:string! address=2:string!',
    NodeAffinity:
      'requiredDuringSchedulingIgnoredDuringExecution=1:NodeSelector? preferredDuringSchedulingIgnoredDuringExecution=2:[]PreferredSchedulingTerm',
    NodeAllocatableMappedResources: 'name=1:string! quantity=2:resource.Quantity?',
    NodeAllocatableOverheadResources:
      'name=1:string! perPod=2:resource.Quantity? perContainer=3:resource.Quantity?',
    NodeAllocatableResourceClaimStatus:
      'resourceClaimName=1:string! containers=2:[]string mapping=4:[]NodeAllocatableMappedResources overhead=5:[]NodeAllocatableOverheadResources',
    NodeCondition:
      'type=1:string! status=2:string! lastHeartbeatTime=3:meta.Time lastTransitionTime=4:meta.Time reason=5:string message=6:string',
    NodeConfigSource: 'configMap=2:ConfigMapNodeConfigSource?',
    NodeConfigStatus:
      'assigned=1:NodeConfigSource? active=2:NodeConfigSource? lastKnownGood=3:NodeConfigSource? error=4:string',
    NodeDaemonEndpoints: 'kubeletEndpoint=1:DaemonEndpoint',
    NodeFeatures: 'supplementalGroupsPolicy=1:bool?',
    NodeList: 'metadata=1:meta.ListMeta items=2:[]Node!',
    NodePodPreemptionPolicy: 'disableResizePreemption=1:[]string',
    NodeRuntimeHandler: 'name=1:string! features=2:NodeRuntimeHandlerFeatures?',
    NodeRuntimeHandlerFeatures: 'recursiveReadOnlyMounts=1:bool? userNamespaces=2:bool?',
    NodeSelector: 'nodeSelectorTerms=1:[]NodeSelectorTerm!',
    NodeSelectorRequirement: 'key=1:string! operator=2:string! values=3:[]string',
    NodeSelectorTerm: 'matchExpressions=1:[]NodeSelectorRequirement matchFields=2:[]NodeSelectorRequirement',
    NodeSpec:
      'podCIDR=1:string podCIDRs=7:[]string providerID=3:string unschedulable=4:bool taints=5:[]Taint configSource=6:NodeConfigSource? externalID=2:string podPreemptionPolicy=8:NodePodPreemptionPolicy?',
    NodeStatus:
      'capacity=1:{resource.Quantity} allocatable=2:{resource.Quantity} phase=3:string conditions=4:[]NodeCondition addresses=5:[]NodeAddress daemonEndpoints=6:NodeDaemonEndpoints nodeInfo=7:NodeSystemInfo images=8:[]ContainerImage volumesInUse=9:[]string volumesAttached=10:[]AttachedVolume config=11:NodeConfigStatus? runtimeHandlers=12:[]NodeRuntimeHandler features=13:NodeFeatures? declaredFeatures=14:[]string',
    NodeSwapStatus: 'capacity=1:int64?',
    NodeSystemInfo:
      'machineID=1:string! systemUUID=2:string! bootID=3:string! kernelVersion=4:string! osImage=5:string! containerRuntimeVersion=6:string! kubeletVersion=7:string! kubeProxyVersion=8:string! operatingSystem=9:string! architecture=10:string! swap=11:NodeSwapStatus?',
    ObjectFieldSelector: 'apiVersion=1:string fieldPath=2:string!',
    ObjectReference:
      'kind=1:string namespace=2:string name=3:string uid=4:string apiVersion=5:string resourceVersion=6:string fieldPath=7:string',
    PersistentVolume:
      'metadata=1:meta.ObjectMeta spec=2:PersistentVolumeSpec status=3:PersistentVolumeStatus',
    PersistentVolumeClaim:
      'metadata=1:meta.ObjectMeta spec=2:PersistentVolumeClaimSpec status=3:PersistentVolumeClaimStatus',
    PersistentVolumeClaimCondition:
      'type=1:string! status=2:string! lastProbeTime=3:meta.Time lastTransitionTime=4:meta.Time reason=5:string message=6:string',
    PersistentVolumeClaimList: 'metadata=1:meta.ListMeta items=2:[]PersistentVolumeClaim!',
    PersistentVolumeClaimSpec:
      'accessModes=1:[]string selector=4:meta.LabelSelector? resources=2:VolumeResourceRequirements volumeName=3:string storageClassName=5:string? volumeMode=6:string? dataSource=7:TypedLocalObjectReference? dataSourceRef=8:TypedObjectReference? volumeAttributesClassName=9:string?',
    PersistentVolumeClaimStatus:
      'phase=1:string accessModes=2:[]string capacity=3:{resource.Quantity} conditions=4:[]PersistentVolumeClaimCondition allocatedResources=5:{resource.Quantity} allocatedResourceStatuses=7:{string} currentVolumeAttributesClassName=8:string? modifyVolumeStatus=9:ModifyVolumeStatus? healthStatus=10:VolumeHealthStatus?',
    PersistentVolumeClaimTemplate: 'metadata=1:meta.ObjectMeta spec=2:PersistentVolumeClaimSpec!',
    PersistentVolumeClaimVolumeSource: 'claimName=1:string! readOnly=2:bool',
    PersistentVolumeList: 'metadata=1:meta.ListMeta items=2:[]PersistentVolume!',
    PersistentVolumeSource:
      'gcePersistentDisk=1:GCEPersistentDiskVolumeSource? awsElasticBlockStore=2:AWSElasticBlockStoreVolumeSource? hostPath=3:HostPathVolumeSource? glusterfs=4:GlusterfsPersistentVolumeSource? nfs=5:NFSVolumeSource? rbd=6:RBDPersistentVolumeSource? iscsi=7:ISCSIPersistentVolumeSource? cinder=8:CinderPersistentVolumeSource? cephfs=9:CephFSPersistentVolumeSource? fc=10:FCVolumeSource? flocker=11:FlockerVolumeSource? flexVolume=12:FlexPersistentVolumeSource? azureFile=13:AzureFilePersistentVolumeSource? vsphereVolume=14:VsphereVirtualDiskVolumeSource? quobyte=15:QuobyteVolumeSource? azureDisk=16:AzureDiskVolumeSource? photonPersistentDisk=17:PhotonPersistentDiskVolumeSource? portworxVolume=18:PortworxVolumeSource? scaleIO=19:ScaleIOPersistentVolumeSource? local=20:LocalVolumeSource? storageos=21:StorageOSPersistentVolumeSource? csi=22:CSIPersistentVolumeSource?',
    PersistentVolumeSpec:
      'capacity=1:{resource.Quantity} persistentVolumeSource=2:PersistentVolumeSource^ accessModes=3:[]string claimRef=4:ObjectReference? persistentVolumeReclaimPolicy=5:string storageClassName=6:string mountOptions=7:[]string volumeMode=8:string? nodeAffinity=9:VolumeNodeAffinity? volumeAttributesClassName=10:string?',
    PersistentVolumeStatus:
      'phase=1:string message=2:string reason=3:string lastPhaseTransitionTime=4:meta.Time?',
    PhotonPersistentDiskVolumeSource: 'pdID=1:string! fsType=2:string',
    Pod: 'metadata=1:meta.ObjectMeta spec=2:PodSpec status=3:PodStatus',
    PodAffinity:
      'requiredDuringSchedulingIgnoredDuringExecution=1:[]PodAffinityTerm preferredDuringSchedulingIgnoredDuringExecution=2:[]WeightedPodAffinityTerm',
    PodAffinityTerm:
      'labelSelector=1:meta.LabelSelector? namespaces=2:[]string topologyKey=3:string! namespaceSelector=4:meta.LabelSelector? matchLabelKeys=5:[]string mismatchLabelKeys=6:[]string',
    PodAntiAffinity:
      'requiredDuringSchedulingIgnoredDuringExecution=1:[]PodAffinityTerm preferredDuringSchedulingIgnoredDuringExecution=2:[]WeightedPodAffinityTerm',
    PodCertificateProjection:
      'signerName=1:string keyType=2:string maxExpirationSeconds=3:int32? credentialBundlePath=4:string keyPath=5:string certificateChainPath=6:string userAnnotations=7:{string} user=8:int64?',
    PodCondition:
      'type=1:string! observedGeneration=7:int64 status=2:string! lastProbeTime=3:meta.Time lastTransitionTime=4:meta.Time reason=5:string message=6:string',
    PodDNSConfig: 'nameservers=1:[]string searches=2:[]string options=3:[]PodDNSConfigOption',
    PodDNSConfigOption: 'name=1:string value=2:string?',
    PodExtendedResourceClaimStatus:
      'requestMappings=1:[]ContainerExtendedResourceRequest! resourceClaimName=2:string!',
    PodIP: 'ip=1:string!',
    PodList: 'metadata=1:meta.ListMeta items=2:[]Pod!',
    PodOS: 'name=1:string!',
    PodReadinessGate: 'conditionType=1:string!',
    PodResourceClaim: 'name=1:string! resourceClaimName=3:string? resourceClaimTemplateName=4:string?',
    PodResourceClaimStatus: 'name=1:string! resourceClaimName=2:string?',
    PodSchedulingGate: 'name=1:string!',
    PodSchedulingGroup: 'podGroupName=1:string?',
    PodSecurityContext:
      'seLinuxOptions=1:SELinuxOptions? windowsOptions=8:WindowsSecurityContextOptions? runAsUser=2:int64? runAsGroup=6:int64? runAsNonRoot=3:bool? supplementalGroups=4:[]int64 supplementalGroupsPolicy=12:string? fsGroup=5:int64? sysctls=7:[]Sysctl fsGroupChangePolicy=9:string? seccompProfile=10:SeccompProfile? appArmorProfile=11:AppArmorProfile? seLinuxChangePolicy=13:string?',
    PodSpec:
      'volumes=1:[]Volume initContainers=20:[]Container containers=2:[]Container! ephemeralContainers=34:[]EphemeralContainer restartPolicy=3:string terminationGracePeriodSeconds=4:int64? activeDeadlineSeconds=5:int64? dnsPolicy=6:string nodeSelector=7:{string} serviceAccountName=8:string serviceAccount=9:string automountServiceAccountToken=21:bool? nodeName=10:string hostNetwork=11:bool hostPID=12:bool hostIPC=13:bool shareProcessNamespace=27:bool? securityContext=14:PodSecurityContext? imagePullSecrets=15:[]LocalObjectReference hostname=16:string subdomain=17:string affinity=18:Affinity? schedulerName=19:string tolerations=22:[]Toleration hostAliases=23:[]HostAlias priorityClassName=24:string priority=25:int32? dnsConfig=26:PodDNSConfig? readinessGates=28:[]PodReadinessGate runtimeClassName=29:string? enableServiceLinks=30:bool? preemptionPolicy=31:string? overhead=32:{resource.Quantity} topologySpreadConstraints=33:[]TopologySpreadConstraint setHostnameAsFQDN=35:bool? os=36:PodOS? hostUsers=37:bool? schedulingGates=38:[]PodSchedulingGate resourceClaims=39:[]PodResourceClaim resources=40:ResourceRequirements? hostnameOverride=41:string? schedulingGroup=43:PodSchedulingGroup? evictionResponders=44:[]EvictionResponder',
    PodStatus:
      'observedGeneration=17:int64 phase=1:string conditions=2:[]PodCondition message=3:string reason=4:string nominatedNodeName=11:string hostIP=5:string hostIPs=16:[]HostIP podIP=6:string podIPs=12:[]PodIP startTime=7:meta.Time? initContainerStatuses=10:[]ContainerStatus containerStatuses=8:[]ContainerStatus qosClass=9:string ephemeralContainerStatuses=13:[]ContainerStatus resize=14:string resourceClaimStatuses=15:[]PodResourceClaimStatus extendedResourceClaimStatus=18:PodExtendedResourceClaimStatus? allocatedResources=19:{resource.Quantity} resources=20:ResourceRequirements? nodeAllocatableResourceClaimStatuses=21:[]NodeAllocatableResourceClaimStatus volumeHealth=22:[]PodVolumeHealth',
    PodTemplate: 'metadata=1:meta.ObjectMeta template=2:PodTemplateSpec',
    PodTemplateList: 'metadata=1:meta.ListMeta items=2:[]PodTemplate!',
    PodTemplateSpec: 'metadata=1:meta.ObjectMeta spec=2:PodSpec',
    PodVolumeHealth:
      'name=1:string! healthConditions=2:[]VolumeHealthCondition lastTransitionTime=3:meta.Time',
    PortStatus: 'port=1:int32! protocol=2:string! error=3:string?',
    PortworxVolumeSource: 'volumeID=1:string! fsType=2:string readOnly=3:bool',
    PreferredSchedulingTerm: 'weight=1:int32! preference=2:NodeSelectorTerm!',
    Probe:
      'handler=1:ProbeHandler^ initialDelaySeconds=2:int32 timeoutSeconds=3:int32 periodSeconds=4:int32 successThreshold=5:int32 failureThreshold=6:int32 terminationGracePeriodSeconds=7:int64?',
    ProbeHandler:
      'exec=1:ExecAction? httpGet=2:HTTPGetAction? tcpSocket=3:TCPSocketAction? grpc=4:GRPCAction?',
    ProjectedVolumeSource: 'sources=1:[]VolumeProjection! defaultMode=2:int32? defaultUser=3:int64?',
    QuobyteVolumeSource:
      'registry=1:string! volume=2:string! readOnly=3:bool user=4:string group=5:string tenant=6:string',
    RBDPersistentVolumeSource:
      'monitors=1:[]string! image=2:string! fsType=3:string pool=4:string user=5:string keyring=6:string secretRef=7:SecretReference? readOnly=8:bool',
    RBDVolumeSource:
      'monitors=1:[]string! image=2:string! fsType=3:string pool=4:string user=5:string keyring=6:string secretRef=7:LocalObjectReference? readOnly=8:bool',
    ReplicationController:
      'metadata=1:meta.ObjectMeta spec=2:ReplicationControllerSpec status=3:ReplicationControllerStatus',
    ReplicationControllerCondition:
      'type=1:string! status=2:string! lastTransitionTime=3:meta.Time reason=4:string message=5:string',
    ReplicationControllerList: 'metadata=1:meta.ListMeta items=2:[]ReplicationController!',
    ReplicationControllerSpec:
      'replicas=1:int32? minReadySeconds=4:int32 selector=2:{string} template=3:PodTemplateSpec?',
    ReplicationControllerStatus:
      'replicas=1:int32! fullyLabeledReplicas=2:int32 readyReplicas=4:int32 availableReplicas=5:int32 observedGeneration=3:int64 conditions=6:[]ReplicationControllerCondition',
    ResourceClaim: 'name=1:string! request=2:string',
    ResourceFieldSelector: 'containerName=1:string resource=2:string! divisor=3:resource.Quantity',
    ResourceHealth: 'resourceID=1:string! health=2:string message=6:string?',
    ResourceQuota: 'metadata=1:meta.ObjectMeta spec=2:ResourceQuotaSpec status=3:ResourceQuotaStatus',
    ResourceQuotaList: 'metadata=1:meta.ListMeta items=2:[]ResourceQuota!',
    ResourceQuotaSpec: 'hard=1:{resource.Quantity} scopes=2:[]string scopeSelector=3:ScopeSelector?',
    ResourceQuotaStatus: 'hard=1:{resource.Quantity} used=2:{resource.Quantity}',
    ResourceRequirements:
      'limits=1:{resource.Quantity} requests=2:{resource.Quantity} claims=3:[]ResourceClaim',
    ResourceStatus: 'name=1:string! resources=2:[]ResourceHealth',
    SELinuxOptions: 'user=1:string role=2:string type=3:string level=4:string',
    ScaleIOPersistentVolumeSource:
      'gateway=1:string! system=2:string! secretRef=3:SecretReference? sslEnabled=4:bool protectionDomain=5:string storagePool=6:string storageMode=7:string volumeName=8:string fsType=9:string readOnly=10:bool',
    ScaleIOVolumeSource:
      'gateway=1:string! system=2:string! secretRef=3:LocalObjectReference? sslEnabled=4:bool protectionDomain=5:string storagePool=6:string storageMode=7:string volumeName=8:string fsType=9:string readOnly=10:bool',
    ScopeSelector: 'matchExpressions=1:[]ScopedResourceSelectorRequirement',
    ScopedResourceSelectorRequirement: 'scopeName=1:string! operator=2:string! values=3:[]string',
    SeccompProfile: 'type=1:string! localhostProfile=2:string?',
    Secret: 'metadata=1:meta.ObjectMeta immutable=5:bool? data=2:{bytes} stringData=4:{string} type=3:string',
    SecretEnvSource: 'localObjectReference=1:LocalObjectReference^ optional=2:bool?',
    SecretKeySelector: 'localObjectReference=1:LocalObjectReference^ key=2:string! optional=3:bool?',
    SecretList: 'metadata=1:meta.ListMeta items=2:[]Secret!',
    SecretProjection: 'localObjectReference=1:LocalObjectReference^ items=2:[]KeyToPath optional=4:bool?',
    SecretReference: 'name=1:string namespace=2:string',
    SecretVolumeSource:
      'secretName=1:string items=2:[]KeyToPath defaultMode=3:int32? optional=4:bool? defaultUser=5:int64?',
    SecurityContext:
      'capabilities=1:Capabilities? privileged=2:bool? seLinuxOptions=3:SELinuxOptions? windowsOptions=10:WindowsSecurityContextOptions? runAsUser=4:int64? runAsGroup=8:int64? runAsNonRoot=5:bool? readOnlyRootFilesystem=6:bool? allowPrivilegeEscalation=7:bool? procMount=9:string? seccompProfile=11:SeccompProfile? appArmorProfile=12:AppArmorProfile?',
    Service: 'metadata=1:meta.ObjectMeta spec=2:ServiceSpec status=3:ServiceStatus',
    ServiceAccount:
      'metadata=1:meta.ObjectMeta secrets=2:[]ObjectReference imagePullSecrets=3:[]LocalObjectReference automountServiceAccountToken=4:bool?',
    ServiceAccountList: 'metadata=1:meta.ListMeta items=2:[]ServiceAccount!',
    ServiceAccountTokenProjection:
      'audience=1:string expirationSeconds=2:int64? path=3:string! user=4:int64?',
    ServiceList: 'metadata=1:meta.ListMeta items=2:[]Service!',
    ServicePort:
      'name=1:string protocol=2:string appProtocol=6:string? port=3:int32! targetPort=4:intstr.IntOrString nodePort=5:int32',
    ServiceSpec:
      'ports=1:[]ServicePort selector=2:{string} clusterIP=3:string clusterIPs=18:[]string type=4:string externalIPs=5:[]string sessionAffinity=7:string loadBalancerIP=8:string loadBalancerSourceRanges=9:[]string externalName=10:string externalTrafficPolicy=11:string healthCheckNodePort=12:int32 publishNotReadyAddresses=13:bool sessionAffinityConfig=14:SessionAffinityConfig? ipFamilies=19:[]string ipFamilyPolicy=17:string? allocateLoadBalancerNodePorts=20:bool? loadBalancerClass=21:string? internalTrafficPolicy=22:string? trafficDistribution=23:string?',
    ServiceStatus: 'loadBalancer=1:LoadBalancerStatus conditions=2:[]meta.Condition',
    SessionAffinityConfig: 'clientIP=1:ClientIPConfig?',
    SleepAction: 'seconds=1:int64!',
    StorageOSPersistentVolumeSource:
      'volumeName=1:string volumeNamespace=2:string fsType=3:string readOnly=4:bool secretRef=5:ObjectReference?',
    StorageOSVolumeSource:
      'volumeName=1:string volumeNamespace=2:string fsType=3:string readOnly=4:bool secretRef=5:LocalObjectReference?',
    Sysctl: 'name=1:string! value=2:string!',
    TCPSocketAction: 'port=1:intstr.IntOrString! host=2:string',
    Taint: 'key=1:string! value=2:string effect=3:string! timeAdded=4:meta.Time?',
    Toleration: 'key=1:string operator=2:string value=3:string effect=4:string tolerationSeconds=5:int64?',
    TopologySelectorLabelRequirement: 'key=1:string! values=2:[]string!',
    TopologySelectorTerm: 'matchLabelExpressions=1:[]TopologySelectorLabelRequirement',
    TopologySpreadConstraint:
      'maxSkew=1:int32! topologyKey=2:string! whenUnsatisfiable=3:string! labelSelector=4:meta.LabelSelector? minDomains=5:int32? nodeAffinityPolicy=6:string? nodeTaintsPolicy=7:string? matchLabelKeys=8:[]string',
    TypedLocalObjectReference: 'apiGroup=1:string? kind=2:string! name=3:string!',
    TypedObjectReference: 'apiGroup=1:string? kind=2:string! name=3:string! namespace=4:string?',
    Volume: 'name=1:string! volumeSource=2:VolumeSource^',
    VolumeDevice: 'name=1:string! devicePath=2:string!',
    VolumeHealthCondition: 'status=1:string! reason=2:string! message=3:string',
    VolumeHealthStatus: 'healthConditions=1:[]VolumeHealthCondition lastTransitionTime=2:meta.Time',
    VolumeMount:
      'name=1:string! readOnly=2:bool recursiveReadOnly=7:string? mountPath=3:string! subPath=4:string mountPropagation=5:string? subPathExpr=6:string bindMountOptions=8:[]string',
    VolumeMountStatus:
      'name=1:string! mountPath=2:string! readOnly=3:bool recursiveReadOnly=4:string? volumeStatus=5:VolumeStatus?',
    VolumeNodeAffinity: 'required=1:NodeSelector?',
    VolumeProjection:
      'secret=1:SecretProjection? downwardAPI=2:DownwardAPIProjection? configMap=3:ConfigMapProjection? serviceAccountToken=4:ServiceAccountTokenProjection? clusterTrustBundle=5:ClusterTrustBundleProjection? podCertificate=6:PodCertificateProjection?',
    VolumeResourceRequirements: 'limits=1:{resource.Quantity} requests=2:{resource.Quantity}',
    VolumeSource:
      'hostPath=1:HostPathVolumeSource? emptyDir=2:EmptyDirVolumeSource? gcePersistentDisk=3:GCEPersistentDiskVolumeSource? awsElasticBlockStore=4:AWSElasticBlockStoreVolumeSource? gitRepo=5:GitRepoVolumeSource? secret=6:SecretVolumeSource? nfs=7:NFSVolumeSource? iscsi=8:ISCSIVolumeSource? glusterfs=9:GlusterfsVolumeSource? persistentVolumeClaim=10:PersistentVolumeClaimVolumeSource? rbd=11:RBDVolumeSource? flexVolume=12:FlexVolumeSource? cinder=13:CinderVolumeSource? cephfs=14:CephFSVolumeSource? flocker=15:FlockerVolumeSource? downwardAPI=16:DownwardAPIVolumeSource? fc=17:FCVolumeSource? azureFile=18:AzureFileVolumeSource? configMap=19:ConfigMapVolumeSource? vsphereVolume=20:VsphereVirtualDiskVolumeSource? quobyte=21:QuobyteVolumeSource? azureDisk=22:AzureDiskVolumeSource? photonPersistentDisk=23:PhotonPersistentDiskVolumeSource? projected=26:ProjectedVolumeSource? portworxVolume=24:PortworxVolumeSource? scaleIO=25:ScaleIOVolumeSource? storageos=27:StorageOSVolumeSource? csi=28:CSIVolumeSource? ephemeral=29:EphemeralVolumeSource? image=30:ImageVolumeSource?',
    VolumeStatus: 'image=1:ImageVolumeStatus?',
    VsphereVirtualDiskVolumeSource:
      'volumePath=1:string! fsType=2:string storagePolicyName=3:string storagePolicyID=4:string',
    WeightedPodAffinityTerm: 'weight=1:int32! podAffinityTerm=2:PodAffinityTerm!',
    WindowsSecurityContextOptions:
      'gmsaCredentialSpecName=1:string? gmsaCredentialSpec=2:string? runAsUserName=3:string? hostProcess=4:bool?',
  },
  'k8s.io.api.discovery.v1': {
    Endpoint:
      'addresses=1:[]string! conditions=2:EndpointConditions hostname=3:string? targetRef=4:core.ObjectReference? deprecatedTopology=5:{string} nodeName=6:string? zone=7:string? hints=8:EndpointHints?',
    EndpointConditions: 'ready=1:bool? serving=2:bool? terminating=3:bool?',
    EndpointHints: 'forZones=1:[]ForZone forNodes=2:[]ForNode',
    EndpointPort: 'name=1:string? protocol=2:string? port=3:int32? appProtocol=4:string?',
    EndpointSlice:
      'metadata=1:meta.ObjectMeta addressType=4:string! endpoints=2:[]Endpoint! ports=3:[]EndpointPort!',
    EndpointSliceList: 'metadata=1:meta.ListMeta items=2:[]EndpointSlice!',
    ForNode: 'name=1:string!',
    ForZone: 'name=1:string!',
  },
  'k8s.io.api.events.v1': {
    Event:
      'metadata=1:meta.ObjectMeta! eventTime=2:meta.MicroTime! series=3:EventSeries? reportingController=4:string reportingInstance=5:string action=6:string reason=7:string regarding=8:core.ObjectReference related=9:core.ObjectReference? note=10:string type=11:string deprecatedSource=12:core.EventSource deprecatedFirstTimestamp=13:meta.Time deprecatedLastTimestamp=14:meta.Time deprecatedCount=15:int32',
    EventList: 'metadata=1:meta.ListMeta items=2:[]Event!',
    EventSeries: 'count=1:int32! lastObservedTime=2:meta.MicroTime!',
  },
  'k8s.io.api.networking.v1': {
    HTTPIngressPath: 'path=1:string pathType=3:string? backend=2:IngressBackend!',
    HTTPIngressRuleValue: 'paths=1:[]HTTPIngressPath!',
    IPBlock: 'cidr=1:string! except=2:[]string',
    Ingress: 'metadata=1:meta.ObjectMeta spec=2:IngressSpec status=3:IngressStatus',
    IngressBackend: 'service=4:IngressServiceBackend? resource=3:core.TypedLocalObjectReference?',
    IngressClass: 'metadata=1:meta.ObjectMeta spec=2:IngressClassSpec',
    IngressClassList: 'metadata=1:meta.ListMeta items=2:[]IngressClass!',
    IngressClassParametersReference:
      'aPIGroup=1:string?@apiGroup kind=2:string! name=3:string! scope=4:string? namespace=5:string?',
    IngressClassSpec: 'controller=1:string parameters=2:IngressClassParametersReference?',
    IngressList: 'metadata=1:meta.ListMeta items=2:[]Ingress!',
    IngressLoadBalancerIngress: 'ip=1:string hostname=2:string ports=4:[]IngressPortStatus',
    IngressLoadBalancerStatus: 'ingress=1:[]IngressLoadBalancerIngress',
    IngressPortStatus: 'port=1:int32! protocol=2:string! error=3:string?',
    IngressRule: 'host=1:string ingressRuleValue=2:IngressRuleValue^',
    IngressRuleValue: 'http=1:HTTPIngressRuleValue?',
    IngressServiceBackend: 'name=1:string! port=2:ServiceBackendPort',
    IngressSpec:
      'ingressClassName=4:string? defaultBackend=1:IngressBackend? tls=2:[]IngressTLS rules=3:[]IngressRule',
    IngressStatus: 'loadBalancer=1:IngressLoadBalancerStatus',
    IngressTLS: 'hosts=1:[]string secretName=2:string',
    NetworkPolicy: 'metadata=1:meta.ObjectMeta spec=2:NetworkPolicySpec',
    NetworkPolicyEgressRule: 'ports=1:[]NetworkPolicyPort to=2:[]NetworkPolicyPeer',
    NetworkPolicyIngressRule: 'ports=1:[]NetworkPolicyPort from=2:[]NetworkPolicyPeer',
    NetworkPolicyList: 'metadata=1:meta.ListMeta items=2:[]NetworkPolicy!',
    NetworkPolicyPeer:
      'podSelector=1:meta.LabelSelector? namespaceSelector=2:meta.LabelSelector? ipBlock=3:IPBlock?',
    NetworkPolicyPort: 'protocol=1:string? port=2:intstr.IntOrString? endPort=3:int32?',
    NetworkPolicySpec:
      'podSelector=1:meta.LabelSelector! ingress=2:[]NetworkPolicyIngressRule egress=3:[]NetworkPolicyEgressRule policyTypes=4:[]string',
    ServiceBackendPort: 'name=1:string number=2:int32',
  },
  'k8s.io.api.policy.v1': {
    Eviction: 'metadata=1:meta.ObjectMeta deleteOptions=2:meta.DeleteOptions?',
    PodDisruptionBudget:
      'metadata=1:meta.ObjectMeta spec=2:PodDisruptionBudgetSpec status=3:PodDisruptionBudgetStatus',
    PodDisruptionBudgetList: 'metadata=1:meta.ListMeta items=2:[]PodDisruptionBudget!',
    PodDisruptionBudgetSpec:
      'minAvailable=1:intstr.IntOrString? selector=2:meta.LabelSelector? maxUnavailable=3:intstr.IntOrString? unhealthyPodEvictionPolicy=4:string?',
    PodDisruptionBudgetStatus:
      'observedGeneration=1:int64 disruptedPods=2:{meta.Time} disruptionsAllowed=3:int32! currentHealthy=4:int32! desiredHealthy=5:int32! expectedPods=6:int32! conditions=7:[]meta.Condition',
  },
  'k8s.io.api.rbac.v1': {
    AggregationRule: 'clusterRoleSelectors=1:[]meta.LabelSelector',
    ClusterRole: 'metadata=1:meta.ObjectMeta rules=2:[]PolicyRule! aggregationRule=3:AggregationRule?',
    ClusterRoleBinding: 'metadata=1:meta.ObjectMeta subjects=2:[]Subject roleRef=3:RoleRef!',
    ClusterRoleBindingList: 'metadata=1:meta.ListMeta items=2:[]ClusterRoleBinding!',
    ClusterRoleList: 'metadata=1:meta.ListMeta items=2:[]ClusterRole!',
    PolicyRule:
      'verbs=1:[]string! apiGroups=2:[]string resources=3:[]string resourceNames=4:[]string nonResourceURLs=5:[]string',
    Role: 'metadata=1:meta.ObjectMeta rules=2:[]PolicyRule!',
    RoleBinding: 'metadata=1:meta.ObjectMeta subjects=2:[]Subject roleRef=3:RoleRef!',
    RoleBindingList: 'metadata=1:meta.ListMeta items=2:[]RoleBinding!',
    RoleList: 'metadata=1:meta.ListMeta items=2:[]Role!',
    RoleRef: 'apiGroup=1:string! kind=2:string! name=3:string!',
    Subject: 'kind=1:string! apiGroup=2:string name=3:string! namespace=4:string',
  },
  'k8s.io.api.scheduling.v1': {
    PriorityClass:
      'metadata=1:meta.ObjectMeta value=2:int32! globalDefault=3:bool description=4:string preemptionPolicy=5:string?',
    PriorityClassList: 'metadata=1:meta.ListMeta items=2:[]PriorityClass!',
  },
  'k8s.io.api.storage.v1': {
    CSIDriver: 'metadata=1:meta.ObjectMeta spec=2:CSIDriverSpec!',
    CSIDriverList: 'metadata=1:meta.ListMeta items=2:[]CSIDriver!',
    CSIDriverSpec:
      'attachRequired=1:bool? podInfoOnMount=2:bool? volumeLifecycleModes=3:[]string storageCapacity=4:bool? fsGroupPolicy=5:string? tokenRequests=6:[]TokenRequest requiresRepublish=7:bool? seLinuxMount=8:bool? nodeAllocatableUpdatePeriodSeconds=9:int64? serviceAccountTokenInSecrets=10:bool? preventPodSchedulingIfMissing=11:bool?',
    CSINode: 'metadata=1:meta.ObjectMeta spec=2:CSINodeSpec!',
    CSINodeDriver:
      'name=1:string! nodeID=2:string! topologyKeys=3:[]string! allocatable=4:VolumeNodeResources?',
    CSINodeList: 'metadata=1:meta.ListMeta items=2:[]CSINode!',
    CSINodeSpec: 'drivers=1:[]CSINodeDriver!',
    CSIStorageCapacity:
      'metadata=1:meta.ObjectMeta nodeTopology=2:meta.LabelSelector? storageClassName=3:string! capacity=4:resource.Quantity? maximumVolumeSize=5:resource.Quantity?',
    CSIStorageCapacityList: 'metadata=1:meta.ListMeta items=2:[]CSIStorageCapacity!',
    StorageClass:
      'metadata=1:meta.ObjectMeta provisioner=2:string! parameters=3:{string} reclaimPolicy=4:string? mountOptions=5:[]string allowVolumeExpansion=6:bool? volumeBindingMode=7:string? allowedTopologies=8:[]core.TopologySelectorTerm',
    StorageClassList: 'metadata=1:meta.ListMeta items=2:[]StorageClass!',
    TokenRequest: 'audience=1:string! expirationSeconds=2:int64?',
    VolumeAttachment:
      'metadata=1:meta.ObjectMeta spec=2:VolumeAttachmentSpec! status=3:VolumeAttachmentStatus',
    VolumeAttachmentList: 'metadata=1:meta.ListMeta items=2:[]VolumeAttachment!',
    VolumeAttachmentSource: 'persistentVolumeName=1:string? inlineVolumeSpec=2:core.PersistentVolumeSpec?',
    VolumeAttachmentSpec: 'attacher=1:string! source=2:VolumeAttachmentSource! nodeName=3:string!',
    VolumeAttachmentStatus:
      'attached=1:bool! attachmentMetadata=2:{string} attachError=3:VolumeError? detachError=4:VolumeError?',
    VolumeError: 'time=1:meta.Time message=2:string errorCode=3:int32?',
    VolumeNodeResources: 'count=1:int32?',
  },
  'k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1': {
    CustomResourceColumnDefinition:
      'name=1:string! type=2:string! format=3:string description=4:string priority=5:int32 jsonPath=6:string!',
    CustomResourceConversion: 'strategy=1:string! webhook=2:WebhookConversion?',
    CustomResourceDefinition:
      'metadata=1:meta.ObjectMeta spec=2:CustomResourceDefinitionSpec! status=3:CustomResourceDefinitionStatus',
    CustomResourceDefinitionCondition:
      'type=1:string! status=2:string! lastTransitionTime=3:meta.Time reason=4:string message=5:string observedGeneration=6:int64',
    CustomResourceDefinitionList: 'metadata=1:meta.ListMeta items=2:[]CustomResourceDefinition!',
    CustomResourceDefinitionNames:
      'plural=1:string! singular=2:string shortNames=3:[]string kind=4:string! listKind=5:string categories=6:[]string',
    CustomResourceDefinitionSpec:
      'group=1:string! names=3:CustomResourceDefinitionNames! scope=4:string! versions=7:[]CustomResourceDefinitionVersion! conversion=9:CustomResourceConversion? preserveUnknownFields=10:bool',
    CustomResourceDefinitionStatus:
      'conditions=1:[]CustomResourceDefinitionCondition! acceptedNames=2:CustomResourceDefinitionNames! storedVersions=3:[]string! observedGeneration=4:int64',
    CustomResourceDefinitionVersion:
      'name=1:string! served=2:bool! storage=3:bool! deprecated=7:bool deprecationWarning=8:string? schema=4:CustomResourceValidation? subresources=5:CustomResourceSubresources? additionalPrinterColumns=6:[]CustomResourceColumnDefinition selectableFields=9:[]SelectableField',
    CustomResourceSubresourceScale:
      'specReplicasPath=1:string! statusReplicasPath=2:string! labelSelectorPath=3:string?',
    CustomResourceSubresourceStatus: '',
    CustomResourceSubresources:
      'status=1:CustomResourceSubresourceStatus? scale=2:CustomResourceSubresourceScale?',
    CustomResourceValidation: 'openAPIV3Schema=1:JSONSchemaProps?',
    ExternalDocumentation: 'description=1:string url=2:string',
    JSON: 'raw=1:bytes',
    JSONSchemaProps:
      'id=1:string schema=2:string@$schema ref=3:string?@$ref description=4:string type=5:string format=6:string title=7:string default=8:JSON? maximum=9:double? exclusiveMaximum=10:bool minimum=11:double? exclusiveMinimum=12:bool maxLength=13:int64? minLength=14:int64? pattern=15:string maxItems=16:int64? minItems=17:int64? uniqueItems=18:bool multipleOf=19:double? enum=20:[]JSON maxProperties=21:int64? minProperties=22:int64? required=23:[]string items=24:JSONSchemaPropsOrArray? allOf=25:[]JSONSchemaProps oneOf=26:[]JSONSchemaProps anyOf=27:[]JSONSchemaProps not=28:JSONSchemaProps? properties=29:{JSONSchemaProps} additionalProperties=30:JSONSchemaPropsOrBool? patternProperties=31:{JSONSchemaProps} dependencies=32:{JSONSchemaPropsOrStringArray} additionalItems=33:JSONSchemaPropsOrBool? definitions=34:{JSONSchemaProps} externalDocs=35:ExternalDocumentation? example=36:JSON? nullable=37:bool xKubernetesPreserveUnknownFields=38:bool?@x-kubernetes-preserve-unknown-fields xKubernetesEmbeddedResource=39:bool@x-kubernetes-embedded-resource xKubernetesIntOrString=40:bool@x-kubernetes-int-or-string xKubernetesListMapKeys=41:[]string@x-kubernetes-list-map-keys xKubernetesListType=42:string?@x-kubernetes-list-type xKubernetesMapType=43:string?@x-kubernetes-map-type xKubernetesValidations=44:[]ValidationRule@x-kubernetes-validations',
    JSONSchemaPropsOrArray: 'schema=1:JSONSchemaProps? jSONSchemas=2:[]JSONSchemaProps',
    JSONSchemaPropsOrBool: 'allows=1:bool schema=2:JSONSchemaProps?',
    JSONSchemaPropsOrStringArray: 'schema=1:JSONSchemaProps? property=2:[]string',
    SelectableField: 'jsonPath=1:string!',
    ServiceReference: 'namespace=1:string! name=2:string! path=3:string? port=4:int32?',
    ValidationRule:
      'rule=1:string! message=2:string messageExpression=3:string reason=4:string? fieldPath=5:string optionalOldSelf=6:bool?',
    WebhookClientConfig: 'url=3:string? service=1:ServiceReference? caBundle=2:bytes',
    WebhookConversion: 'clientConfig=2:WebhookClientConfig? conversionReviewVersions=3:[]string!',
  },
  'k8s.io.apimachinery.pkg.api.resource': {
    Quantity: 'string=1:string',
  },
  'k8s.io.apimachinery.pkg.apis.meta.v1': {
    Condition:
      'type=1:string! status=2:string! observedGeneration=3:int64 lastTransitionTime=4:Time! reason=5:string! message=6:string!',
    DeleteOptions:
      'gracePeriodSeconds=1:int64? preconditions=2:Preconditions? orphanDependents=3:bool? propagationPolicy=4:string? dryRun=5:[]string ignoreStoreReadErrorWithClusterBreakingPotential=6:bool?',
    FieldSelectorRequirement: 'key=1:string! operator=2:string! values=3:[]string',
    FieldsV1: 'Raw=1:bytes',
    LabelSelector: 'matchLabels=1:{string} matchExpressions=2:[]LabelSelectorRequirement',
    LabelSelectorRequirement: 'key=1:string! operator=2:string! values=3:[]string',
    ListMeta:
      'selfLink=1:string resourceVersion=2:string continue=3:string remainingItemCount=4:int64? shardInfo=5:ShardInfo?',
    ManagedFieldsEntry:
      'manager=1:string operation=2:string apiVersion=3:string time=4:Time? fieldsType=6:string fieldsV1=7:FieldsV1? subresource=8:string',
    MicroTime: 'seconds=1:int64 nanos=2:int32',
    ObjectMeta:
      'name=1:string generateName=2:string namespace=3:string selfLink=4:string uid=5:string resourceVersion=6:string generation=7:int64 creationTimestamp=8:Time~ deletionTimestamp=9:Time? deletionGracePeriodSeconds=10:int64? labels=11:{string} annotations=12:{string} ownerReferences=13:[]OwnerReference finalizers=14:[]string managedFields=17:[]ManagedFieldsEntry',
    OwnerReference:
      'apiVersion=5:string! kind=1:string! name=3:string! uid=4:string! controller=6:bool? blockOwnerDeletion=7:bool?',
    Preconditions: 'uid=1:string? resourceVersion=2:string?',
    ShardInfo: 'selector=1:string!',
    Status:
      'metadata=1:ListMeta status=2:string message=3:string reason=4:string details=5:StatusDetails? code=6:int32',
    StatusCause: 'reason=1:string message=2:string field=3:string',
    StatusDetails:
      'name=1:string group=2:string kind=3:string uid=6:string causes=4:[]StatusCause retryAfterSeconds=5:int32',
    Time: 'seconds=1:int64 nanos=2:int32',
    WatchEvent: 'type=1:string! object=2:runtime.RawExtension!',
  },
  'k8s.io.apimachinery.pkg.runtime': {
    RawExtension: 'raw=1:bytes',
    TypeMeta: 'apiVersion=1:string kind=2:string',
    Unknown: 'typeMeta=1:TypeMeta raw=2:bytes contentEncoding=3:string contentType=4:string',
  },
  'k8s.io.apimachinery.pkg.util.intstr': {
    IntOrString: 'type=1:int64 intVal=2:int32 strVal=3:string',
  },
};
