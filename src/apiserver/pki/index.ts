/**
 * The control plane's PKI: one CA, a serving certificate for the API server and an admin
 * client certificate (CN=admin, O=system:masters), created once in `<dataDir>/pki/` and
 * reused on every later start. Keys are ECDSA P-256, made with Node's WebCrypto.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

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
  const { generatePki: generate } = await import('./generate.ts');
  return generate(opts);
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
