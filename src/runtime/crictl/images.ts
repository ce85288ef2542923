/** crictl's image commands: pull, images, inspecti, rmi; and Skiff's own `import`. */
import type { AuthConfig, Image } from '../../cri/index.ts';
import { type CrictlCommand, needArgs } from './context.ts';
import { parseFlags } from './flags.ts';
import {
  formatObject,
  humanSize,
  outputFormat,
  printDocuments,
  protoJson,
  statusDocument,
  table,
  truncate,
  usageError,
} from './output.ts';

export const pull: CrictlCommand = async (ctx, argv) => {
  const f = parseFlags(argv, {
    value: { creds: [], auth: [], username: ['u'], 'pod-config': [], 'pull-timeout': ['pt'] },
    repeat: { annotation: ['a'] },
  });
  needArgs(f.args, 1, 'NAME[:TAG|@DIGEST]');
  let auth: AuthConfig | undefined;
  const creds = f.value('creds');
  if (creds) {
    const colon = creds.indexOf(':');
    auth =
      colon < 0 ? { username: creds } : { username: creds.slice(0, colon), password: creds.slice(colon + 1) };
  } else if (f.value('auth')) auth = { auth: f.value('auth') };
  const { imageRef } = await ctx.image.pullImage({ image: { image: f.args[0] }, auth });
  ctx.out(`Image is up to date for ${imageRef}\n`);
  return 0;
};

/** `repo@sha256:…` digests → [repository, digest] for the DIGEST column. */
function repoDigest(img: Image): [string, string] {
  const d = img.repoDigests[0] ?? '';
  const at = d.indexOf('@');
  return at < 0 ? ['', ''] : [d.slice(0, at), d.slice(at + 1)];
}

/** Tags as [repository, tag] pairs, `<none>` where an image has none. */
function tagPairs(img: Image): [string, string][] {
  if (img.repoTags.length === 0) return [[repoDigest(img)[0] || '<none>', '<none>']];
  return img.repoTags.map((t) => {
    const colon = t.lastIndexOf(':');
    return colon > t.lastIndexOf('/') ? [t.slice(0, colon), t.slice(colon + 1)] : [t, '<none>'];
  });
}

export const images: CrictlCommand = async (ctx, argv) => {
  const f = parseFlags(argv, {
    bool: { all: ['a'], quiet: ['q'], digests: [], 'no-trunc': [], pinned: [], verbose: ['v'] },
    value: { output: ['o'], template: [] },
    repeat: { filter: ['f'] },
  });
  const output = outputFormat(f.value('output'), ['json', 'yaml', 'table'], 'table');
  const ref = f.args[0];
  let list = (await ctx.image.listImages({})).images;
  if (ref) {
    const want = ref.includes(':') || ref.includes('@') ? ref : `${ref}:latest`;
    list = list.filter(
      (i) => i.id === ref || i.repoTags.includes(want) || i.repoDigests.includes(ref) || i.id.startsWith(ref),
    );
  }
  if (output !== 'table') {
    ctx.out(formatObject(protoJson({ images: list }) ?? {}, output));
    return 0;
  }
  if (f.bool('quiet')) {
    for (const i of list) ctx.out(`${i.id}\n`);
    return 0;
  }
  const noTrunc = f.bool('no-trunc');
  const header = ['IMAGE', 'TAG'];
  if (f.bool('digests')) header.push('DIGEST');
  header.push('IMAGE ID', 'SIZE');
  if (f.bool('pinned')) header.push('PINNED');
  const rows = [header];
  for (const img of list) {
    const id = noTrunc ? img.id : truncate(img.id, 'sha256:');
    const digest = noTrunc ? repoDigest(img)[1] : truncate(repoDigest(img)[1], 'sha256:');
    for (const [repo, tag] of tagPairs(img)) {
      const row = [repo, tag];
      if (f.bool('digests')) row.push(digest);
      row.push(id, humanSize(img.size, 3));
      if (f.bool('pinned')) row.push(String(img.pinned));
      rows.push(row);
    }
  }
  ctx.out(table(rows));
  return 0;
};

export const inspecti: CrictlCommand = async (ctx, argv) => {
  const f = parseFlags(argv, { bool: { quiet: ['q'] }, value: { output: ['o'], template: [] } });
  needArgs(f.args, 1, 'IMAGE-ID [IMAGE-ID...]');
  const output = outputFormat(f.value('output'), ['json', 'yaml', 'table'], 'json');
  const docs: object[] = [];
  for (const ref of f.args) {
    const r = await ctx.image.imageStatus({ image: { image: ref }, verbose: !f.bool('quiet') });
    if (!r.image) throw usageError(`no such image ${JSON.stringify(ref)} present`);
    if (output === 'table') {
      ctx.out(
        `ID: ${r.image.id}\n${r.image.repoTags.map((t) => `Tag: ${t}\n`).join('')}` +
          `${r.image.repoDigests.map((d) => `Digest: ${d}\n`).join('')}Size: ${r.image.size}\n`,
      );
    } else docs.push(statusDocument(r.image, r.info));
  }
  if (docs.length) ctx.out(printDocuments(docs, output));
  return 0;
};

export const rmi: CrictlCommand = async (ctx, argv) => {
  const f = parseFlags(argv, { bool: { all: ['a'], prune: ['q'] } });
  const list = (await ctx.image.listImages({})).images;
  let refs = f.args;
  if (f.bool('all')) refs = list.map((i) => i.id);
  else needArgs(refs, 1, 'IMAGE-ID [IMAGE-ID...]');
  let failed = 0;
  for (const ref of refs) {
    try {
      const { image } = await ctx.image.imageStatus({ image: { image: ref } });
      if (!image) throw usageError(`no such image ${ref}`);
      await ctx.image.removeImage({ image: { image: image.id } });
      for (const t of image.repoTags) ctx.out(`Deleted: ${t}\n`);
      if (image.repoTags.length === 0) ctx.out(`Deleted: ${image.id}\n`);
    } catch (err) {
      ctx.err(`error of removing image ${JSON.stringify(ref)}: ${(err as Error).message}\n`);
      failed++;
    }
  }
  return failed ? 1 : 0;
};

/** `import ARCHIVE --root DIR`: loads a docker-save or OCI archive straight into Skiff's image store. */
export async function importArchive(argv: string[], out: (s: string) => void): Promise<number> {
  const f = parseFlags(argv, { value: { root: [] } });
  needArgs(f.args, 1, 'ARCHIVE');
  // loaded only here: the image store is heavy and only `import` needs it
  const { ImageStore } = await import('../images.ts');
  const imgs = await new ImageStore(f.value('root') ?? '/var/lib/skiff/runtime').importArchive(f.args[0]);
  for (const i of imgs) out(`${i.id} ${i.repoTags.join(',')}\n`);
  return 0;
}
