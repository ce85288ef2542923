/**
 * Making the control plane's PKI (see index.ts): the certificates are built with
 * @peculiar/x509, which is loaded only when a PKI is made, on a data dir's first start
 * (with its dependencies ~650 KB of JavaScript, ~3 MB of heap in a server for its whole life).
 */
import { webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import 'reflect-metadata'; // @peculiar/x509 needs the Reflect metadata API
import * as x509 from '@peculiar/x509';
import type { Pki, PkiOptions } from './index.ts';

// The DOM Crypto types are not in this project's lib; the library accepts Node's webcrypto.
const crypto = webcrypto as any;
type KeyPair = webcrypto.CryptoKeyPair;
const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

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
