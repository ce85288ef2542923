/**
 * Authentication beyond client certificates, and authorization: the API server's `Auth`.
 *
 *   const auth = await Auth.open({ dataDir, objects, registry });
 *   await auth.boot();                               // default RBAC policy, the join token's Secret
 *   const user = await auth.authenticateBearer(req); // service-account JWT or bootstrap token
 *   const as = await auth.impersonate(req, user);    // Impersonate-User / -Group / -Uid headers
 *   await auth.check(as, attributes);                // throws the Kubernetes 403 Status
 *
 * Certificate users in system:masters skip every check, so the admin's hot path does no work here.
 */
import type { IncomingMessage } from 'node:http';
import { badRequest } from '../../api/errors.ts';
import type { ResourceRegistry } from '../../api/resource.ts';
import type { User } from '../context.ts';
import type { Objects } from '../objects.ts';
import { parseResourcePath } from '../request-info.ts';
import {
  type Attributes,
  AUTHENTICATED,
  forbidden,
  isMaster,
  nonResourceAttributes,
  requestAttributes,
} from './attributes.ts';
import {
  authenticateBootstrapToken,
  BOOTSTRAP_TOKEN,
  ensureBootstrapSecret,
  ensureJoinToken,
} from './bootstrap-tokens.ts';
import { ensureDefaultRoles } from './default-roles.ts';
import { RbacAuthorizer } from './rbac.ts';
import { ServiceAccountTokens } from './service-account-tokens.ts';

export * from './attributes.ts';
export {
  authenticateBootstrapToken,
  BOOTSTRAP_TOKEN,
  bootstrapSecret,
  ensureBootstrapSecret,
  ensureJoinToken,
  newBootstrapToken,
} from './bootstrap-tokens.ts';
export { defaultClusterRoleBindings, defaultClusterRoles, ensureDefaultRoles } from './default-roles.ts';
export { type PolicyRule, RbacAuthorizer, ruleAllows } from './rbac.ts';
export { DEFAULT_ISSUER, ServiceAccountTokens, type VerifiedToken } from './service-account-tokens.ts';

export interface AuthOptions {
  dataDir: string;
  objects: Objects;
  registry: ResourceRegistry;
  issuer?: string;
  /** Mint `<dataDir>/node-token` and its Secret at boot (default true). */
  joinToken?: boolean;
}

/** How long a verified bearer token is trusted before its service account is looked up again. */
const TOKEN_CACHE_MS = 10_000;
const TOKEN_CACHE_MAX = 4096;

export class Auth {
  readonly tokens: ServiceAccountTokens;
  readonly authorizer: RbacAuthorizer;
  readonly #o: AuthOptions;
  readonly #cache = new Map<string, { user: User; until: number }>();

  constructor(o: AuthOptions, tokens: ServiceAccountTokens) {
    this.#o = o;
    this.tokens = tokens;
    this.authorizer = new RbacAuthorizer(o.objects, o.registry);
  }

  static async open(o: AuthOptions): Promise<Auth> {
    return new Auth(o, await ServiceAccountTokens.open(o.dataDir, o.issuer));
  }

