/** autoscaling/v2 HorizontalPodAutoscaler; core/v1 PodTemplate and ReplicationController. */

import { child, defaultPodTemplate, dflt } from '../defaults/pod.ts';
import type { StatusCause } from '../errors.ts';
import { ageColumn, col, containersAndImages, formatLabels, nameColumn, since } from '../printers/format.ts';
import type { KubeObject } from '../resource.ts';
import { invalid, notSupported, required } from '../validation/causes.ts';
import { isPathSegmentName } from '../validation/names.ts';
import { validatePodTemplate } from '../validation/pod.ts';
import { defineKind } from './define.ts';
import { validateReplicas, validateSelectorAndTemplate } from './workload.ts';

type Json = Record<string, any>;

const spec = (o: KubeObject) => (o.spec ?? {}) as Json;
const age = (o: KubeObject, now: Date) => since(o.metadata?.creationTimestamp, now);

// --- HorizontalPodAutoscaler ---

const SCALE_UP = {
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [
    { type: 'Pods', value: 4, periodSeconds: 15 },
    { type: 'Percent', value: 100, periodSeconds: 15 },
  ],
};
const SCALE_DOWN = {
  stabilizationWindowSeconds: 300,
  selectPolicy: 'Max',
  policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
};

/** Fills the unset fields of one direction's rules from upstream's defaults. */
function defaultRules(rules: Json | undefined, d: Json): Json {
  const r = rules ?? {};
  dflt(r, 'stabilizationWindowSeconds', d.stabilizationWindowSeconds);
  dflt(r, 'selectPolicy', d.selectPolicy);
  if (!r.policies) r.policies = structuredClone(d.policies);
  return r;
}

const METRIC_TYPES = ['ContainerResource', 'External', 'Object', 'Pods', 'Resource'];
const TARGET_TYPES = ['AverageValue', 'Utilization', 'Value'];
const SOURCE_FIELD: Record<string, string> = {
  ContainerResource: 'containerResource',
  External: 'external',
  Object: 'object',
  Pods: 'pods',
  Resource: 'resource',
};

function validateTarget(t: Json | undefined, path: string, resource: boolean): StatusCause[] {
  if (!t) return [required(path)];
  const causes: StatusCause[] = [];
  if (!t.type) causes.push(required(`${path}.type`, 'must specify a metric target type'));
  else if (!TARGET_TYPES.includes(t.type)) causes.push(notSupported(`${path}.type`, t.type, TARGET_TYPES));
  if (resource) {
    if (t.averageUtilization === undefined && t.averageValue === undefined) {
      causes.push(
        required(`${path}.averageUtilization`, 'must set either a target raw value or a target utilization'),
      );
    } else if (t.averageUtilization !== undefined && t.averageValue !== undefined) {
      causes.push({
        reason: 'FieldValueForbidden',
        field: `${path}.averageValue`,
        message: 'Forbidden: may not set both a target raw value and a target utilization',
      });
    }
  }
  if (typeof t.averageUtilization === 'number' && t.averageUtilization <= 0) {
    causes.push(invalid(`${path}.averageUtilization`, t.averageUtilization, 'must be greater than 0'));
  }
  return causes;
}

function validateMetric(m: Json, path: string): StatusCause[] {
  if (!m.type) return [required(`${path}.type`, 'must specify a metric source type')];
  if (!METRIC_TYPES.includes(m.type)) return [notSupported(`${path}.type`, m.type, METRIC_TYPES)];
  const key = SOURCE_FIELD[m.type];
  const src = m[key] as Json | undefined;
  const sp = `${path}.${key}`;
  if (!src) return [required(sp, 'must populate information for the given metric source')];
  const causes: StatusCause[] = [];
  for (const other of Object.values(SOURCE_FIELD)) {
    if (other !== key && m[other])
      causes.push(required(`${path}.${other}`, 'must populate the given metric source only'));
  }
  const resource = m.type === 'Resource' || m.type === 'ContainerResource';
  if (resource && !src.name) causes.push(required(`${sp}.name`, 'must specify a resource name'));
  if (m.type === 'ContainerResource' && !src.container)
    causes.push(required(`${sp}.container`, 'must specify a container'));
  if (!resource && !src.metric?.name)
    causes.push(required(`${sp}.metric.name`, 'must specify a metric name'));
  causes.push(...validateTarget(src.target, `${sp}.target`, resource));
  return causes;
}

