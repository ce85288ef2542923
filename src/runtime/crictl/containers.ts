/** crictl's container commands: create, start, ps, inspect, stop, rm, update, stats. */
import type {
  Container,
  ContainerConfig,
  ContainerFilter,
  ContainerState,
  LinuxContainerResources,
  PodSandboxConfig,
} from '../../cri/index.ts';
import { type CrictlCommand, type CrictlContext, loadConfig, needArgs } from './context.ts';
import { labelMap, parseFlags } from './flags.ts';
import {
  ago,
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
import { resolvePod } from './pods.ts';

const POD_NAME = 'io.kubernetes.pod.name';
const POD_NAMESPACE = 'io.kubernetes.pod.namespace';

function containerState(s: string | undefined): ContainerState | undefined {
  if (s === undefined) return undefined;
  const v = s.toLowerCase().replace(/^container_/, '');
  if (['created', 'running', 'exited', 'unknown'].includes(v))
    return `CONTAINER_${v.toUpperCase()}` as ContainerState;
  throw usageError(`state should be one of created, running, exited or unknown, not ${JSON.stringify(s)}`);
}

const stateWord = (s: ContainerState) => {
  const w = s.replace('CONTAINER_', '').toLowerCase();
  return w[0].toUpperCase() + w.slice(1);
};

export const create: CrictlCommand = async (ctx, argv) => {
  const f = parseFlags(argv, {
    bool: { 'no-pull': [], 'with-pull': [] },
    value: { creds: [], auth: [], username: [], 'cancel-timeout': ['T'] },
  });
  needArgs(f.args, 3, 'POD-ID container-config.[json|yaml] pod-config.[json|yaml]');
  const podSandboxId = await resolvePod(ctx, f.args[0]);
  const config = loadConfig<ContainerConfig>(f.args[1], 'container');
  const sandboxConfig = loadConfig<PodSandboxConfig>(f.args[2], 'pod sandbox');
  if (!config.image?.image) throw usageError('the container config has no image.image');
  if (f.bool('with-pull') && !f.bool('no-pull'))
    await ctx.image.pullImage({ image: { image: config.image.image }, sandboxConfig });
  const { containerId } = await ctx.runtime.createContainer({ podSandboxId, config, sandboxConfig });
  ctx.out(`${containerId}\n`);
  return 0;
};

/** Runs `fn` for each ID, printing errors one per line; the status is 1 if any failed. */
async function each(ctx: CrictlContext, ids: string[], fn: (id: string) => Promise<void>): Promise<number> {
  let failed = 0;
  for (const id of ids) {
    try {
      await fn(id);
    } catch (err) {
      ctx.err(`${id}: ${(err as Error).message}\n`);
      failed++;
    }
  }
  return failed ? 1 : 0;
}

export const start: CrictlCommand = async (ctx, argv) => {
  const f = parseFlags(argv, {});
  needArgs(f.args, 1, 'CONTAINER-ID [CONTAINER-ID...]');
  return each(ctx, f.args, async (id) => {
    await ctx.runtime.startContainer({ containerId: id });
    ctx.out(`${id}\n`);
  });
};

export const stop: CrictlCommand = async (ctx, argv) => {
  const f = parseFlags(argv, { bool: { all: ['a'] }, value: { timeout: ['t'] } });
  const timeout = f.int('timeout', 0);
  let ids = f.args;
  if (f.bool('all')) {
    ids = (
      await ctx.runtime.listContainers({ filter: { state: { state: 'CONTAINER_RUNNING' } } })
    ).containers.map((c) => c.id);
    if (ids.length === 0) ctx.out('No running containers found.\n');
  } else needArgs(ids, 1, 'CONTAINER-ID [CONTAINER-ID...]');
  return each(ctx, ids, async (id) => {
    await ctx.runtime.stopContainer({ containerId: id, timeout });
    ctx.out(`${id}\n`);
  });
};

export const rm: CrictlCommand = async (ctx, argv) => {
  const f = parseFlags(argv, { bool: { force: ['f'], all: ['a'], 'keep-logs': ['k'] } });
  const ids = f.bool('all') ? (await ctx.runtime.listContainers({})).containers.map((c) => c.id) : f.args;
  if (!f.bool('all')) needArgs(ids, 1, 'CONTAINER-ID [CONTAINER-ID...]');
  return each(ctx, ids, async (id) => {
    const { status } = await ctx.runtime.containerStatus({ containerId: id });
    if (status.state === 'CONTAINER_RUNNING') {
      if (!f.bool('force')) throw usageError(`container ${id} is running, please stop it first or use -f`);
      await ctx.runtime.stopContainer({ containerId: id, timeout: 0 });
    }
    await ctx.runtime.removeContainer({ containerId: id });
    ctx.out(`${id}\n`);
  });
};

async function listContainers(ctx: CrictlContext, argv: string[]) {
  const f = parseFlags(argv, {
    bool: {
      verbose: ['v'],
      quiet: ['q'],
      all: ['a'],
      latest: ['l'],
      'no-trunc': [],
      'resolve-image-path': ['r'],
    },
    value: {
      id: [],
      name: [],
      pod: ['p'],
      image: [],
      state: ['s'],
      output: ['o'],
      last: ['n'],
      namespace: [],
      template: [],
    },
    repeat: { label: [] },
  });
  const filter: ContainerFilter = {};
  const state = containerState(f.value('state'));
  if (state) filter.state = { state };
  else if (!f.bool('all') && !f.bool('latest') && f.value('last') === undefined)
    filter.state = { state: 'CONTAINER_RUNNING' };
  const labels = labelMap(f.list('label'));
  if (labels) filter.labelSelector = labels;
  const re = (p: string | undefined) => {
    try {
      return p === undefined ? undefined : new RegExp(p);
    } catch {
      throw usageError(`invalid regular expression ${JSON.stringify(p)}`);
    }
  };
  const name = re(f.value('name'));
  const namespace = re(f.value('namespace'));
  const id = f.value('id') ?? '';
  const pod = f.value('pod') ?? '';
  const image = f.value('image');
  let list = (await ctx.runtime.listContainers({ filter })).containers
    .filter((c) => c.id.startsWith(id) && c.podSandboxId.startsWith(pod))
    .filter((c) => !name || name.test(c.metadata.name))
    .filter((c) => !namespace || namespace.test(c.labels[POD_NAMESPACE] ?? ''))
    .filter((c) => !image || c.image.image === image || c.imageRef === image || c.imageRef.startsWith(image))
    .sort((a, b) => b.createdAt - a.createdAt);
  const last = f.bool('latest') ? 1 : f.int('last', 0);
  if (last > 0) list = list.slice(0, last);
  return { f, list };
}

export const ps: CrictlCommand = async (ctx, argv) => {
  const { f, list } = await listContainers(ctx, argv);
  const output = outputFormat(f.value('output'), ['json', 'yaml', 'table'], 'table');
  if (output !== 'table') {
    ctx.out(formatObject(protoJson({ containers: list }) ?? {}, output));
    return 0;
  }
  if (f.bool('quiet')) {
    for (const c of list) ctx.out(`${c.id}\n`);
    return 0;
  }
  if (f.bool('verbose')) {
    for (const c of list) ctx.out(verboseContainer(c));
    return 0;
  }
  const noTrunc = f.bool('no-trunc');
  const rows = [['CONTAINER', 'IMAGE', 'CREATED', 'STATE', 'NAME', 'ATTEMPT', 'POD ID', 'POD', 'NAMESPACE']];
  for (const c of list) {
    let image = c.image.image;
    if (!noTrunc && /^sha256:[0-9a-f]{64}$/.test(image)) image = truncate(image, 'sha256:');
    rows.push([
      noTrunc ? c.id : truncate(c.id),
      image,
      ago(c.createdAt),
      stateWord(c.state),
      c.metadata.name,
      String(c.metadata.attempt ?? 0),
      noTrunc ? c.podSandboxId : truncate(c.podSandboxId),
      c.labels[POD_NAME] ?? 'unknown',
      c.labels[POD_NAMESPACE] ?? 'unknown',
    ]);
  }
  ctx.out(table(rows));
  return 0;
};

function verboseContainer(c: Container): string {
  return (
    `ID: ${c.id}\nPodID: ${c.podSandboxId}\nNamespace: ${c.labels[POD_NAMESPACE] ?? 'unknown'}\n` +
    `Name: ${c.metadata.name}\nAttempt: ${c.metadata.attempt ?? 0}\nState: ${c.state}\n` +
    `Image: ${c.image.image}\nCreated: ${ago(c.createdAt)}\n\n`
  );
}

export const inspect: CrictlCommand = async (ctx, argv) => {
  const f = parseFlags(argv, {
    bool: { quiet: ['q'], latest: ['l'], all: ['a'] },
    value: {
      output: ['o'],
      template: [],
      name: [],
      namespace: [],
      pod: ['p'],
      image: [],
      state: ['s'],
      last: ['n'],
    },
    repeat: { label: [] },
  });
  const output = outputFormat(f.value('output'), ['json', 'yaml', 'table'], 'json');
  let ids = f.args;
  if (ids.length === 0) {
    ids = (
      await listContainers(
        ctx,
        argv.filter((a) => !/^(-o|--output)/.test(a)),
      )
    ).list.map((c) => c.id);
    if (ids.length === 0) throw usageError('no container given and none matched');
  }
  const docs: object[] = [];
  for (const id of ids) {
    const r = await ctx.runtime.containerStatus({ containerId: id, verbose: !f.bool('quiet') });
    if (output === 'table') {
      const s = r.status;
      ctx.out(
        `ID: ${s.id}\nName: ${s.metadata.name}\nAttempt: ${s.metadata.attempt ?? 0}\nState: ${s.state}\n` +
          `Created: ${ago(s.createdAt)}\n` +
          (s.startedAt ? `Started: ${ago(s.startedAt)}\n` : '') +
          (s.state === 'CONTAINER_EXITED'
            ? `Finished: ${ago(s.finishedAt)}\nExit Code: ${s.exitCode}\n`
            : ''),
      );
    } else docs.push(statusDocument(r.status, r.info));
  }
  if (docs.length) ctx.out(printDocuments(docs, output));
  return 0;
};

export const update: CrictlCommand = async (ctx, argv) => {
  const f = parseFlags(argv, {
    value: {
      memory: [],
      'cpu-share': ['cpu-shares'],
      'cpu-quota': [],
      'cpu-period': [],
      'cpuset-cpus': [],
      'cpuset-mems': [],
      'oom-score-adj': [],
    },
  });
  needArgs(f.args, 1, 'CONTAINER-ID [CONTAINER-ID...]');
  const linux: LinuxContainerResources = {};
  if (f.value('memory') !== undefined) linux.memoryLimitInBytes = memoryBytes(f.value('memory')!);
  if (f.value('cpu-share') !== undefined) linux.cpuShares = f.int('cpu-share', 0);
  if (f.value('cpu-quota') !== undefined) linux.cpuQuota = f.int('cpu-quota', 0);
  if (f.value('cpu-period') !== undefined) linux.cpuPeriod = f.int('cpu-period', 0);
  if (f.value('oom-score-adj') !== undefined) linux.oomScoreAdj = f.int('oom-score-adj', 0);
  if (f.value('cpuset-cpus') !== undefined) linux.cpusetCpus = f.value('cpuset-cpus');
  if (f.value('cpuset-mems') !== undefined) linux.cpusetMems = f.value('cpuset-mems');
  if (Object.keys(linux).length === 0) throw usageError('nothing to update: give --memory, --cpu-share, ...');
  return each(ctx, f.args, async (id) => {
    await ctx.runtime.updateContainerResources({ containerId: id, linux });
    ctx.out(`${id}\n`);
  });
};

/** Bytes, or a number with a k/m/g suffix (binary units, as docker takes them). */
function memoryBytes(v: string): number {
  const m = /^(\d+)([kmg]?)b?$/i.exec(v);
  if (!m) throw usageError(`invalid value ${JSON.stringify(v)} for --memory`);
  const scale = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * scale;
}

export const stats: CrictlCommand = async (ctx, argv) => {
  const f = parseFlags(argv, {
    bool: { all: ['a'], watch: ['w'] },
    value: { id: [], pod: ['p'], output: ['o'], seconds: ['s'], template: [] },
    repeat: { label: [] },
  });
  const output = outputFormat(f.value('output'), ['json', 'yaml', 'table'], 'table');
  const filter = {
    id: f.args[0] ?? f.value('id'),
    podSandboxId: f.value('pod'),
    labelSelector: labelMap(f.list('label')),
  };
  const sample = async () => (await ctx.runtime.listContainerStats({ filter })).stats;
  const first = await sample();
  if (output !== 'table') {
    ctx.out(formatObject(protoJson({ stats: first }) ?? {}, output));
    return 0;
  }
  // CPU % is the usage between two samples, `--seconds` apart (1 by default)
  await new Promise((r) => setTimeout(r, f.int('seconds', 1) * 1000));
  const before = new Map(first.map((s) => [s.attributes.id, s]));
  const rows = [['CONTAINER', 'NAME', 'CPU %', 'MEM', 'DISK', 'INODES', 'SWAP']];
  for (const s of await sample()) {
    const cpu = s.cpu?.usageCoreNanoSeconds?.value ?? 0;
    const mem = s.memory?.workingSetBytes?.value ?? 0;
    if (!f.bool('all') && cpu === 0 && mem === 0) continue;
    const old = before.get(s.attributes.id);
    const span = (s.cpu?.timestamp ?? 0) - (old?.cpu?.timestamp ?? 0);
    const oldCpu = old?.cpu?.usageCoreNanoSeconds?.value ?? 0;
    const perc = old && span > 0 && cpu ? ((cpu - oldCpu) / span) * 100 : 0;
    rows.push([
      truncate(s.attributes.id),
      s.attributes.metadata.name,
      perc.toFixed(2),
      humanSize(mem),
      humanSize(s.writableLayer?.usedBytes?.value ?? 0),
      String(s.writableLayer?.inodesUsed?.value ?? 0),
      humanSize(0),
    ]);
  }
  ctx.out(table(rows));
  return 0;
};
