import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { isReason, StatusError } from '../api/errors.ts';
import type { KubeObject } from '../api/resource.ts';
import { SharedInformer } from './informer.ts';
import { listWatcherFor, NODES, PODS, RestClient } from './rest.ts';

const crypto = webcrypto as any;
type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

async function pem(key: CryptoKey): Promise<string> {
  const b64 = Buffer.from(await crypto.subtle.exportKey('pkcs8', key)).toString('base64');
  return `-----BEGIN PRIVATE KEY-----\n${b64.match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`;
}

/** A throwaway CA with one server (127.0.0.1) and one client certificate. */
async function makeCerts() {
  const now = Date.now();
  const validity = { notBefore: new Date(now - 60_000), notAfter: new Date(now + 3600_000) };
  const caKeys = (await crypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: 'CN=test-ca',
      keys: caKeys,
      ...validity,
      signingAlgorithm: alg,
      extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
    },
    crypto,
  );
  const issue = async (subject: string, usage: string, sans?: x509.JsonGeneralNames) => {
    const keys = (await crypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
    const extensions: x509.Extension[] = [new x509.ExtendedKeyUsageExtension([usage])];
    if (sans) extensions.push(new x509.SubjectAlternativeNameExtension(sans));
    const cert = await x509.X509CertificateGenerator.create(
      {
        subject,
        issuer: ca.subject,
        publicKey: keys.publicKey,
        signingKey: caKeys.privateKey,
        ...validity,
        signingAlgorithm: alg,
        extensions,
      },
      crypto,
    );
    return { cert: cert.toString('pem'), key: await pem(keys.privateKey) };
  };
  return {
    ca: ca.toString('pem'),
    server: await issue('CN=apiserver', x509.ExtendedKeyUsage.serverAuth, [
      { type: 'ip', value: '127.0.0.1' },
    ]),
    client: await issue('CN=tester, O=system:masters', x509.ExtendedKeyUsage.clientAuth),
  };
}

