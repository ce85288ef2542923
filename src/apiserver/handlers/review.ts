/**
 * The create-only kinds (`def.virtual`): a POST validates the review and answers 201 with its
 * `status` filled; nothing is stored, so every other verb is 405.
 *
 *   SelfSubjectAccessReview  may I …?            (kubectl auth can-i)
 *   SubjectAccessReview      may user/groups …?  LocalSubjectAccessReview: the same, in one namespace
 *   SelfSubjectRulesReview   what may I do in a namespace? (kubectl auth can-i --list)
 *   SelfSubjectReview        who am I?           (kubectl auth whoami)
 *   TokenReview              whom does this bearer token stand for?
 */
import { invalid, StatusError } from '../../api/errors.ts';
import type { KubeObject } from '../../api/resource.ts';
import { type Attributes, type Decision, effectiveGroups, isMaster } from '../auth/attributes.ts';
import type { PolicyRule } from '../auth/rbac.ts';
import type { Ctx, User } from '../context.ts';
import { checkKind, checkNamespace } from './prepare.ts';

type Json = Record<string, any>;

export async function virtualCreate(ctx: Ctx, method: string): Promise<void> {
  const { def } = ctx;
  if (method !== 'POST' || ctx.info.name || ctx.info.subresource) {
    throw new StatusError(
      'MethodNotAllowed',
      `the server does not allow this method on the requested resource: ${method} ${def.plural}`,
    );
  }
  const obj = await ctx.objectBody();
  checkKind(ctx, obj);
  checkNamespace(ctx, obj);
  def.defaults?.(obj);
  const causes = def.validate?.(obj) ?? [];
  if (causes.length) throw invalid(def.group, def.kind, obj.metadata?.name ?? '', causes);
  obj.status = await reviewStatus(ctx, obj);
  ctx.send(201, obj);
}

async function reviewStatus(ctx: Ctx, obj: KubeObject): Promise<Json> {
  const spec = (obj.spec ?? {}) as Json;
  switch (ctx.def.kind) {
    case 'SelfSubjectAccessReview':
      return accessStatus(await decide(ctx, ctx.user, attributesOf(spec)));
    case 'SubjectAccessReview':
    case 'LocalSubjectAccessReview': {
      const user: User = {
        name: spec.user ?? '',
        groups: spec.groups ?? [],
        uid: spec.uid,
        extra: spec.extra,
      };
      return accessStatus(await decide(ctx, user, attributesOf(spec)));
    }
    case 'SelfSubjectRulesReview':
      return rulesStatus(await rulesOf(ctx, spec.namespace || undefined));
    case 'SelfSubjectReview':
      return { userInfo: userInfo(ctx.user) };
    case 'TokenReview': {
      const audiences: string[] | undefined = spec.audiences?.length ? spec.audiences : undefined;
      const user = await ctx.parts.auth?.authenticateToken(spec.token, audiences);
      if (!user) return { authenticated: false, user: {}, error: 'invalid bearer token' };
      return {
        authenticated: true,
        user: userInfo(user),
        audiences: audiences ?? ctx.parts.auth!.tokens.audiences,
      };
    }
  }
  return {};
}

function attributesOf(spec: Json): Attributes {
  const n = spec.nonResourceAttributes as Json | undefined;
  if (n) return { verb: n.verb ?? '', path: n.path ?? '' };
  const r = (spec.resourceAttributes ?? {}) as Json;
  return {
    verb: r.verb ?? '',
    group: r.group ?? '',
    resource: r.resource ?? '',
    subresource: r.subresource || undefined,
    namespace: r.namespace || undefined,
    name: r.name || undefined,
  };
}

async function decide(ctx: Ctx, user: User, a: Attributes): Promise<Decision> {
  const authorizer = ctx.parts.auth?.authorizer;
  if (authorizer) return authorizer.authorize(user, a);
  // Without an authorizer the server trusts every certificate it verified: only masters exist.
  return { allowed: isMaster(user), reason: '' };
}

function accessStatus(d: Decision): Json {
  return d.reason ? { allowed: d.allowed, reason: d.reason } : { allowed: d.allowed };
}

async function rulesOf(ctx: Ctx, namespace: string | undefined): Promise<PolicyRule[]> {
  const authorizer = ctx.parts.auth?.authorizer;
  if (authorizer) return authorizer.rulesFor(ctx.user, namespace);
  return isMaster(ctx.user)
    ? [
        { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
        { verbs: ['*'], nonResourceURLs: ['*'] },
      ]
    : [];
}

function rulesStatus(rules: PolicyRule[]): Json {
  const resourceRules: Json[] = [];
  const nonResourceRules: Json[] = [];
  for (const r of rules) {
    if (r.nonResourceURLs?.length)
      nonResourceRules.push({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs });
    if (r.resources?.length) {
      const out: Json = { verbs: r.verbs, apiGroups: r.apiGroups ?? [], resources: r.resources };
      if (r.resourceNames?.length) out.resourceNames = r.resourceNames;
      resourceRules.push(out);
    }
  }
  return { resourceRules, nonResourceRules, incomplete: false };
}

function userInfo(user: User): Json {
  const out: Json = { username: user.name, groups: effectiveGroups(user) };
  if (user.uid) out.uid = user.uid;
  if (user.extra && Object.keys(user.extra).length) out.extra = user.extra;
  return out;
}
