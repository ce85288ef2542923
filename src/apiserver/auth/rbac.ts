/**
 * RBAC: rbac.authorization.k8s.io/v1 Roles, ClusterRoles and their bindings, evaluated per request.
 * A request is allowed when some binding that applies to the user (a ClusterRoleBinding anywhere,
 * a RoleBinding in the request's namespace) grants a rule matching its verb, group, resource
 * (`pods/log` for a subresource), name or non-resource path. system:masters always passes.
 * A ClusterRole with an aggregationRule also grants the rules of the ClusterRoles its selectors pick.
 */
import type { KubeObject, ResourceDef, ResourceRegistry } from '../../api/resource.ts';
import type { User } from '../context.ts';
import type { Objects } from '../objects.ts';
import {
  type Attributes,
  type Authorizer,
  type Decision,
  effectiveGroups,
  isMaster,
  isResource,
} from './attributes.ts';

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

interface Subject {
  kind: string;
  name: string;
  namespace?: string;
}

interface RoleRef {
  kind: string;
  name: string;
}

const has = (list: string[] | undefined, v: string) => !!list && (list.includes('*') || list.includes(v));

export function ruleAllows(rule: PolicyRule, a: Attributes): boolean {
  if (!has(rule.verbs, a.verb)) return false;
  if (!isResource(a)) {
    return (rule.nonResourceURLs ?? []).some(
      (u) => u === '*' || u === a.path || (u.endsWith('*') && a.path.startsWith(u.slice(0, -1))),
    );
  }
  if (!has(rule.apiGroups, a.group)) return false;
  const resources = rule.resources ?? [];
  const full = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const resourceOk = resources.some(
    (r) => r === '*' || r === full || (!!a.subresource && r === `*/${a.subresource}`),
  );
  if (!resourceOk) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || (!!a.name && names.includes(a.name));
}

/** Does a binding subject name this user (kind User, Group, or ServiceAccount)? */
export function subjectMatches(s: Subject, user: User, groups: string[]): boolean {
  switch (s.kind) {
    case 'User':
      return s.name === user.name;
    case 'Group':
      return groups.includes(s.name);
    case 'ServiceAccount':
      return user.name === `system:serviceaccount:${s.namespace ?? ''}:${s.name}`;
  }
  return false;
}

export class RbacAuthorizer implements Authorizer {
  readonly #objects: Objects;
  /** Undefined when the registry serves no RBAC kinds: then only system:masters is allowed anything. */
  readonly #defs?: Record<'role' | 'clusterRole' | 'roleBinding' | 'clusterRoleBinding', ResourceDef>;

  constructor(objects: Objects, registry: ResourceRegistry) {
    this.#objects = objects;
    const def = (plural: string) => registry.byResource('rbac.authorization.k8s.io', 'v1', plural)!;
    if (!def('roles') || !def('clusterroles') || !def('rolebindings') || !def('clusterrolebindings')) return;
    this.#defs = {
      role: def('roles'),
      clusterRole: def('clusterroles'),
      roleBinding: def('rolebindings'),
      clusterRoleBinding: def('clusterrolebindings'),
    };
  }

  async authorize(user: User, a: Attributes): Promise<Decision> {
    if (isMaster(user)) return { allowed: true, reason: '' };
    let allowedBy = '';
    await this.#visit(user, isResource(a) ? a.namespace : undefined, (rule, source) => {
      if (!ruleAllows(rule, a)) return false;
      allowedBy = source;
      return true;
    });
    return allowedBy
      ? { allowed: true, reason: `RBAC: allowed by ${allowedBy}` }
      : { allowed: false, reason: '' };
  }

  /** Every rule that applies to the user in a namespace (SelfSubjectRulesReview). */
  async rulesFor(user: User, namespace: string | undefined): Promise<PolicyRule[]> {
    if (isMaster(user))
      return [
        { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
        { verbs: ['*'], nonResourceURLs: ['*'] },
      ];
    const rules: PolicyRule[] = [];
    await this.#visit(user, namespace, (rule) => {
      rules.push(rule);
      return false;
    });
    return rules;
  }

  /** Calls `visit` with each rule granted to the user until it returns true. */
  async #visit(
    user: User,
    namespace: string | undefined,
    visit: (rule: PolicyRule, source: string) => boolean,
  ): Promise<void> {
    const defs = this.#defs;
    if (!defs) return;
    const groups = effectiveGroups(user);
    const applies = (b: KubeObject) =>
      ((b.subjects as Subject[] | undefined) ?? []).find((s) => subjectMatches(s, user, groups));
    const crbs = await this.#objects.list(defs.clusterRoleBinding);
    for (const { obj: b } of crbs.items) {
      const s = applies(b);
      if (!s) continue;
      const ref = b.roleRef as RoleRef;
      const source = `ClusterRoleBinding "${b.metadata?.name}" of ClusterRole "${ref.name}" to ${s.kind} "${s.name}"`;
      for (const rule of await this.#clusterRoleRules(ref.name)) if (visit(rule, source)) return;
    }
    if (!namespace) return;
    const rbs = await this.#objects.list(defs.roleBinding, namespace);
    for (const { obj: b } of rbs.items) {
      const s = applies(b);
      if (!s) continue;
      const ref = b.roleRef as RoleRef;
      const rules =
        ref.kind === 'ClusterRole'
          ? await this.#clusterRoleRules(ref.name)
          : (((await this.#objects.tryGet(defs.role, namespace, ref.name))?.obj.rules as
              | PolicyRule[]
              | undefined) ?? []);
      const source = `RoleBinding "${b.metadata?.name}/${namespace}" of ${ref.kind} "${ref.name}" to ${s.kind} "${s.name}"`;
      for (const rule of rules) if (visit(rule, source)) return;
    }
  }

  async #clusterRoleRules(name: string): Promise<PolicyRule[]> {
    const defs = this.#defs!;
    const role = (await this.#objects.tryGet(defs.clusterRole, undefined, name))?.obj;
    if (!role) return [];
    const own = (role.rules as PolicyRule[] | undefined) ?? [];
    const selectors = (
      role.aggregationRule as { clusterRoleSelectors?: { matchLabels?: Record<string, string> }[] }
    )?.clusterRoleSelectors;
    if (!selectors?.length) return own;
    const all = await this.#objects.list(defs.clusterRole);
    const picked = all.items
      .map((s) => s.obj)
      .filter((r) => r.metadata?.name !== name)
      .filter((r) =>
        selectors.some((sel) =>
          Object.entries(sel.matchLabels ?? {}).every(([k, v]) => r.metadata?.labels?.[k] === v),
        ),
      );
    return [...own, ...picked.flatMap((r) => (r.rules as PolicyRule[] | undefined) ?? [])];
  }
}