function validateRules(r: Json | undefined, path: string): StatusCause[] {
  if (!r) return [];
  const causes: StatusCause[] = [];
  const w = r.stabilizationWindowSeconds;
  if (typeof w === 'number' && w < 0)
    causes.push(invalid(`${path}.stabilizationWindowSeconds`, w, 'must be greater than or equal to zero'));
  if (typeof w === 'number' && w > 3600)
    causes.push(invalid(`${path}.stabilizationWindowSeconds`, w, 'must be less than or equal to 3600'));
  if (r.selectPolicy !== undefined && !['Disabled', 'Max', 'Min'].includes(r.selectPolicy)) {
    causes.push(notSupported(`${path}.selectPolicy`, r.selectPolicy, ['Disabled', 'Max', 'Min']));
  }
  const policies: Json[] = r.policies ?? [];
  if (policies.length === 0) causes.push(required(`${path}.policies`, 'must specify at least one Policy'));
  policies.forEach((p, i) => {
    const pp = `${path}.policies[${i}]`;
    if (!['Percent', 'Pods'].includes(p.type))
      causes.push(notSupported(`${pp}.type`, p.type ?? '', ['Percent', 'Pods']));
    if (!(p.value > 0)) causes.push(invalid(`${pp}.value`, p.value ?? 0, 'must be greater than zero'));
    if (!(p.periodSeconds > 0))
      causes.push(invalid(`${pp}.periodSeconds`, p.periodSeconds ?? 0, 'must be greater than zero'));
    else if (p.periodSeconds > 1800)
      causes.push(invalid(`${pp}.periodSeconds`, p.periodSeconds, 'must be less than or equal to 1800'));
  });
  return causes;
}

function validateHPA(obj: KubeObject): StatusCause[] {
  const s = spec(obj);
  const causes: StatusCause[] = [];
  const ref = (s.scaleTargetRef ?? {}) as Json;
  for (const f of ['kind', 'name']) {
    const path = `spec.scaleTargetRef.${f}`;
    if (!ref[f]) causes.push(required(path));
    else for (const m of isPathSegmentName(ref[f])) causes.push(invalid(path, ref[f], m));
  }
  if (typeof s.minReplicas === 'number' && s.minReplicas < 1) {
    causes.push(invalid('spec.minReplicas', s.minReplicas, 'must be greater than or equal to 1'));
  }
  const max = typeof s.maxReplicas === 'number' ? s.maxReplicas : 0;
  if (max < 1) causes.push(invalid('spec.maxReplicas', max, 'must be greater than 0'));
  if (typeof s.minReplicas === 'number' && max < s.minReplicas) {
    causes.push(invalid('spec.maxReplicas', max, 'must be greater than or equal to `minReplicas`'));
  }
  ((s.metrics as Json[]) ?? []).forEach((m, i) => {
    causes.push(...validateMetric(m, `spec.metrics[${i}]`));
  });
  causes.push(...validateRules(s.behavior?.scaleUp, 'spec.behavior.scaleUp'));
  causes.push(...validateRules(s.behavior?.scaleDown, 'spec.behavior.scaleDown'));
  return causes;
}

const q = (v: unknown) => (v === undefined || v === null ? undefined : String(v));

/** kubectl's formatHPAMetrics: `cpu: 40%/80%`, `<unknown>` before the first reading, two at most. */
export function formatHPAMetrics(specs: Json[], statuses: Json[]): string {
  if (specs.length === 0) return '<none>';
  const list = specs.map((m, i) => {
    const st = statuses[i] ?? {};
    const avgOrValue = (src: Json, cur: Json | undefined, prefix = '') => {
      if (src.target?.averageValue !== undefined) {
        return `${prefix}${q(cur?.current?.averageValue) ?? '<unknown>'}/${q(src.target.averageValue)}${prefix ? '' : ' (avg)'}`;
      }
      return `${prefix}${q(cur?.current?.value) ?? '<unknown>'}/${q(src.target?.value)}`;
    };
    switch (m.type) {
      case 'External':
        return avgOrValue(m.external ?? {}, st.external);
      case 'Object':
        return avgOrValue(m.object ?? {}, st.object);
      case 'Pods':
        return `${q(st.pods?.current?.averageValue) ?? '<unknown>'}/${q(m.pods?.target?.averageValue)}`;
      case 'Resource':
      case 'ContainerResource': {
        const src = (m.type === 'Resource' ? m.resource : m.containerResource) ?? {};
        const cur = m.type === 'Resource' ? st.resource : st.containerResource;
        const name = src.name ?? '';
        if (src.target?.averageValue !== undefined) {
          return `${name}: ${q(cur?.current?.averageValue) ?? '<unknown>'}/${q(src.target.averageValue)}`;
        }
        const now =
          typeof cur?.current?.averageUtilization === 'number'
            ? `${cur.current.averageUtilization}%`
            : '<unknown>';
        const want =
          typeof src.target?.averageUtilization === 'number' ? `${src.target.averageUtilization}%` : '<auto>';
        return `${name}: ${now}/${want}`;
      }
    }
    return '<unknown type>';
  });
  if (list.length > 2) return `${list.slice(0, 2).join(', ')} + ${list.length - 2} more...`;
  return list.join(', ');
}

