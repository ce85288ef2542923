/**
 * Service-account tokens: JWTs signed with the cluster's service-account key (ES256, created once
 * as `<dataDir>/pki/sa.key`), with the claims Kubernetes' TokenRequest issues:
 *
 *   { iss, sub: "system:serviceaccount:<ns>:<name>", aud: [...], exp, iat, nbf, jti,
 *     "kubernetes.io": { namespace, serviceaccount: { name, uid }, pod?: { name, uid } } }
 *
 * The same key verifies them on every request and is published at `/openid/v1/jwks`.
 */
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { importPKCS8, jwtVerify, SignJWT } from 'jose';

/** The issuer and audience Kubernetes distributions default to. */
export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

export interface TokenClaims {
  namespace: string;
  serviceAccount: { name: string; uid: string };
  pod?: { name: string; uid: string };
  /** Seconds from now. */
  expirationSeconds: number;
  audiences?: string[];
}

export interface VerifiedToken {
  namespace: string;
  serviceAccount: { name: string; uid: string };
  pod?: { name: string; uid: string };
  audiences: string[];
  expiresAt: number;
  /** The token's id (jti), shown as the user's `authentication.kubernetes.io/credential-id` extra. */
  id?: string;
}

export class ServiceAccountTokens {
  readonly issuer: string;
  readonly audiences: string[];
  readonly keyId: string;
  readonly #private: KeyObject | Uint8Array | Parameters<SignJWT['sign']>[0];
  readonly #public: KeyObject;

  constructor(
    privateKey: KeyObject | Uint8Array | Parameters<SignJWT['sign']>[0],
    publicKey: KeyObject,
    issuer = DEFAULT_ISSUER,
  ) {
    this.#private = privateKey;
    this.#public = publicKey;
    this.issuer = issuer;
    this.audiences = [issuer];
    // Kubernetes' key id: the unpadded base64url SHA-256 of the public key's DER.
    this.keyId = createHash('sha256')
      .update(publicKey.export({ type: 'spki', format: 'der' }))
      .digest('base64url');
  }

  /** Load `<dataDir>/pki/sa.key`, creating it (P-256) the first time. */
  static async open(dataDir: string, issuer = DEFAULT_ISSUER): Promise<ServiceAccountTokens> {
    const path = join(dataDir, 'pki', 'sa.key');
    let pem: string;
    try {
      pem = await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
      await mkdir(join(dataDir, 'pki'), { recursive: true, mode: 0o700 });
      await writeFile(path, pem, { mode: 0o600 });
      await writeFile(
        join(dataDir, 'pki', 'sa.pub'),
        createPublicKey(pem).export({ type: 'spki', format: 'pem' }),
      );
    }
    return new ServiceAccountTokens(await importPKCS8(pem, 'ES256'), createPublicKey(pem), issuer);
  }

  async issue(c: TokenClaims, now = Date.now()): Promise<{ token: string; expiresAt: Date }> {
    const iat = Math.floor(now / 1000);
    const exp = iat + c.expirationSeconds;
    const k8s: Record<string, unknown> = { namespace: c.namespace, serviceaccount: c.serviceAccount };
    if (c.pod) k8s.pod = c.pod;
    const token = await new SignJWT({ 'kubernetes.io': k8s })
      .setProtectedHeader({ alg: 'ES256', kid: this.keyId })
      .setIssuer(this.issuer)
      .setSubject(`system:serviceaccount:${c.namespace}:${c.serviceAccount.name}`)
      .setAudience(c.audiences?.length ? c.audiences : this.audiences)
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(exp)
      .setJti(crypto.randomUUID())
      .sign(this.#private);
    return { token, expiresAt: new Date(exp * 1000) };
  }

  /** The token's claims when it is ours, unexpired and meant for one of `audiences`; else undefined. */
  async verify(token: string, audiences = this.audiences): Promise<VerifiedToken | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.#public, {
        issuer: this.issuer,
        audience: audiences,
        algorithms: ['ES256'],
      });
      const k = payload['kubernetes.io'] as
        | {
            namespace?: string;
            serviceaccount?: { name: string; uid: string };
            pod?: { name: string; uid: string };
          }
        | undefined;
      if (!k?.namespace || !k.serviceaccount?.name) return undefined;
      const sub = `system:serviceaccount:${k.namespace}:${k.serviceaccount.name}`;
      if (payload.sub !== sub) return undefined;
      return {
        namespace: k.namespace,
        serviceAccount: k.serviceaccount,
        pod: k.pod,
        audiences: ([] as string[]).concat(payload.aud ?? []),
        expiresAt: (payload.exp ?? 0) * 1000,
        id: payload.jti,
      };
    } catch {
      return undefined;
    }
  }

  /** `/.well-known/openid-configuration`. */
  discovery(): Record<string, unknown> {
    return {
      issuer: this.issuer,
      jwks_uri: `${this.issuer}/openid/v1/jwks`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256'],
    };
  }

  /** `/openid/v1/jwks`. */
  jwks(): { keys: Record<string, unknown>[] } {
    const jwk = this.#public.export({ format: 'jwk' });
    return {
      keys: [{ use: 'sig', kty: jwk.kty, kid: this.keyId, crv: jwk.crv, alg: 'ES256', x: jwk.x, y: jwk.y }],
    };
  }
}
