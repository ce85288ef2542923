/** Schemas of autoscaling/v2 HorizontalPodAutoscaler, and core/v1 PodTemplate and ReplicationController. */
import type { Schema } from '../resource.ts';
import { CORE } from './core-pod.ts';
import { arr, conditions, int, int64, kindAndList, map, obj, QUANTITY, ref, str, time } from './dsl.ts';

const P = 'io.k8s.api.autoscaling.v2.';

const target = () => ref(`${P}MetricTarget`, 'The value to keep the metric at.');
const current = () => ref(`${P}MetricValueStatus`, 'The current value.');
const metricId = () => ref(`${P}MetricIdentifier`, 'The metric.');
const objRef = (d: string) => ref(`${P}CrossVersionObjectReference`, d);

function hpa(): Record<string, Schema> {
  return {
    ...kindAndList(
      P,
      { group: 'autoscaling', version: 'v2', kind: 'HorizontalPodAutoscaler' },
      'Scales a workload between bounds to keep metrics near targets.',
      {
        spec: ref(`${P}HorizontalPodAutoscalerSpec`, 'The target, bounds, metrics and behaviour.'),
        status: ref(`${P}HorizontalPodAutoscalerStatus`, 'The observed state.'),
      },
    ),
    [`${P}HorizontalPodAutoscalerSpec`]: obj(
      'What to scale, between which bounds, on which metrics.',
      {
        behavior: ref(`${P}HorizontalPodAutoscalerBehavior`, 'How fast to scale up and down.'),
        maxReplicas: int('The most replicas; at least minReplicas.'),
        metrics: arr(ref(`${P}MetricSpec`), 'Metrics to track; 80% average CPU when empty.', {
          listType: 'atomic',
        }),
        minReplicas: int('The fewest replicas; 1 by default.'),
        scaleTargetRef: objRef('The workload to scale; it must have a scale subresource.'),
      },
      { required: ['scaleTargetRef', 'maxReplicas'] },
    ),
    [`${P}CrossVersionObjectReference`]: obj(
      'An object by kind, name and API version.',
      { apiVersion: str('Its API version.'), kind: str('Its kind.'), name: str('Its name.') },
      { required: ['kind', 'name'], extra: { 'x-kubernetes-map-type': 'atomic' } },
    ),
    [`${P}MetricSpec`]: obj(
      'One metric source; `type` names the field that is set.',
      {
        containerResource: ref(
          `${P}ContainerResourceMetricSource`,
          'A resource of one container of each pod.',
        ),
        external: ref(`${P}ExternalMetricSource`, 'A metric from outside the cluster.'),
        object: ref(`${P}ObjectMetricSource`, 'A metric of one object.'),
        pods: ref(`${P}PodsMetricSource`, 'A metric averaged over the pods.'),
        resource: ref(`${P}ResourceMetricSource`, 'A resource (cpu, memory) of the pods.'),
        type: str('ContainerResource, External, Object, Pods or Resource.'),
      },
      { required: ['type'] },
    ),
    [`${P}MetricTarget`]: obj(
      'A target value, average value or average utilization.',
      {
        averageUtilization: int('Target percentage of the requested resource, averaged over pods.'),
        averageValue: ref(QUANTITY, 'Target value averaged over pods.'),
        type: str('Utilization, Value or AverageValue.'),
        value: ref(QUANTITY, 'Target value.'),
      },
      { required: ['type'] },
    ),
    [`${P}MetricValueStatus`]: obj('A current metric value.', {
      averageUtilization: int('Current percentage of the requested resource.'),
      averageValue: ref(QUANTITY, 'Current value averaged over pods.'),
      value: ref(QUANTITY, 'Current value.'),
    }),
    [`${P}MetricIdentifier`]: obj(
      'A metric by name and selector.',
      {
        name: str('The metric name.'),
        selector: ref(`${'io.k8s.apimachinery.pkg.apis.meta.v1.'}LabelSelector`, 'Narrows the metric.'),
      },
      { required: ['name'] },
    ),
    [`${P}ResourceMetricSource`]: obj(
      'A resource of the pods.',
      { name: str('The resource.'), target: target() },
      {
        required: ['name', 'target'],
      },
    ),
    [`${P}ContainerResourceMetricSource`]: obj(
      'A resource of one container of the pods.',
      { container: str('The container.'), name: str('The resource.'), target: target() },
      { required: ['name', 'target', 'container'] },
    ),
    [`${P}PodsMetricSource`]: obj(
      'A metric averaged over pods.',
      { metric: metricId(), target: target() },
      {
        required: ['metric', 'target'],
      },
    ),
    [`${P}ObjectMetricSource`]: obj(
      'A metric describing one object.',
      { describedObject: objRef('The object.'), metric: metricId(), target: target() },
      { required: ['describedObject', 'target', 'metric'] },
    ),
    [`${P}ExternalMetricSource`]: obj(
      'A metric from outside the cluster.',
      { metric: metricId(), target: target() },
      {
        required: ['metric', 'target'],
      },
    ),
    [`${P}HorizontalPodAutoscalerBehavior`]: obj('Scaling rules for each direction.', {
      scaleDown: ref(`${P}HPAScalingRules`, 'Rules for scaling down.'),
      scaleUp: ref(`${P}HPAScalingRules`, 'Rules for scaling up.'),
    }),
    [`${P}HPAScalingRules`]: obj('How fast to scale in one direction.', {
      policies: arr(ref(`${P}HPAScalingPolicy`), 'Allowed changes per period.', { listType: 'atomic' }),
      selectPolicy: str('Max, Min or Disabled: which policy wins.'),
      stabilizationWindowSeconds: int('How far back recommendations are considered (0 to 3600).'),
    }),
    [`${P}HPAScalingPolicy`]: obj(
      'At most `value` pods or percent per `periodSeconds`.',
      {
        periodSeconds: int('The period (1 to 1800).'),
        type: str('Pods or Percent.'),
        value: int('The amount.'),
      },
      { required: ['type', 'value', 'periodSeconds'] },
    ),
    [`${P}HorizontalPodAutoscalerStatus`]: obj(
      'The observed state of an autoscaler.',
      {
        conditions: conditions(`${P}HorizontalPodAutoscalerCondition`),
        currentMetrics: arr(ref(`${P}MetricStatus`), 'Latest metric values.', { listType: 'atomic' }),
        currentReplicas: int('Replicas now.'),
        desiredReplicas: int('Replicas wanted.'),
        lastScaleTime: time('When it last scaled.'),
        observedGeneration: int64('The generation last acted on.'),
      },
      { required: ['desiredReplicas'] },
    ),
    [`${P}HorizontalPodAutoscalerCondition`]: obj(
      'A condition of an autoscaler.',
      {
        lastTransitionTime: time('When the status last changed.'),
        message: str('Details.'),
        reason: str('Why, in CamelCase.'),
        status: str('True, False or Unknown.'),
        type: str('AbleToScale, ScalingActive or ScalingLimited.'),
      },
      { required: ['type', 'status'] },
    ),
    [`${P}MetricStatus`]: obj(
      'The current value of one metric.',
      {
        containerResource: obj('A container resource.', {
          container: str('The container.'),
          current: current(),
          name: str('The resource.'),
        }),
        external: obj('An external metric.', { current: current(), metric: metricId() }),
        object: obj('An object metric.', {
          current: current(),
          describedObject: objRef('The object.'),
          metric: metricId(),
        }),
        pods: obj('A pods metric.', { current: current(), metric: metricId() }),
        resource: obj('A resource.', { current: current(), name: str('The resource.') }),
        type: str('ContainerResource, External, Object, Pods or Resource.'),
      },
      { required: ['type'] },
    ),
  };
}

