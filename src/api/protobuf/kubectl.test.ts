// Real kubectl's protobuf bodies: a tiny HTTP server answers discovery, captures each POST and
// decodes it; the decoded object must be the JSON Kubernetes would produce.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { KubeObject } from '../resource.ts';
import { FIXTURES } from './fixtures.ts';
import { decodeObject, encodeObject, PROTOBUF_CONTENT_TYPE } from './index.ts';

interface Captured {
  url: string;
  contentType: string | undefined;
  obj: KubeObject;
}

const GROUPS: Record<string, string[]> = {
  'apps/v1': ['deployments'],
  'batch/v1': ['jobs', 'cronjobs'],
  'policy/v1': ['poddisruptionbudgets'],
  'scheduling.k8s.io/v1': ['priorityclasses'],
  'rbac.authorization.k8s.io/v1': ['rolebindings'],
  'authorization.k8s.io/v1': ['selfsubjectaccessreviews'],
  'networking.k8s.io/v1': ['ingresses'],
};
const CORE = ['configmaps', 'namespaces', 'secrets', 'serviceaccounts', 'services', 'resourcequotas', 'pods'];

function resourceList(groupVersion: string, plurals: string[]) {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion,
    resources: plurals.map((name) => ({
      name,
      singularName: name.replace(/(es|s)$/, ''),
      namespaced: !['namespaces', 'priorityclasses', 'selfsubjectaccessreviews'].includes(name),
      kind: name,
      verbs: ['create', 'get', 'list', 'delete'],
    })),
  };
}

