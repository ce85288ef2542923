/**
 * The control plane's PKI: one CA, a serving certificate for the API server and an admin
 * client certificate (CN=admin, O=system:masters), created once in `<dataDir>/pki/` and
 * reused on every later start. Keys are ECDSA P-256, made with Node's WebCrypto.
 */
import { webcrypto } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import 'reflect-metadata'; // @peculiar/x509 needs the Reflect metadata API
import * as x509 from '@peculiar/x509';

// The DOM Crypto types are not in this project's lib; the library accepts Node's webcrypto.
const crypto = webcrypto as any;
type KeyPair = webcrypto.CryptoKeyPair;
const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

export interface CertKey {
  cert: string;
  key: string;
}

export interface Pki {
  ca: CertKey;
  server: CertKey;
  admin: CertKey;
}

const FILES = ['ca.crt', 'ca.key', 'server.crt', 'server.key', 'admin.crt', 'admin.key'];

export interface PkiOptions {
  /** More IP addresses or DNS names for the serving certificate (a node address the server binds). */
  sans?: string[];
}

/**
 * Load the PKI from `<dataDir>/pki`, creating whatever is missing (all of it, if any file is).
 * `sans` count only when the PKI is made; an existing one is kept as it is.
 */
export async function ensurePki(dataDir: string, opts: PkiOptions = {}): Promise<Pki> {
  const dir = join(dataDir, 'pki');
  try {
    const [caCert, caKey, sCert, sKey, aCert, aKey] = await Promise.all(
      FILES.map((f) => readFile(join(dir, f), 'utf8')),
    );
    return {
      ca: { cert: caCert, key: caKey },
      server: { cert: sCert, key: sKey },
      admin: { cert: aCert, key: aKey },
    };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const pki = await generatePki(opts);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const contents = [pki.ca.cert, pki.ca.key, pki.server.cert, pki.server.key, pki.admin.cert, pki.admin.key];
  await Promise.all(FILES.map((f, i) => writeFile(join(dir, f), contents[i], { mode: 0o600 })));
  return pki;
}

/** A fresh CA with a serving and an admin certificate, valid for ten years. */
export async function generatePki(opts: PkiOptions = {}): Promise<Pki> {
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 10 * 365 * 24 * 3600_000);
  const caKeys = (await crypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as KeyPair;
  const caCert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: 'CN=skiff-ca',
      keys: caKeys,
      notBefore,
      notAfter,
      signingAlgorithm: alg,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const ca = { cert: caCert.toString('pem'), key: await keyPem(caKeys.privateKey) };

  async function leaf(subject: string, usage: x509.ExtendedKeyUsage, sans?: x509.JsonGeneralNames) {
    const keys = (await crypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as KeyPair;
    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([usage]),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey, false, crypto),
    ];
    if (sans) extensions.push(new x509.SubjectAlternativeNameExtension(sans));
    const cert = await x509.X509CertificateGenerator.create(
      {
        subject,
        issuer: caCert.subject,
        publicKey: keys.publicKey,
        signingKey: caKeys.privateKey,
        notBefore,
        notAfter,
        signingAlgorithm: alg,
        extensions,
      },
      crypto,
    );
    return { cert: cert.toString('pem'), key: await keyPem(keys.privateKey) };
  }

  const host = hostname();
  const server = await leaf('CN=skiff-apiserver', x509.ExtendedKeyUsage.serverAuth, [
    { type: 'ip', value: '127.0.0.1' },
    { type: 'ip', value: '::1' },
    { type: 'dns', value: 'localhost' },
    ...(host && host !== 'localhost' ? [{ type: 'dns' as const, value: host }] : []),
    { type: 'dns', value: 'kubernetes.default.svc' },
    ...(opts.sans ?? []).map((v) => ({ type: isIP(v) ? ('ip' as const) : ('dns' as const), value: v })),
  ]);
  const admin = await leaf('CN=admin, O=system:masters', x509.ExtendedKeyUsage.clientAuth);
  return { ca, server, admin };
}

async function keyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await crypto.subtle.exportKey('pkcs8', key));
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN PRIVATE KEY-----\n${b64.trimEnd()}\n-----END PRIVATE KEY-----\n`;
}

/** A kubeconfig for the admin user with every certificate embedded. */
export function adminKubeconfig(pki: Pki, serverUrl: string, name = 'skiff'): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${name}`,
    '  cluster:',
    `    server: ${serverUrl}`,
    `    certificate-authority-data: ${b64(pki.ca.cert)}`,
    'users:',
    '- name: admin',
    '  user:',
    `    client-certificate-data: ${b64(pki.admin.cert)}`,
    `    client-key-data: ${b64(pki.admin.key)}`,
    'contexts:',
    `- name: ${name}`,
    '  context:',
    `    cluster: ${name}`,
    '    user: admin',
    `current-context: ${name}`,
    '',
  ].join('\n');
}
