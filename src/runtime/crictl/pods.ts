/** crictl's pod sandbox commands: runp, pods, inspectp, stopp, rmp. */
import type { PodSandbox, PodSandboxConfig, PodSandboxFilter } from '../../cri/index.ts';
import { type CrictlCommand, type CrictlContext, loadConfig, needArgs } from './context.ts';
import { labelMap, parseFlags } from './flags.ts';
import {
  ago,
  formatObject,
  outputFormat,
  printDocuments,
  protoJson,
  statusDocument,
  table,
  truncate,
  usageError,
} from './output.ts';

const podState = (s: string | undefined) => {
  if (s === undefined) return undefined;
  const v = s.toLowerCase();
  if (v === 'ready' || v === 'sandbox_ready') return 'SANDBOX_READY' as const;
  if (v === 'notready' || v === 'sandbox_notready') return 'SANDBOX_NOTREADY' as const;
  throw usageError(`state should be ready or notready, not ${JSON.stringify(s)}`);
};

const regex = (pattern: string | undefined) => {
  if (pattern === undefined) return undefined;
  try {
    return new RegExp(pattern);
  } catch {
    throw usageError(`invalid regular expression ${JSON.stringify(pattern)}`);
  }
};

/** Resolves a pod ID prefix against the runtime's sandboxes (crictl accepts unique prefixes). */
export async function resolvePod(ctx: CrictlContext, id: string): Promise<string> {
  const { items } = await ctx.runtime.listPodSandbox({});
  const hits = items.filter((p) => p.id.startsWith(id));
  if (hits.length === 1) return hits[0].id;
  if (hits.length > 1) throw usageError(`pod ID ${id} is ambiguous`);
  throw usageError(`pod sandbox ${JSON.stringify(id)} not found`);
}

export const runp: CrictlCommand = async (ctx, argv) => {
  const f = parseFlags(argv, { value: { runtime: ['r'], 'cancel-timeout': ['T'] } });
  needArgs(f.args, 1, 'pod-config.[json|yaml]');
  const config = loadConfig<PodSandboxConfig>(f.args[0], 'pod sandbox');
  const { podSandboxId } = await ctx.runtime.runPodSandbox({ config, runtimeHandler: f.value('runtime') });
  ctx.out(`${podSandboxId}\n`);
  return 0;
};

async function listPods(ctx: CrictlContext, argv: string[], quietDefault = false) {
  const f = parseFlags(argv, {
    bool: { verbose: ['v'], quiet: ['q'], latest: ['l'], 'no-trunc': [] },
    value: { id: [], name: [], namespace: [], state: ['s'], output: ['o'], last: ['n'], template: [] },
    repeat: { label: [] },
  });
  const filter: PodSandboxFilter = {};
  const state = podState(f.value('state'));
  if (state) filter.state = { state };
  const labels = labelMap(f.list('label'));
  if (labels) filter.labelSelector = labels;
  const name = regex(f.value('name'));
  const namespace = regex(f.value('namespace'));
  const id = f.value('id') ?? '';
  let items = (await ctx.runtime.listPodSandbox({ filter })).items
    .filter((p) => p.id.startsWith(id))
    .filter((p) => !name || name.test(p.metadata.name))
    .filter((p) => !namespace || namespace.test(p.metadata.namespace))
    .sort((a, b) => b.createdAt - a.createdAt);
  const last = f.bool('latest') ? 1 : f.int('last', 0);
  if (last > 0) items = items.slice(0, last);
  return { f, items, quiet: f.bool('quiet') || quietDefault };
}

export const pods: CrictlCommand = async (ctx, argv) => {
  const { f, items, quiet } = await listPods(ctx, argv);
  const output = outputFormat(f.value('output'), ['json', 'yaml', 'table'], 'table');
  if (output !== 'table') {
    ctx.out(formatObject(protoJson({ items }) ?? {}, output));
    return 0;
  }
  if (quiet) {
    for (const p of items) ctx.out(`${p.id}\n`);
    return 0;
  }
  const noTrunc = f.bool('no-trunc');
  if (f.bool('verbose')) {
    for (const p of items) ctx.out(verbosePod(p));
    return 0;
  }
  const rows = [['POD ID', 'CREATED', 'STATE', 'NAME', 'NAMESPACE', 'ATTEMPT', 'RUNTIME']];
  for (const p of items)
    rows.push([
      noTrunc ? p.id : truncate(p.id),
      ago(p.createdAt),
      p.state === 'SANDBOX_READY' ? 'Ready' : 'NotReady',
      p.metadata.name,
      p.metadata.namespace,
      String(p.metadata.attempt ?? 0),
      p.runtimeHandler || '(default)',
    ]);
  ctx.out(table(rows));
  return 0;
};

