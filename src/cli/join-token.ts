/**
 * The token an agent joins with, as k3s shapes it: `K10<sha256 of the cluster CA>::<id>.<secret>`.
 * The `<id>.<secret>` part is the bootstrap token the API server authenticates; the CA hash lets the
 * agent trust the server it reaches on first contact: it takes the CA the server presents in its
 * certificate chain only if that CA's hash matches, then verifies every connection against it.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import tls from 'node:tls';

const FULL = /^K10([0-9a-f]{64})::([a-z0-9]{6}\.[a-z0-9]{16})$/;

export function caHash(caPem: string): string {
  return createHash('sha256').update(new X509Certificate(caPem).raw).digest('hex');
}

/** Writes `<dataDir>/join-token` for agents; returns the token. */
export async function writeJoinToken(
  dataDir: string,
  caPem: string,
  bootstrapToken: string,
): Promise<string> {
  const token = `K10${caHash(caPem)}::${bootstrapToken}`;
  await writeFile(join(dataDir, 'join-token'), `${token}\n`, { mode: 0o600 });
  return token;
}

export function parseJoinToken(token: string): { caHash: string; bootstrapToken: string } {
  const m = FULL.exec(token.trim());
  if (!m)
    throw new Error(
      "the token is not a Skiff join token (K10<CA hash>::<id>.<secret>); use the server data dir's join-token file",
    );
  return { caHash: m[1], bootstrapToken: m[2] };
}

/**
 * Connects to the server once, without trusting it yet, and returns the CA in its certificate
 * chain whose hash is `expected` (PEM). Throws if the server presents no such CA.
 */
export async function fetchPinnedCa(
  serverUrl: string,
  expected: string,
  timeoutMs = 10_000,
): Promise<string> {
  const url = new URL(serverUrl);
  const chain = await new Promise<tls.DetailedPeerCertificate>((resolve, reject) => {
    const socket = tls.connect({
      host: url.hostname,
      port: Number(url.port || 443),
      servername: /^[\d.]+$|:/.test(url.hostname) ? undefined : url.hostname,
      rejectUnauthorized: false,
    });
    const timer = setTimeout(() => socket.destroy(new Error(`no TLS answer from ${serverUrl}`)), timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const peer = socket.getPeerCertificate(true);
      socket.end();
      resolve(peer);
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
  const seen = new Set<string>();
  for (
    let c: tls.DetailedPeerCertificate | undefined = chain;
    c?.raw && !seen.has(c.fingerprint256);
    c = c.issuerCertificate
  ) {
    seen.add(c.fingerprint256);
    if (createHash('sha256').update(c.raw).digest('hex') === expected)
      return `-----BEGIN CERTIFICATE-----\n${c.raw.toString('base64').replace(/.{64}/g, '$&\n').trimEnd()}\n-----END CERTIFICATE-----\n`;
  }
  throw new Error(`the server at ${serverUrl} does not present the CA the token names: refusing to trust it`);
}