function status(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

interface Seen {
  method: string;
  url: string;
  contentType?: string;
  body: string;
  cn: string;
}

test('RestClient over HTTPS with client certificates, like Kubernetes answers', async (t) => {
  const certs = await makeCerts();
  const seen: Seen[] = [];
  const server = https.createServer(
    { ...certs.server, ca: certs.ca, requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        const cn = (req.socket as TLSSocket).getPeerCertificate().subject.CN;
        seen.push({
          method: req.method!,
          url: req.url!,
          contentType: req.headers['content-type'],
          body,
          cn: String(cn),
        });
        const url = new URL(req.url!, 'https://x');
        const json = (code: number, obj: unknown) => {
          res.writeHead(code, { 'content-type': 'application/json' });
          res.end(JSON.stringify(obj));
        };
        const p = url.pathname;
        if (req.method === 'GET' && p === '/api/v1/namespaces/default/pods/web') {
          return json(200, {
            kind: 'Pod',
            apiVersion: 'v1',
            metadata: { name: 'web', namespace: 'default' },
          });
        }
        if (req.method === 'GET' && p === '/api/v1/namespaces/default/pods/nope') {
          return json(404, status(404, 'NotFound', 'pods "nope" not found'));
        }
        if (req.method === 'POST' && p === '/api/v1/namespaces/default/pods') {
          const obj = JSON.parse(body);
          if (obj.metadata.name === 'web')
            return json(409, status(409, 'AlreadyExists', 'pods "web" already exists'));
          return json(201, { ...obj, metadata: { ...obj.metadata, resourceVersion: '5' } });
        }
        if (req.method === 'PUT' && p === '/api/v1/namespaces/default/pods/web/status') {
          return json(409, status(409, 'Conflict', 'Operation cannot be fulfilled on pods "web": stale'));
        }
        if (req.method === 'PATCH') return json(200, { kind: 'Pod', metadata: { name: 'web' } });
        if (req.method === 'DELETE') return json(200, { kind: 'Status', status: 'Success', code: 200 });
        if (req.method === 'GET' && p === '/api/v1/nodes' && !url.searchParams.has('watch')) {
          const page = url.searchParams.get('continue') ? 2 : 1;
          return json(200, {
            kind: 'NodeList',
            apiVersion: 'v1',
            metadata: { resourceVersion: '10', ...(page === 1 ? { continue: 'next' } : {}) },
            items: [{ kind: 'Node', metadata: { name: `n${page}`, resourceVersion: String(page) } }],
          });
        }
        if (req.method === 'GET' && p === '/api/v1/nodes' && url.searchParams.get('watch') === '1') {
          if (url.searchParams.get('resourceVersion') === '1') {
            return json(410, status(410, 'Expired', 'too old resource version: 1 (10)'));
          }
          res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
          const lines = [
            { type: 'ADDED', object: { kind: 'Node', metadata: { name: 'n3', resourceVersion: '11' } } },
            { type: 'BOOKMARK', object: { kind: 'Node', metadata: { resourceVersion: '12' } } },
            { type: 'DELETED', object: { kind: 'Node', metadata: { name: 'n1', resourceVersion: '13' } } },
          ]
            .map((l) => JSON.stringify(l) + '\n')
            .join('');
          // cut the stream mid-line to prove line reassembly across chunks
          res.write(lines.slice(0, 30));
          setTimeout(() => res.write(lines.slice(30, 120)), 5);
          setTimeout(() => res.write(lines.slice(120)), 10);
          return; // stays open until the client aborts
        }
        json(404, status(404, 'NotFound', 'the server could not find the requested resource'));
      });
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const dir = await mkdtemp(join(tmpdir(), 'skiff-rest-'));
  let client: RestClient | undefined;
  t.after(async () => {
    client?.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });
  const port = (server.address() as AddressInfo).port;
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  // CA embedded, client cert and key as files relative to the kubeconfig
  await writeFile(join(dir, 'c.crt'), certs.client.cert);
  await writeFile(join(dir, 'c.key'), certs.client.key);
  const kubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: https://127.0.0.1:${port}
    certificate-authority-data: ${b64(certs.ca)}
users:
- name: me
  user:
    client-certificate: c.crt
    client-key: c.key
contexts:
- name: test
  context: {cluster: test, user: me}
current-context: test
`;
  await writeFile(join(dir, 'kubeconfig'), kubeconfig);
  client = await RestClient.fromKubeconfig(join(dir, 'kubeconfig'));

  const pod = await client.get(PODS, 'web', { namespace: 'default' });
  assert.equal(pod.metadata?.name, 'web');
  assert.equal(seen[0].cn, 'tester', 'the server saw our client certificate');

  await assert.rejects(client.get(PODS, 'nope', { namespace: 'default' }), (e: unknown) => {
    assert.ok(isReason(e, 'NotFound'));
    assert.equal((e as StatusError).code, 404);
    assert.equal((e as StatusError).message, 'pods "nope" not found');
    return true;
  });
  const made = await client.create<KubeObject>(PODS, {
    kind: 'Pod',
    metadata: { name: 'db', namespace: 'default' },
  });
  assert.equal(made.metadata?.resourceVersion, '5');
  await assert.rejects(
    client.create(PODS, { metadata: { name: 'web', namespace: 'default' } }),
    (e: unknown) => isReason(e, 'AlreadyExists'),
  );
  await assert.rejects(
    client.updateStatus(PODS, {
      metadata: { name: 'web', namespace: 'default', resourceVersion: '1' },
    } as KubeObject),
    (e: unknown) => e instanceof StatusError && e.reason === 'Conflict' && e.code === 409,
  );

  for (const [type, ct] of [
    ['merge', 'application/merge-patch+json'],
    ['strategic', 'application/strategic-merge-patch+json'],
    ['json', 'application/json-patch+json'],
    ['apply', 'application/apply-patch+yaml'],
  ] as const) {
    await client.patch(PODS, 'web', type === 'json' ? [] : { metadata: {} }, {
      namespace: 'default',
      type,
      fieldManager: 'skiff-test',
      force: true,
    });
    const last = seen.at(-1)!;
    assert.equal(last.contentType, ct);
    assert.match(last.url, /fieldManager=skiff-test/);
    assert.equal(last.url.includes('force=true'), type === 'apply');
  }
  await client.delete(PODS, 'web', { namespace: 'default', propagationPolicy: 'Foreground' });
  assert.equal(JSON.parse(seen.at(-1)!.body).propagationPolicy, 'Foreground');

  // the watch stream, parsed line by line across chunk boundaries
  const ac = new AbortController();
  const events: string[] = [];
  for await (const ev of client.watch(NODES, {
    resourceVersion: '10',
    allowWatchBookmarks: true,
    signal: ac.signal,
  })) {
    events.push(`${ev.type} ${ev.object.metadata.resourceVersion}`);
    if (events.length === 3) ac.abort();
  }
  assert.deepEqual(events, ['ADDED 11', 'BOOKMARK 12', 'DELETED 13']);
  assert.match(seen.at(-1)!.url, /watch=1&resourceVersion=10&allowWatchBookmarks=true/);

  // a 410 on watch is a thrown StatusError with code 410
  await assert.rejects(
    (async () => {
      for await (const _ of client.watch(NODES, { resourceVersion: '1' })) void _;
    })(),
    (e: unknown) => e instanceof StatusError && e.code === 410,
  );

  // an informer over the REST client: paginated list, then the watch
  const inf = new SharedInformer(listWatcherFor(client, NODES), { pageSize: 1 });
  const iac = new AbortController();
  const running = inf.start(iac.signal);
  await inf.waitForSync(iac.signal);
  assert.deepEqual(inf.store.keys().sort(), ['n1', 'n2']);
  const end = Date.now() + 2000;
  while (inf.lastResourceVersion !== '13' && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(inf.store.keys().sort(), ['n2', 'n3']);
  iac.abort();
  await running;
});

test('after a burst of requests a client keeps at most 25 idle connections', async (t) => {
  const http = process.getBuiltinModule('node:http');
  const open = new Set<unknown>();
  const server = http.createServer((_req, res) => {
    // slow enough that all 40 requests are in flight together
    setTimeout(() => {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' } }),
      );
    }, 50);
  });
  server.on('connection', (s) => {
    open.add(s);
    s.on('close', () => open.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = new RestClient({ server: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  t.after(async () => {
    client.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  await Promise.all(Array.from({ length: 40 }, () => client.get(PODS, 'p', { namespace: 'default' })));
  assert.equal(open.size > 25, true, 'the burst used more than 25 connections');
  for (let i = 0; i < 100 && open.size > 25; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(open.size, 25);
});