function verbosePod(p: PodSandbox): string {
  const lines = [
    `ID: ${p.id}`,
    `Name: ${p.metadata.name}`,
    `UID: ${p.metadata.uid}`,
    `Namespace: ${p.metadata.namespace}`,
    `Attempt: ${p.metadata.attempt ?? 0}`,
    `Status: ${p.state}`,
    `Created: ${new Date(p.createdAt / 1e6).toISOString()}`,
  ];
  for (const [title, map] of [
    ['Labels', p.labels],
    ['Annotations', p.annotations],
  ] as const) {
    const keys = Object.keys(map ?? {}).sort();
    if (keys.length) lines.push(`${title}:`, ...keys.map((k) => `\t${k} -> ${map[k]}`));
  }
  return `${lines.join('\n')}\n\n`;
}

export const inspectp: CrictlCommand = async (ctx, argv) => {
  const f = parseFlags(argv, {
    bool: { quiet: ['q'], latest: ['l'] },
    value: { output: ['o'], template: [], name: [], namespace: [], state: ['s'], last: ['n'] },
    repeat: { label: [] },
  });
  const output = outputFormat(f.value('output'), ['json', 'yaml', 'table'], 'json');
  let ids = f.args;
  if (ids.length === 0) {
    const listed = await listPods(
      ctx,
      argv.filter((a) => !/^(-o|--output)/.test(a)),
    );
    ids = listed.items.map((p) => p.id);
    if (ids.length === 0) throw usageError('no pod sandbox given and none matched');
  }
  const docs: object[] = [];
  for (const id of ids) {
    const r = await ctx.runtime.podSandboxStatus({ podSandboxId: id, verbose: !f.bool('quiet') });
    if (output === 'table') {
      const s = r.status;
      ctx.out(
        `ID: ${s.id}\nName: ${s.metadata.name}\nUID: ${s.metadata.uid}\nNamespace: ${s.metadata.namespace}\n` +
          `Attempt: ${s.metadata.attempt ?? 0}\nStatus: ${s.state}\nCreated: ${new Date(s.createdAt / 1e6).toISOString()}\n` +
          (s.network?.ip ? `IP Addresses: ${s.network.ip}\n` : ''),
      );
    } else docs.push(statusDocument(r.status, r.info));
  }
  if (docs.length) ctx.out(printDocuments(docs, output));
  return 0;
};

export const stopp: CrictlCommand = async (ctx, argv) => {
  const f = parseFlags(argv, {});
  needArgs(f.args, 1, 'POD-ID [POD-ID...]');
  for (const id of f.args) {
    await ctx.runtime.stopPodSandbox({ podSandboxId: id });
    ctx.out(`Stopped sandbox ${id}\n`);
  }
  return 0;
};

export const rmp: CrictlCommand = async (ctx, argv) => {
  const f = parseFlags(argv, { bool: { force: ['f'], all: ['a'] } });
  const ids = f.bool('all') ? (await ctx.runtime.listPodSandbox({})).items.map((p) => p.id) : f.args;
  if (!f.bool('all')) needArgs(ids, 1, 'POD-ID [POD-ID...]');
  let failed = 0;
  for (const id of ids) {
    try {
      const { status } = await ctx.runtime.podSandboxStatus({ podSandboxId: id });
      if (status.state === 'SANDBOX_READY') {
        if (!f.bool('force'))
          throw usageError(`pod sandbox ${id} is running, please stop it first or use -f`);
        await ctx.runtime.stopPodSandbox({ podSandboxId: id });
      }
      await ctx.runtime.removePodSandbox({ podSandboxId: id });
      ctx.out(`Removed sandbox ${id}\n`);
    } catch (err) {
      ctx.err(`removing the pod sandbox ${id}: ${(err as Error).message}\n`);
      failed++;
    }
  }
  return failed ? 1 : 0;
};
