/**
 * The PKI of a cluster's first node, made before its server starts (the server loads whatever is
 * in `<dataDir>/pki/`): the same files `skiff server` would make, with the node's address among
 * the serving certificate's SANs, so kubectl on the host and pulls from the cluster registry on
 * every node verify it. (A `--tls-san` flag on `skiff server` would make this unnecessary.)
 */
import { webcrypto } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

const crypto = webcrypto as any;
const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

async function pem(key: webcrypto.CryptoKey): Promise<string> {
  const b64 = Buffer.from(await crypto.subtle.exportKey('pkcs8', key))
    .toString('base64')
    .replace(/.{64}/g, '$&\n');
  return `-----BEGIN PRIVATE KEY-----\n${b64.trimEnd()}\n-----END PRIVATE KEY-----\n`;
}

export async function writeNodePki(dataDir: string, ips: string[]): Promise<void> {
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 10 * 365 * 24 * 3600_000);
  const caKeys = await crypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned(
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
  const leaf = async (subject: string, usage: x509.ExtendedKeyUsage, sans?: x509.JsonGeneralNames) => {
    const keys = await crypto.subtle.generateKey(alg, true, ['sign', 'verify']);
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
        issuer: ca.subject,
        publicKey: keys.publicKey,
        signingKey: caKeys.privateKey,
        notBefore,
        notAfter,
        signingAlgorithm: alg,
        extensions,
      },
      crypto,
    );
    return [cert.toString('pem'), await pem(keys.privateKey)];
  };
  const [serverCrt, serverKey] = await leaf('CN=skiff-apiserver', x509.ExtendedKeyUsage.serverAuth, [
    { type: 'ip', value: '127.0.0.1' },
    ...ips.map((value) => ({ type: 'ip' as const, value })),
    { type: 'dns', value: 'localhost' },
    { type: 'dns', value: 'kubernetes.default.svc' },
  ]);
  const [adminCrt, adminKey] = await leaf('CN=admin, O=system:masters', x509.ExtendedKeyUsage.clientAuth);
  const dir = join(dataDir, 'pki');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const files: Record<string, string> = {
    'ca.crt': ca.toString('pem'),
    'ca.key': await pem(caKeys.privateKey),
    'server.crt': serverCrt,
    'server.key': serverKey,
    'admin.crt': adminCrt,
    'admin.key': adminKey,
  };
  for (const [f, text] of Object.entries(files)) await writeFile(join(dir, f), text, { mode: 0o600 });
}