describe('kubectl 1.32 protobuf bodies', () => {
  const captured: Captured[] = [];
  /** When set, the next POST is answered with this object in protobuf instead of the JSON echo. */
  let protobufReply: KubeObject | undefined;
  let dir = '';
  let server: http.Server | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-pb-kubectl-'));
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const send = (code: number, body: unknown) => {
          res.writeHead(code, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        };
        const path = (req.url ?? '').split('?')[0];
        if (req.method === 'POST') {
          let obj: KubeObject;
          try {
            obj = decodeObject(Buffer.concat(chunks));
          } catch (err) {
            return send(400, {
              kind: 'Status',
              apiVersion: 'v1',
              status: 'Failure',
              code: 400,
              message: String(err),
            });
          }
          captured.push({ url: path, contentType: req.headers['content-type'], obj });
          if (protobufReply) {
            res.writeHead(201, { 'content-type': PROTOBUF_CONTENT_TYPE });
            return res.end(encodeObject(protobufReply));
          }
          const reply = structuredClone(obj);
          if (obj.kind === 'TokenRequest')
            reply.status = { token: 'tok', expirationTimestamp: '2030-01-01T00:00:00Z' };
          if (obj.kind === 'SelfSubjectAccessReview') reply.status = { allowed: true };
          return send(201, reply);
        }
        if (path === '/api')
          return send(200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
        if (path === '/api/v1') return send(200, resourceList('v1', CORE));
        if (path === '/apis') {
          return send(200, {
            kind: 'APIGroupList',
            apiVersion: 'v1',
            groups: Object.keys(GROUPS).map((gv) => {
              const [name, version] = gv.split('/');
              return {
                name,
                versions: [{ groupVersion: gv, version }],
                preferredVersion: { groupVersion: gv, version },
              };
            }),
          });
        }
        const gv = path.replace(/^\/apis\//, '');
        if (GROUPS[gv]) return send(200, resourceList(gv, GROUPS[gv]));
        send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 404, reason: 'NotFound' });
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await writeFile(
      join(dir, 'kubeconfig'),
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{name: c, cluster: {server: "http://127.0.0.1:${port}"}}]`,
        'users: [{name: u, user: {token: t}}]',
        'contexts: [{name: x, context: {cluster: c, user: u, namespace: default}}]',
        'current-context: x',
        '',
      ].join('\n'),
    );
  });

  after(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Runs kubectl and returns the one object it POSTed. */
  function kubectl(args: string[]): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      execFile(
        'kubectl',
        args,
        { env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: join(dir, 'kubeconfig') }, timeout: 30_000 },
        (err, stdout, stderr) =>
          err ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr}${stdout}`)) : resolve(stdout),
      );
    });
  }

  async function create(args: string[]): Promise<Captured & { stdout: string }> {
    const before = captured.length;
    const stdout = await kubectl(args);
    assert.equal(captured.length, before + 1, 'kubectl sent exactly one POST');
    const c = captured[captured.length - 1];
    assert.equal(c.contentType, PROTOBUF_CONTENT_TYPE);
    return { ...c, stdout };
  }

  test('create configmap', async () => {
    const c = await create(['create', 'configmap', 'x', '--from-literal=a=b']);
    assert.equal(c.url, '/api/v1/namespaces/default/configmaps');
    assert.deepEqual(c.obj, {
      kind: 'ConfigMap',
      apiVersion: 'v1',
      metadata: { name: 'x' },
      data: { a: 'b' },
    });
  });

  test('create namespace', async () => {
    const c = await create(['create', 'namespace', 'y']);
    assert.deepEqual(c.obj, {
      kind: 'Namespace',
      apiVersion: 'v1',
      metadata: { name: 'y' },
      spec: {},
      status: {},
    });
  });

  test('create secret generic', async () => {
    const c = await create(['create', 'secret', 'generic', 's', '--from-literal=k=v']);
    assert.deepEqual(c.obj, {
      kind: 'Secret',
      apiVersion: 'v1',
      metadata: { name: 's' },
      data: { k: 'dg==' },
    });
  });

  test('create deployment', async () => {
    const c = await create(['create', 'deployment', 'd', '--image=busybox']);
    assert.equal(c.url, '/apis/apps/v1/namespaces/default/deployments');
    assert.deepEqual(c.obj, {
      kind: 'Deployment',
      apiVersion: 'apps/v1',
      metadata: { name: 'd', labels: { app: 'd' } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'd' } },
        template: {
          metadata: { labels: { app: 'd' } },
          spec: { containers: [{ name: 'busybox', image: 'busybox', resources: {} }] },
        },
        strategy: {},
      },
      status: {},
    });
  });

  test('create deployment --replicas=0 keeps the zero', async () => {
    const c = await create(['create', 'deployment', 'zero', '--image=busybox', '--replicas=0']);
    assert.equal((c.obj.spec as { replicas: number }).replicas, 0);
  });

  test('create service clusterip', async () => {
    const c = await create(['create', 'service', 'clusterip', 'svc', '--tcp=80:8080']);
    assert.deepEqual(c.obj, {
      kind: 'Service',
      apiVersion: 'v1',
      metadata: { name: 'svc', labels: { app: 'svc' } },
      spec: {
        ports: [{ name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 }],
        selector: { app: 'svc' },
        type: 'ClusterIP',
      },
      status: { loadBalancer: {} },
    });
  });

  test('create serviceaccount, job, cronjob, quota', async () => {
    assert.deepEqual((await create(['create', 'serviceaccount', 'sa'])).obj, {
      kind: 'ServiceAccount',
      apiVersion: 'v1',
      metadata: { name: 'sa' },
    });
    assert.deepEqual((await create(['create', 'job', 'j', '--image=busybox', '--', 'echo', 'hi'])).obj, {
      kind: 'Job',
      apiVersion: 'batch/v1',
      metadata: { name: 'j' },
      spec: {
        template: {
          metadata: {},
          spec: {
            containers: [{ name: 'j', image: 'busybox', command: ['echo', 'hi'], resources: {} }],
            restartPolicy: 'Never',
          },
        },
      },
      status: {},
    });
    const cj = await create(['create', 'cronjob', 'cj', '--image=busybox', '--schedule=*/1 * * * *']);
    assert.equal(cj.url, '/apis/batch/v1/namespaces/default/cronjobs');
    assert.deepEqual(cj.obj.spec, {
      schedule: '*/1 * * * *',
      jobTemplate: {
        metadata: { name: 'cj' },
        spec: {
          template: {
            metadata: {},
            spec: {
              containers: [{ name: 'cj', image: 'busybox', resources: {} }],
              restartPolicy: 'OnFailure',
            },
          },
        },
      },
    });
    assert.deepEqual((await create(['create', 'quota', 'q', '--hard=pods=10,requests.cpu=500m'])).obj, {
      kind: 'ResourceQuota',
      apiVersion: 'v1',
      metadata: { name: 'q' },
      spec: { hard: { pods: '10', 'requests.cpu': '500m' } },
      status: {},
    });
  });

  test('create priorityclass, pdb, rolebinding', async () => {
    assert.deepEqual((await create(['create', 'priorityclass', 'pc', '--value=1000'])).obj, {
      kind: 'PriorityClass',
      apiVersion: 'scheduling.k8s.io/v1',
      metadata: { name: 'pc' },
      value: 1000,
      preemptionPolicy: 'PreemptLowerPriority',
    });
    assert.deepEqual(
      (await create(['create', 'pdb', 'p', '--selector=app=x', '--max-unavailable=25%'])).obj,
      {
        kind: 'PodDisruptionBudget',
        apiVersion: 'policy/v1',
        metadata: { name: 'p' },
        spec: { maxUnavailable: '25%', selector: { matchLabels: { app: 'x' } } },
        status: { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 },
      },
    );
    assert.deepEqual(
      (await create(['create', 'rolebinding', 'rb', '--clusterrole=view', '--user=bob'])).obj,
      {
        kind: 'RoleBinding',
        apiVersion: 'rbac.authorization.k8s.io/v1',
        metadata: { name: 'rb' },
        subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'bob' }],
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      },
    );
  });

  test('create ingress', async () => {
    const args = [
      'create',
      'ingress',
      'web',
      '--class=skiff',
      '--rule=foo.com/bar=svc1:8080,tls=my-cert',
      '--rule=/*=svc2:http',
      '--default-backend=svc3:80',
      '--annotation=example.com/a=b',
    ];
    const c = await create(args);
    assert.equal(c.url, '/apis/networking.k8s.io/v1/namespaces/default/ingresses');
    const backend = (name: string, port: object) => ({ service: { name, port } });
    assert.deepEqual(c.obj, {
      kind: 'Ingress',
      apiVersion: 'networking.k8s.io/v1',
      metadata: { name: 'web', annotations: { 'example.com/a': 'b' } },
      spec: {
        ingressClassName: 'skiff',
        defaultBackend: backend('svc3', { number: 80 }),
        tls: [{ hosts: ['foo.com'], secretName: 'my-cert' }],
        rules: [
          {
            host: 'foo.com',
            http: {
              paths: [{ path: '/bar', pathType: 'Exact', backend: backend('svc1', { number: 8080 }) }],
            },
          },
          {
            http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('svc2', { name: 'http' }) }] },
          },
        ],
      },
      status: { loadBalancer: {} },
    });
    // kubectl's own Go JSON of the object it would send is the same
    const dryRun = await kubectl([...args, '--dry-run=client', '-o', 'json']);
    assert.deepEqual(withoutNullCreationTimestamps(JSON.parse(dryRun)), c.obj);
  });

  test('create token, auth can-i', async () => {
    const tr = await create(['create', 'token', 'sa', '--duration=1h']);
    assert.equal(tr.url, '/api/v1/namespaces/default/serviceaccounts/sa/token');
    assert.deepEqual(tr.obj, {
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: {},
      spec: { audiences: null, expirationSeconds: 3600 },
      status: { token: '', expirationTimestamp: null },
    });
    const ssar = await create(['auth', 'can-i', 'get', 'pods']);
    assert.deepEqual(ssar.obj, {
      kind: 'SelfSubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
      metadata: {},
      spec: { resourceAttributes: { namespace: 'default', verb: 'get', resource: 'pods' } },
      status: { allowed: false },
    });
  });

  // kubectl's Go code decodes our protobuf answer and prints it as JSON: that JSON must be our fixture.
  const answers: [string[], string][] = [
    [['create', 'configmap', 'x'], 'ConfigMap'],
    [['create', 'secret', 'generic', 's'], 'Secret'],
    [['create', 'namespace', 'n'], 'Namespace'],
    [['create', 'serviceaccount', 'sa'], 'ServiceAccount'],
    [['create', 'service', 'clusterip', 'svc', '--tcp=80'], 'Service'],
    [['create', 'deployment', 'd', '--image=busybox'], 'Deployment'],
    [['create', 'job', 'j', '--image=busybox'], 'Job'],
    [['create', 'cronjob', 'cj', '--image=busybox', '--schedule=* * * * *'], 'CronJob'],
    [['create', 'quota', 'q', '--hard=pods=1'], 'ResourceQuota'],
    [['create', 'priorityclass', 'pc', '--value=1'], 'PriorityClass'],
    [['create', 'pdb', 'p', '--selector=app=x', '--min-available=1'], 'PodDisruptionBudget'],
    [['create', 'rolebinding', 'rb', '--clusterrole=view', '--user=bob'], 'RoleBinding'],
    [['create', 'ingress', 'web', '--rule=a.example.com/=web:80'], 'Ingress'],
  ];
  for (const [args, kind] of answers) {
    test(`kubectl reads a protobuf ${kind}`, async (t) => {
      const fixture = FIXTURES.find((f) => f.kind === kind);
      assert.ok(fixture);
      protobufReply = fixture;
      t.after(() => {
        protobufReply = undefined;
      });
      const { stdout } = await create([...args, '-o', 'json']);
      assert.deepEqual(withoutNullCreationTimestamps(JSON.parse(stdout)), fixture);
    });
  }

  test('kubectl reads protobuf TokenRequest and SelfSubjectAccessReview answers', async (t) => {
    t.after(() => {
      protobufReply = undefined;
    });
    protobufReply = FIXTURES.find((f) => f.kind === 'TokenRequest');
    assert.equal((await create(['create', 'token', 'builder'])).stdout, 'eyJhbGciOi');
    protobufReply = FIXTURES.find((f) => f.kind === 'SelfSubjectAccessReview');
    assert.equal((await create(['auth', 'can-i', 'get', '/healthz'])).stdout, 'yes\n');
  });
});

/** kubectl 1.32 prints a zero creationTimestamp as null; newer types (and Skiff) leave it out. */
function withoutNullCreationTimestamps(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNullCreationTimestamps);
  if (typeof v !== 'object' || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, e] of Object.entries(v)) {
    if (k === 'creationTimestamp' && e === null) continue;
    out[k] = withoutNullCreationTimestamps(e);
  }
  return out;
}