  /** Default ClusterRoles and bindings; the node join token and its Secret. */
  async boot(): Promise<void> {
    await ensureDefaultRoles(this.#o.objects, this.#o.registry);
    if (this.#o.joinToken !== false) {
      const token = await ensureJoinToken(this.#o.dataDir);
      await ensureBootstrapSecret(this.#o.objects, this.#o.registry, token);
    }
  }

  /** The user of an `Authorization: Bearer` header, or undefined (no header, or a token we do not accept). */
  async authenticateBearer(req: IncomingMessage): Promise<User | undefined> {
    const h = req.headers.authorization;
    if (!h) return undefined;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
    return m ? this.authenticateToken(m[1]) : undefined;
  }

  /**
   * The user a bearer token stands for. `audiences` (TokenReview's) replaces the API server's own
   * audience for service-account tokens; such lookups bypass the cache.
   */
  async authenticateToken(token: string, audiences?: string[], now = Date.now()): Promise<User | undefined> {
    if (audiences?.length) {
      if (BOOTSTRAP_TOKEN.test(token)) return undefined;
      const v = await this.tokens.verify(token, audiences);
      return v && this.#serviceAccountUser(v);
    }
    const hit = this.#cache.get(token);
    if (hit && hit.until > now) return hit.user;
    let user: User | undefined;
    let until = now + TOKEN_CACHE_MS;
    if (BOOTSTRAP_TOKEN.test(token)) {
      user = await authenticateBootstrapToken(this.#o.objects, this.#o.registry, token, now);
    } else {
      const v = await this.tokens.verify(token);
      if (v) {
        user = await this.#serviceAccountUser(v);
        until = Math.min(until, v.expiresAt);
      }
    }
    if (!user) {
      this.#cache.delete(token);
      return undefined;
    }
    if (this.#cache.size >= TOKEN_CACHE_MAX) this.#cache.clear();
    this.#cache.set(token, { user, until });
    return user;
  }

  /** A verified token still names a live service account (and pod, when bound to one) with the same uid. */
  async #serviceAccountUser(
    v: import('./service-account-tokens.ts').VerifiedToken,
  ): Promise<User | undefined> {
    const { objects, registry } = this.#o;
    const saDef = registry.byResource('', 'v1', 'serviceaccounts');
    if (!saDef) return undefined;
    const sa = (await objects.tryGet(saDef, v.namespace, v.serviceAccount.name))?.obj;
    if (!sa || sa.metadata?.uid !== v.serviceAccount.uid || sa.metadata?.deletionTimestamp) return undefined;
    const extra: Record<string, string[]> = {};
    if (v.pod) {
      const podDef = registry.byResource('', 'v1', 'pods')!;
      const pod = (await objects.tryGet(podDef, v.namespace, v.pod.name))?.obj;
      if (!pod || pod.metadata?.uid !== v.pod.uid || pod.metadata?.deletionTimestamp) return undefined;
      extra['authentication.kubernetes.io/pod-name'] = [v.pod.name];
      extra['authentication.kubernetes.io/pod-uid'] = [v.pod.uid];
    }
    if (v.id) extra['authentication.kubernetes.io/credential-id'] = [`JTI=${v.id}`];
    return {
      name: `system:serviceaccount:${v.namespace}:${v.serviceAccount.name}`,
      uid: v.serviceAccount.uid,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${v.namespace}`, AUTHENTICATED],
      extra,
    };
  }

  /**
   * The user a request acts as: `user` itself, or whom its Impersonate-* headers name once `user`
   * may `impersonate` users, groups, service accounts and uids (system:masters always may).
   */
  async impersonate(req: IncomingMessage, user: User): Promise<User> {
    const h = req.headersDistinct;
    const name = h['impersonate-user']?.[0];
    const groups = h['impersonate-group'] ?? [];
    const uid = h['impersonate-uid']?.[0];
    const extraKeys = Object.keys(req.headers).filter((k) => k.startsWith('impersonate-extra-'));
    if (name === undefined && !groups.length && uid === undefined && !extraKeys.length) return user;
    if (name === undefined)
      throw badRequest('requested impersonation without a user: Impersonate-User is required');
    const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(name);
    const checks: Attributes[] = [
      sa
        ? { verb: 'impersonate', group: '', resource: 'serviceaccounts', namespace: sa[1], name: sa[2] }
        : { verb: 'impersonate', group: '', resource: 'users', name },
      ...groups.map((g) => ({ verb: 'impersonate', group: '', resource: 'groups', name: g })),
    ];
    if (uid !== undefined)
      checks.push({ verb: 'impersonate', group: 'authentication.k8s.io', resource: 'uids', name: uid });
    const extra: Record<string, string[]> = {};
    for (const k of extraKeys) {
      const key = decodeURIComponent(k.slice('impersonate-extra-'.length));
      extra[key] = h[k] ?? [];
      checks.push({
        verb: 'impersonate',
        group: 'authentication.k8s.io',
        resource: 'userextras',
        subresource: key,
      });
    }
    for (const a of checks) await this.check(user, a);
    const all = [...groups];
    if (sa) all.push('system:serviceaccounts', `system:serviceaccounts:${sa[1]}`);
    if (name !== 'system:anonymous' && !all.includes(AUTHENTICATED)) all.push(AUTHENTICATED);
    return {
      name,
      groups: all,
      ...(uid !== undefined ? { uid } : {}),
      ...(extraKeys.length ? { extra } : {}),
    };
  }

  /**
   * The request's effective user once impersonation and authorization pass: resource paths are
   * checked by verb, group, resource and name; every other path as a non-resource URL.
   */
  async admit(
    req: IncomingMessage,
    user: User,
    method: string,
    path: string,
    query: URLSearchParams,
  ): Promise<User> {
    const impersonating = Object.keys(req.headers).some((k) => k.startsWith('impersonate-'));
    if (impersonating) user = await this.impersonate(req, user);
    if (isMaster(user)) return user;
    const info = parseResourcePath(path);
    const a: Attributes = info?.resource
      ? requestAttributes(method, info, query)
      : nonResourceAttributes(method, path);
    await this.check(user, a);
    return user;
  }

  /** Throws Kubernetes' 403 when the user may not do what `a` describes. */
  async check(user: User, a: Attributes): Promise<void> {
    if (isMaster(user)) return;
    const d = await this.authorizer.authorize(user, a);
    if (!d.allowed) throw forbidden(user, a, d.reason);
  }
}