function core(): Record<string, Schema> {
  const gvk = (k: string) => ({ group: '', version: 'v1', kind: k });
  return {
    ...kindAndList(CORE, gvk('PodTemplate'), 'A pod template kept for later use.', {
      template: ref(`${CORE}PodTemplateSpec`, 'The pods this template describes.'),
    }),
    ...kindAndList(
      CORE,
      gvk('ReplicationController'),
      'Keeps a number of pod copies running (the predecessor of ReplicaSet).',
      {
        spec: ref(`${CORE}ReplicationControllerSpec`, 'The desired pods.'),
        status: ref(`${CORE}ReplicationControllerStatus`, 'The observed pods.'),
      },
    ),
    [`${CORE}ReplicationControllerSpec`]: obj('The desired pods of a replication controller.', {
      minReadySeconds: int('Seconds a new pod must be ready to count as available.'),
      replicas: int('How many pods; 1 by default.'),
      selector: map({ type: 'string', default: '' }, 'Labels of the pods; the template labels by default.', {
        'x-kubernetes-map-type': 'atomic',
      }),
      template: ref(`${CORE}PodTemplateSpec`, 'The pods to create.'),
    }),
    [`${CORE}ReplicationControllerStatus`]: obj(
      'The observed pods of a replication controller.',
      {
        availableReplicas: int('Pods available for minReadySeconds.'),
        conditions: conditions(`${CORE}ReplicationControllerCondition`),
        fullyLabeledReplicas: int('Pods whose labels match the template.'),
        observedGeneration: int64('The generation last acted on.'),
        readyReplicas: int('Ready pods.'),
        replicas: int('Pods now.'),
      },
      { required: ['replicas'] },
    ),
    [`${CORE}ReplicationControllerCondition`]: obj(
      'A condition of a replication controller.',
      {
        lastTransitionTime: time('When the status last changed.'),
        message: str('Details.'),
        reason: str('Why, in CamelCase.'),
        status: str('True, False or Unknown.'),
        type: str('The condition type.'),
      },
      { required: ['type', 'status'] },
    ),
  };
}

export function autoscalingSchemas(): Record<string, Schema> {
  return { ...hpa(), ...core() };
}
