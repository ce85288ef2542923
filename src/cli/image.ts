/**
 * `skiff image`: images into the cluster, like `kind load`.
 *
 *   skiff image import FILE [--name NAME] [--kubeconfig PATH]
 *       FILE is an OCI image layout (directory or tar) or a docker-archive tarball. Its image is
 *       pushed to the cluster registry under its own name (or NAME), at the mirror path every
 *       node looks at first (`skiff.local/busybox:1.35` → repository `skiff.local/busybox`).
 *   skiff image ls [--kubeconfig PATH]
 *       NAME TAG DIGEST SIZE of everything the cluster registry holds.
 *
 * The registry's URL and CA come from the ConfigMap kube-public/skiff-registry; pushes present
 * the kubeconfig's client certificate (the registry only takes pushes from the cluster CA's).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { RestClient, restConfigFromKubeconfig } from '../client/index.ts';
import {
  type BlobProgress,
  findClusterRegistry,
  INDEX_TYPES,
  mirrorRepository,
  openImageArchive,
  pushLayout,
  RegistryClient,
} from '../registry/index.ts';
import { formatReference, parseReference } from '../runtime/index.ts';

const USAGE = `usage: skiff image <command> [flags]

commands:
  import FILE [--name NAME]   push an OCI layout (dir or tar) or docker-archive to the cluster registry
  ls                          list the images in the cluster registry
  build-busybox DIR           build skiff.local/busybox:1.35 from Debian's busybox-static into DIR
                              (an OCI layout and a docker-archive, ready to import; no network)

flags:
  --kubeconfig PATH           default $KUBECONFIG, then ~/.kube/config
`;

/** A failure worth one line and an exit code (1: something is wrong out there, 2: usage). */
class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

function parseFlags(
  args: string[],
  known: string[],
): { positional: string[]; flags: Record<string, string> } {
  const positional: string[] = [];
  const flags: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const key = a.slice(2, eq < 0 ? undefined : eq);
    if (!known.includes(key)) throw new CliError(`unknown flag --${key}`, 2);
    const value = eq < 0 ? args[++i] : a.slice(eq + 1);
    if (value === undefined) throw new CliError(`--${key} needs a value`, 2);
    flags[key] = value;
  }
  return { positional, flags };
}

interface Cluster {
  url: string;
  caPem: string;
  tls: { ca: string; cert?: string; key?: string };
}

async function clusterRegistry(kubeconfigFlag: string | undefined): Promise<Cluster> {
  const path =
    kubeconfigFlag ?? process.env.KUBECONFIG?.split(':').find(Boolean) ?? join(homedir(), '.kube', 'config');
  let config: Awaited<ReturnType<typeof restConfigFromKubeconfig>>;
  try {
    config = await restConfigFromKubeconfig(path);
  } catch (e) {
    throw new CliError(`cannot read kubeconfig ${path}: ${(e as Error).message}`);
  }
  const client = new RestClient(config);
  let where: Awaited<ReturnType<typeof findClusterRegistry>>;
  try {
    where = await findClusterRegistry(client);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new CliError(`cannot reach the API server at ${config.server}: ${err.code ?? err.message}`);
  } finally {
    client.close();
  }
  if (!where) throw new CliError('no cluster registry: the ConfigMap kube-public/skiff-registry is missing');
  return { ...where, tls: { ca: where.caPem, cert: config.cert, key: config.key } };
}

function human(n: number): string {
  if (n < 1024) return `${n}B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  do {
    v /= 1024;
    u++;
  } while (v >= 1024 && u < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)}${units[u]}`;
}

/** A progress bar redrawn in place on a terminal; one line per finished blob otherwise. */
function progressReporter(out: NodeJS.WriteStream): (p: BlobProgress) => void {
  const tty = out.isTTY === true;
  let lastDraw = 0;
  return (p) => {
    const id = p.digest.slice(7, 19);
    if (!tty) {
      if (p.done) out.write(`${id}: ${p.existed ? 'already there' : 'pushed'} ${human(p.total)}\n`);
      return;
    }
    const now = Date.now();
    if (!p.done && now - lastDraw < 100) return;
    lastDraw = now;
    const width = 30;
    const frac = p.total ? p.sent / p.total : 1;
    const bar = '='.repeat(Math.round(frac * width)).padEnd(width, ' ');
    const state = p.existed ? 'already there' : `${human(p.sent)}/${human(p.total)}`;
    out.write(`\r\x1b[K${id}: [${bar}] ${state}${p.done ? '\n' : ''}`);
  };
}

