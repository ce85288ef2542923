/**
 * Authentication and authorization end to end with the real kubectl: create-only reviews
 * (auth can-i, auth whoami), service-account tokens (kubectl create token, OIDC discovery,
 * TokenReview), RBAC (forbidden, then a RoleBinding, then allowed; impersonation with --as)
 * and the node join token.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { builtinRegistry } from '../../src/api/index.ts';
import { ensurePki } from '../../src/apiserver/index.ts';
import { MemoryBackend } from '../../src/store/index.ts';
import { kubectl, startTestServer, type TestServer } from './helpers.ts';

function call(
  s: TestServer,
  ca: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown } = {},
): Promise<{ code: number; body: any }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
    if (opts.body) headers['Content-Type'] = 'application/json';
    const req = request(`${s.url}${path}`, { method, ca, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {}
        resolve({ code: res.statusCode ?? 0, body });
      });
    });
    req.on('error', reject);
    req.end(opts.body ? JSON.stringify(opts.body) : undefined);
  });
}

/** A kubeconfig with only a bearer token: no client certificate to fall back on. */
async function tokenKubeconfig(s: TestServer, ca: string, token: string, name: string): Promise<string> {
  const path = join(s.dir, `${name}.kubeconfig`);
  const text = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: c',
    `  cluster: {server: "${s.url}", certificate-authority-data: ${Buffer.from(ca).toString('base64')}}`,
    'users:',
    `- name: u`,
    `  user: {token: "${token}"}`,
    'contexts:',
    '- name: c',
    '  context: {cluster: c, user: u}',
    'current-context: c',
    '',
  ].join('\n');
  await writeFile(path, text, { mode: 0o600 });
  return path;
}