export const horizontalPodAutoscaler = defineKind({
  group: 'autoscaling',
  version: 'v2',
  kind: 'HorizontalPodAutoscaler',
  plural: 'horizontalpodautoscalers',
  namespaced: true,
  shortNames: ['hpa'],
  categories: ['all'],
  status: true,
  tracksGeneration: true,
  defaults(obj) {
    const s = child(obj, 'spec');
    dflt(s, 'minReplicas', 1);
    if (!s.metrics?.length) {
      s.metrics = [
        {
          type: 'Resource',
          resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } },
        },
      ];
    }
    if (s.behavior) {
      s.behavior.scaleUp = defaultRules(s.behavior.scaleUp, SCALE_UP);
      s.behavior.scaleDown = defaultRules(s.behavior.scaleDown, SCALE_DOWN);
    }
  },
  validate: validateHPA,
  table: {
    columns: [
      nameColumn,
      col('Reference', 'string', 'The workload being scaled.'),
      col('Targets', 'string', 'Current and target metric values.'),
      col('MinPods', 'string', 'The fewest replicas.'),
      col('MaxPods', 'integer', 'The most replicas.'),
      col('Replicas', 'integer', 'Replicas now.'),
      ageColumn,
    ],
    row(o, now) {
      const s = spec(o);
      const st = (o.status ?? {}) as Json;
      return [
        o.metadata?.name,
        `${s.scaleTargetRef?.kind ?? ''}/${s.scaleTargetRef?.name ?? ''}`,
        formatHPAMetrics(s.metrics ?? [], st.currentMetrics ?? []),
        typeof s.minReplicas === 'number' ? String(s.minReplicas) : '<unset>',
        s.maxReplicas ?? 0,
        st.currentReplicas ?? 0,
        age(o, now),
      ];
    },
  },
});

// --- core/v1 PodTemplate and ReplicationController ---

export const podTemplate = defineKind({
  group: '',
  version: 'v1',
  kind: 'PodTemplate',
  plural: 'podtemplates',
  namespaced: true,
  defaults: (obj) => defaultPodTemplate(obj.template as Json | undefined),
  validate: (obj) => validatePodTemplate(obj.template as Json | undefined, 'template'),
  table: {
    columns: [
      nameColumn,
      col('Containers', 'string', 'Names of the containers.'),
      col('Images', 'string', 'Images of the containers.'),
      col('Pod Labels', 'string', 'Labels of the pods.'),
    ],
    row(o) {
      const t = o.template as Json | undefined;
      const [containers, images] = containersAndImages(t);
      return [o.metadata?.name, containers, images, formatLabels(t?.metadata?.labels)];
    },
  },
});

export const replicationController = defineKind({
  group: '',
  version: 'v1',
  kind: 'ReplicationController',
  plural: 'replicationcontrollers',
  namespaced: true,
  shortNames: ['rc'],
  categories: ['all'],
  status: true,
  scale: { specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas' },
  tracksGeneration: true,
  defaults(obj) {
    const s = child(obj, 'spec');
    const labels = s.template?.metadata?.labels;
    if (labels && !Object.keys(s.selector ?? {}).length) s.selector = { ...labels };
    if (labels && !Object.keys(obj.metadata?.labels ?? {}).length) {
      obj.metadata ??= {};
      obj.metadata.labels = { ...labels };
    }
    dflt(s, 'replicas', 1);
    defaultPodTemplate(s.template);
  },
  validate(obj) {
    const s = spec(obj);
    // The selector is a plain map; checked like a LabelSelector of matchLabels.
    const asSelector = {
      ...s,
      selector: s.selector && Object.keys(s.selector).length ? { matchLabels: s.selector } : undefined,
    };
    const causes = validateSelectorAndTemplate(asSelector, {
      kind: 'replicationcontroller',
      restartAlways: true,
    }).map((c) =>
      c.field?.startsWith('spec.selector.matchLabels')
        ? { ...c, field: c.field.replace('.matchLabels', '') }
        : c,
    );
    return [...validateReplicas(s), ...causes];
  },
  table: {
    columns: [
      nameColumn,
      col('Desired', 'integer', 'Replicas wanted.'),
      col('Current', 'integer', 'Replicas now.'),
      col('Ready', 'integer', 'Ready replicas.'),
      ageColumn,
      col('Containers', 'string', 'Names of each container in the template.', 1),
      col('Images', 'string', 'Images referenced by each container in the template.', 1),
      col('Selector', 'string', 'Labels of the pods.', 1),
    ],
    row(o, now) {
      const s = spec(o);
      const st = (o.status ?? {}) as Json;
      const [containers, images] = containersAndImages(s.template);
      return [
        o.metadata?.name,
        s.replicas ?? 0,
        st.replicas ?? 0,
        st.readyReplicas ?? 0,
        age(o, now),
        containers,
        images,
        formatLabels(s.selector),
      ];
    },
  },
});
