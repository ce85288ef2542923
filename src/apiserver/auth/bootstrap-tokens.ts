/**
 * Node join tokens, as Kubernetes' bootstrap tokens: `<id>.<secret>` (6 and 16 characters of
 * [a-z0-9]) kept as the Secret `kube-system/bootstrap-token-<id>` of type
 * `bootstrap.kubernetes.io/token`. A request bearing one authenticates as
 * `system:bootstrap:<id>` in group `system:bootstrappers`, which the default policy lets create
 * and update Nodes and Leases and read what an agent needs.
 *
 *   const token = await ensureJoinToken(dataDir);          // DIR/node-token, made once
 *   await ensureBootstrapSecret(objects, registry, token); // the Secret that makes it valid
 *   // skiff agent --server URL --token "$(cat DIR/node-token)"
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isReason } from '../../api/errors.ts';
import type { KubeObject, ResourceRegistry } from '../../api/resource.ts';
import type { User } from '../context.ts';
import type { Objects } from '../objects.ts';

export const BOOTSTRAP_TOKEN = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;
export const BOOTSTRAP_SECRET_TYPE = 'bootstrap.kubernetes.io/token';
export const BOOTSTRAPPERS = 'system:bootstrappers';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

function randomString(n: number): string {
  let s = '';
  for (const b of randomBytes(n)) s += ALPHABET[b % ALPHABET.length];
  return s;
}

export function newBootstrapToken(): string {
  return `${randomString(6)}.${randomString(16)}`;
}

/** The join token in `<dataDir>/node-token`, written (mode 0600) the first time. */
export async function ensureJoinToken(dataDir: string): Promise<string> {
  const path = join(dataDir, 'node-token');
  try {
    const t = (await readFile(path, 'utf8')).trim();
    if (BOOTSTRAP_TOKEN.test(t)) return t;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const token = newBootstrapToken();
  await writeFile(path, `${token}\n`, { mode: 0o600 });
  return token;
}

/** The Secret that makes a bootstrap token valid; `expiration` (RFC 3339) is optional. */
export function bootstrapSecret(
  token: string,
  opts: { expiration?: string; description?: string } = {},
): KubeObject {
  const m = BOOTSTRAP_TOKEN.exec(token);
  if (!m) throw new Error('a bootstrap token is <6 chars>.<16 chars> of [a-z0-9]');
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const data: Record<string, string> = {
    'token-id': b64(m[1]),
    'token-secret': b64(m[2]),
    'usage-bootstrap-authentication': b64('true'),
    'usage-bootstrap-signing': b64('true'),
    description: b64(opts.description ?? 'skiff node join token'),
  };
  if (opts.expiration) data.expiration = b64(opts.expiration);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: BOOTSTRAP_SECRET_TYPE,
    metadata: { name: `bootstrap-token-${m[1]}`, namespace: 'kube-system' },
    data,
  };
}

/** Create the token's Secret when it is missing. */
export async function ensureBootstrapSecret(
  objects: Objects,
  registry: ResourceRegistry,
  token: string,
): Promise<void> {
  const def = registry.byResource('', 'v1', 'secrets');
  if (!def) return;
  const secret = bootstrapSecret(token);
  secret.metadata!.uid = crypto.randomUUID();
  secret.metadata!.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  try {
    await objects.create(def, secret);
  } catch (e) {
    if (!isReason(e, 'AlreadyExists')) throw e;
  }
}

/** The user a bootstrap token stands for, when its Secret exists, matches and has not expired. */
export async function authenticateBootstrapToken(
  objects: Objects,
  registry: ResourceRegistry,
  token: string,
  now = Date.now(),
): Promise<User | undefined> {
  const m = BOOTSTRAP_TOKEN.exec(token);
  const def = registry.byResource('', 'v1', 'secrets');
  if (!m || !def) return undefined;
  const secret = (await objects.tryGet(def, 'kube-system', `bootstrap-token-${m[1]}`))?.obj;
  if (!secret || secret.type !== BOOTSTRAP_SECRET_TYPE || secret.metadata?.deletionTimestamp)
    return undefined;
  const data = (secret.data ?? {}) as Record<string, string>;
  const get = (k: string) => (data[k] === undefined ? undefined : Buffer.from(data[k], 'base64').toString());
  if (get('token-secret') !== m[2]) return undefined;
  if (get('usage-bootstrap-authentication') !== 'true') return undefined;
  const exp = get('expiration');
  if (exp && Date.parse(exp) <= now) return undefined;
  const extra = (get('auth-extra-groups') ?? '')
    .split(',')
    .map((g) => g.trim())
    .filter((g) => g.startsWith('system:bootstrappers:'));
  return { name: `system:bootstrap:${m[1]}`, groups: [BOOTSTRAPPERS, ...extra, 'system:authenticated'] };
}