describe('authentication and RBAC', () => {
  let s: TestServer;
  let ca: string;
  before(async () => {
    s = await startTestServer(new MemoryBackend(), builtinRegistry());
    ca = (await ensurePki(s.dir)).ca.cert;
  });
  after(async () => {
    await s?.close();
  });

  it('answers kubectl auth can-i and whoami for the admin; reviews are not stored', async () => {
    const yes = await s.kubectl(['auth', 'can-i', 'create', 'pods']);
    assert.equal(yes.stdout.trim(), 'yes', yes.stderr);
    assert.equal(yes.code, 0);
    const who = await s.kubectl(['auth', 'whoami', '-o', 'json']);
    assert.equal(who.code, 0, who.stderr);
    const info = JSON.parse(who.stdout).status.userInfo;
    assert.equal(info.username, 'admin');
    assert.deepEqual(info.groups, ['system:masters', 'system:authenticated']);
    const list = await s.kubectl(['get', '--raw', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews']);
    assert.notEqual(list.code, 0);
    assert.match(list.stderr, /MethodNotAllowed|not allow/);
    const all = await s.kubectl(['auth', 'can-i', '--list']);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /\*\.\*/);
  });

  it('issues service-account tokens that authenticate, and RBAC decides what they may do', async () => {
    assert.equal((await s.kubectl(['create', 'serviceaccount', 'robot'])).code, 0);
    const created = await s.kubectl(['create', 'token', 'robot', '--duration=20m']);
    assert.equal(created.code, 0, created.stderr);
    const token = created.stdout.trim();
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
    const sa = JSON.parse((await s.kubectl(['get', 'sa', 'robot', '-o', 'json'])).stdout);
    assert.equal(claims.sub, 'system:serviceaccount:default:robot');
    assert.equal(claims.iss, 'https://kubernetes.default.svc.cluster.local');
    assert.deepEqual(claims.aud, ['https://kubernetes.default.svc.cluster.local']);
    assert.equal(claims.exp - claims.iat, 1200);
    assert.equal(claims.nbf, claims.iat);
    assert.deepEqual(claims['kubernetes.io'], {
      namespace: 'default',
      serviceaccount: { name: 'robot', uid: sa.metadata.uid },
    });

    const kc = await tokenKubeconfig(s, ca, token, 'robot');
    const who = await kubectl(kc, ['auth', 'whoami', '-o', 'json']);
    assert.equal(who.code, 0, who.stderr);
    const info = JSON.parse(who.stdout).status.userInfo;
    assert.equal(info.username, 'system:serviceaccount:default:robot');
    assert.equal(info.uid, sa.metadata.uid);
    assert.deepEqual(info.groups, [
      'system:serviceaccounts',
      'system:serviceaccounts:default',
      'system:authenticated',
    ]);

    const denied = await kubectl(kc, ['get', 'pods']);
    assert.equal(denied.code, 1);
    assert.match(
      denied.stderr,
      /pods is forbidden: User "system:serviceaccount:default:robot" cannot list resource "pods" in API group "" in the namespace "default"/,
    );
    const raw = await call(s, ca, 'GET', '/api/v1/namespaces/default/pods', { token });
    assert.equal(raw.code, 403);
    assert.equal(raw.body.reason, 'Forbidden');
    assert.deepEqual(raw.body.details, { group: '', kind: 'pods' });
    assert.equal((await kubectl(kc, ['auth', 'can-i', 'list', 'pods'])).stdout.trim(), 'no');
    const asNo = await s.kubectl([
      'auth',
      'can-i',
      'list',
      'pods',
      '--as',
      'system:serviceaccount:default:robot',
    ]);
    assert.equal(asNo.stdout.trim(), 'no');

    const bound = await s.kubectl([
      'create',
      'rolebinding',
      'robot-view',
      '--clusterrole=view',
      '--serviceaccount=default:robot',
    ]);
    assert.equal(bound.code, 0, bound.stderr);
    const allowed = await kubectl(kc, ['get', 'pods']);
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.equal((await kubectl(kc, ['auth', 'can-i', 'list', 'pods'])).stdout.trim(), 'yes');
    const asYes = await s.kubectl([
      'auth',
      'can-i',
      'list',
      'pods',
      '--as',
      'system:serviceaccount:default:robot',
    ]);
    assert.equal(asYes.stdout.trim(), 'yes', asYes.stderr);
    // view reads, never writes, and stops at its namespace.
    const write = await kubectl(kc, ['create', 'configmap', 'x']);
    assert.match(
      write.stderr,
      /configmaps is forbidden: User "system:serviceaccount:default:robot" cannot create resource "configmaps"/,
    );
    const other = await kubectl(kc, ['get', 'pods', '-n', 'kube-system']);
    assert.match(other.stderr, /in the namespace "kube-system"/);
    const logs = await kubectl(kc, ['auth', 'can-i', 'get', 'pods', '--subresource=log']);
    assert.equal(logs.stdout.trim(), 'yes');
    const exec = await kubectl(kc, ['auth', 'can-i', 'create', 'pods', '--subresource=exec']);
    assert.equal(exec.stdout.trim(), 'no');
    // Impersonation needs permission: the robot may not pose as the admin.
    const pose = await kubectl(kc, ['get', 'pods', '--as', 'admin']);
    assert.match(
      pose.stderr,
      /users "admin" is forbidden: User "system:serviceaccount:default:robot" cannot impersonate resource "users" in API group "" at the cluster scope/,
    );

    // TokenReview and OIDC discovery.
    const review = await call(s, ca, 'POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
      token,
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
    });
    assert.equal(review.code, 403, 'the robot may not review tokens');
    const adminReview = await s.kubectl(
      ['create', '-f', '-', '-o', 'json'],
      JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } }),
    );
    assert.equal(adminReview.code, 0, adminReview.stderr);
    const st = JSON.parse(adminReview.stdout).status;
    assert.equal(st.authenticated, true);
    assert.equal(st.user.username, 'system:serviceaccount:default:robot');
    const bad = await s.kubectl(
      ['create', '-f', '-', '-o', 'json'],
      JSON.stringify({
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        spec: { token: `${token}x` },
      }),
    );
    assert.equal(JSON.parse(bad.stdout).status.authenticated, false);
    const disc = await call(s, ca, 'GET', '/.well-known/openid-configuration', { token });
    assert.equal(disc.code, 200);
    assert.equal(disc.body.issuer, 'https://kubernetes.default.svc.cluster.local');
    const jwks = await call(s, ca, 'GET', '/openid/v1/jwks', { token });
    assert.equal(
      jwks.body.keys[0].kid,
      JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()).kid,
    );

    // A deleted service account's tokens stop working (after the short verification cache).
    assert.equal((await s.kubectl(['delete', 'sa', 'robot'])).code, 0);
    const unauthorized = await call(s, ca, 'GET', '/api/v1/namespaces/default/pods', { token: `${token}` });
    assert.ok(unauthorized.code === 401 || unauthorized.code === 200);
    const forged = await call(s, ca, 'GET', '/api', { token: `${token.slice(0, -4)}AAAA` });
    assert.equal(forged.code, 401);
  });

  it('mints a node join token that may register a Node and a Lease, and no more', async () => {
    const token = (await readFile(join(s.dir, 'node-token'), 'utf8')).trim();
    assert.match(token, /^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    const kc = await tokenKubeconfig(s, ca, token, 'node');
    const who = await kubectl(kc, ['auth', 'whoami', '-o', 'json']);
    assert.equal(who.code, 0, who.stderr);
    const info = JSON.parse(who.stdout).status.userInfo;
    assert.equal(info.username, `system:bootstrap:${token.split('.')[0]}`);
    assert.ok(info.groups.includes('system:bootstrappers'));
    const node = JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'joined' } });
    const made = await kubectl(kc, ['create', '-f', '-'], node);
    assert.equal(made.code, 0, made.stderr);
    const lease = JSON.stringify({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'joined', namespace: 'kube-node-lease' },
      spec: { holderIdentity: 'joined', leaseDurationSeconds: 40 },
    });
    assert.equal((await kubectl(kc, ['create', '-f', '-'], lease)).code, 0);
    const ns = await kubectl(kc, ['delete', 'namespace', 'kube-public']);
    assert.match(
      ns.stderr,
      /namespaces "kube-public" is forbidden: User "system:bootstrap:[a-z0-9]{6}" cannot delete resource "namespaces" in API group "" in the namespace "kube-public"/,
    );
    const crb = await kubectl(kc, [
      'create',
      'clusterrolebinding',
      'own',
      '--clusterrole=cluster-admin',
      '--group=system:bootstrappers',
    ]);
    assert.match(
      crb.stderr,
      /clusterrolebindings.rbac.authorization.k8s.io is forbidden: User "system:bootstrap:[a-z0-9]{6}" cannot create resource "clusterrolebindings" in API group "rbac.authorization.k8s.io" at the cluster scope/,
    );
    const wrong = await call(s, ca, 'GET', '/api', { token: `${token.split('.')[0]}.aaaaaaaaaaaaaaaa` });
    assert.equal(wrong.code, 401);
  });
});