async function importCommand(args: string[]): Promise<number> {
  const { positional, flags } = parseFlags(args, ['name', 'kubeconfig']);
  if (positional.length !== 1) throw new CliError('usage: skiff image import FILE [--name NAME]', 2);
  const file = positional[0];
  if (flags.name) {
    try {
      parseReference(flags.name);
    } catch (e) {
      throw new CliError((e as Error).message, 2);
    }
  }
  const scratch = await mkdtemp(join(tmpdir(), 'skiff-image-'));
  try {
    let archive: Awaited<ReturnType<typeof openImageArchive>>;
    try {
      archive = await openImageArchive(file, scratch);
    } catch (e) {
      throw new CliError((e as Error).message);
    }
    if (archive.images.length === 0) throw new CliError(`${file} holds no image`);
    const named = flags.name ? archive.images : archive.images.filter((i) => i.name);
    if (named.length === 0) throw new CliError(`${file} does not name its image: give one with --name`, 2);
    if (named.length > 1 && !flags.name)
      throw new CliError(`${file} holds ${named.length} images; this imports one: pick it with --name`, 2);
    const image = flags.name ? (archive.images.find((i) => i.name === flags.name) ?? named[0]) : named[0];
    const ref = parseReference(flags.name ?? image.name ?? '');
    const cluster = await clusterRegistry(flags.kubeconfig);
    const repository = mirrorRepository(ref.host, ref.path);
    const tag = ref.tag ?? 'latest';
    let pushed: { digest: string };
    try {
      pushed = await pushLayout({
        layout: archive.layout,
        registry: cluster.url,
        name: repository,
        digest: image.descriptor.digest,
        tag,
        tls: cluster.tls,
        onProgress: progressReporter(process.stderr),
      });
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
      throw new CliError(`push to ${cluster.url} failed: ${err.code ?? err.cause?.code ?? err.message}`);
    }
    process.stdout.write(`${formatReference({ ...ref, digest: undefined, tag })} ${pushed.digest}\n`);
    return 0;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function imageSize(
  client: RegistryClient,
  name: string,
  reference: string,
): Promise<{ digest: string; size: number }> {
  const m = await client.getManifest(name, reference);
  const doc = JSON.parse(m.bytes.toString('utf8'));
  let size = m.bytes.length;
  if (INDEX_TYPES.includes(m.mediaType)) {
    for (const child of doc.manifests ?? []) size += (await imageSize(client, name, child.digest)).size;
  } else {
    for (const b of [doc.config, ...(doc.layers ?? [])]) size += b?.size ?? 0;
  }
  return { digest: m.digest, size };
}

async function lsCommand(args: string[]): Promise<number> {
  const { positional, flags } = parseFlags(args, ['kubeconfig']);
  if (positional.length) throw new CliError('usage: skiff image ls', 2);
  const cluster = await clusterRegistry(flags.kubeconfig);
  const client = new RegistryClient(cluster.url, { ca: cluster.caPem });
  const rows: string[][] = [['NAME', 'TAG', 'DIGEST', 'SIZE']];
  try {
    for (const name of await client.catalog()) {
      const { tags } = await client.listTags(name);
      for (const tag of tags) {
        const { digest, size } = await imageSize(client, name, tag);
        rows.push([name, tag, digest, human(size)]);
      }
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
    throw new CliError(`cannot list ${cluster.url}: ${err.code ?? err.cause?.code ?? err.message}`);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows)
    process.stdout.write(`${r.map((v, c) => (c < r.length - 1 ? v.padEnd(widths[c]) : v)).join('   ')}\n`);
  return 0;
}

async function buildBusyboxCommand(args: string[]): Promise<number> {
  const { positional } = parseFlags(args, []);
  if (positional.length !== 1) throw new CliError('usage: skiff image build-busybox DIR', 2);
  const { buildTestImage } = await import('../runtime/index.ts');
  const built = await buildTestImage(positional[0]);
  process.stdout.write(
    `${built.name}\n  docker-archive: ${built.dockerArchive}\n  OCI layout:     ${built.ociTar}\n`,
  );
  return 0;
}

/** `skiff image ...`: returns the exit code. */
export async function imageMain(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  try {
    switch (sub) {
      case 'import':
        return await importCommand(rest);
      case 'ls':
      case 'list':
        return await lsCommand(rest);
      case 'build-busybox':
        return await buildBusyboxCommand(rest);
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE);
        return 0;
      default:
        process.stderr.write(sub ? `skiff image: unknown command "${sub}"\n${USAGE}` : USAGE);
        return 2;
    }
  } catch (e) {
    if (e instanceof CliError) {
      process.stderr.write(`skiff image: ${e.message}\n`);
      return e.exitCode;
    }
    process.stderr.write(`skiff image: ${(e as Error).message ?? e}\n`);
    return 1;
  }
}
