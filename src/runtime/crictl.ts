/**
 * `skiff crictl`: crictl's commands, flags and output for any CRI endpoint (Skiff's runtime or
 * containerd).
 *
 *   skiff crictl [--runtime-endpoint unix:///run/skiff/cri.sock] [--image-endpoint EP] [--timeout S] COMMAND
 *
 *   version, info                       the runtime's name and version; its status conditions
 *   runp POD.json|yaml                  run a pod sandbox, print its ID
 *   pods, inspectp, stopp, rmp          list (--name --namespace --label --state -q -o), inspect, stop, remove
 *   create POD-ID CTR.json POD.json     create a container, print its ID; start, stop (--timeout), rm (-f)
 *   ps, inspect, logs, stats, update    list (-a --pod --name --label --state -q -o), inspect, read the log
 *                                       file (--tail --since --timestamps -f --previous), stats, resources
 *   exec [-s] [-i] [-t], attach         ExecSync, or the Exec/Attach URL over a WebSocket
 *   port-forward POD-ID [LOCAL:]REMOTE  listen locally, forward through PortForward URLs
 *   pull, images, inspecti, rmi         the image service
 *   import ARCHIVE --root DIR           (Skiff only) load an archive straight into the image store
 *
 * The endpoint also comes from CONTAINER_RUNTIME_ENDPOINT (and IMAGE_SERVICE_ENDPOINT). Bad
 * input or a failed call prints one line on stderr and exits 1; `exec` exits with the command's code.
 */
import { criClient } from '../cri/index.ts';
import { create, inspect, ps, rm, start, stats, stop, update } from './crictl/containers.ts';
import type { CrictlCommand, CrictlContext } from './crictl/context.ts';
import { parseFlags } from './crictl/flags.ts';
import { images, importArchive, inspecti, pull, rmi } from './crictl/images.ts';
import { logs } from './crictl/logs.ts';
import { CrictlError, formatObject, outputFormat, statusDocument } from './crictl/output.ts';
import { inspectp, pods, rmp, runp, stopp } from './crictl/pods.ts';
import { attach, exec, portForward } from './crictl/streaming.ts';

const DEFAULT_ENDPOINT = 'unix:///run/skiff/cri.sock';
/** crictl's own version, as `crictl version` prints it */
const CRICTL_VERSION = '0.1.0';

const version: CrictlCommand = async (ctx) => {
  const v = await ctx.runtime.version({ version: 'v1' });
  ctx.out(
    `Version:  ${CRICTL_VERSION}\nRuntimeName:  ${v.runtimeName}\nRuntimeVersion:  ${v.runtimeVersion}\nRuntimeApiVersion:  ${v.runtimeApiVersion}\n`,
  );
  return 0;
};

const info: CrictlCommand = async (ctx, argv) => {
  const f = parseFlags(argv, { bool: { quiet: ['q'] }, value: { output: ['o'], template: [] } });
  const output = outputFormat(f.value('output'), ['json', 'yaml'], 'json');
  const r = await ctx.runtime.status({ verbose: !f.bool('quiet') });
  ctx.out(formatObject(statusDocument(r.status, r.info), output));
  return 0;
};

const COMMANDS: Record<string, CrictlCommand> = {
  version,
  info,
  runp,
  pods,
  inspectp,
  stopp,
  rmp,
  create,
  start,
  ps,
  inspect,
  logs,
  exec,
  attach,
  'port-forward': portForward,
  stop,
  rm,
  stats,
  update,
  pull,
  images,
  img: images,
  inspecti,
  rmi,
};

const USAGE = `usage: skiff crictl [--runtime-endpoint EP] [--image-endpoint EP] [--timeout S] COMMAND [ARGS]
commands: ${[...Object.keys(COMMANDS), 'import'].join(', ')}
`;

/** Global flags come before the command; the rest belongs to it. */
function splitGlobal(argv: string[]): { global: string[]; command?: string; rest: string[] } {
  const valued = new Set([
    '--runtime-endpoint',
    '-r',
    '--image-endpoint',
    '-i',
    '--timeout',
    '-t',
    '--config',
    '-c',
    '--root',
  ]);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('-')) return { global: argv.slice(0, i), command: a, rest: argv.slice(i + 1) };
    if (valued.has(a)) i++;
  }
  return { global: argv, rest: [] };
}

export async function crictlMain(argv: string[]): Promise<number> {
  const out = (s: string) => void process.stdout.write(s);
  const err = (s: string) => void process.stderr.write(s);
  const fail = (message: string) => {
    err(`crictl: ${message.replace(/\s*\n\s*/g, ' ').trim()}\n`);
    return 1;
  };
  let parsed: ReturnType<typeof parseFlags>;
  const { global, command, rest } = splitGlobal(argv);
  try {
    parsed = parseFlags(global, {
      bool: { debug: ['D'], help: ['h'], version: ['v'] },
      value: { 'runtime-endpoint': ['r'], 'image-endpoint': ['i'], timeout: ['t'], config: ['c'], root: [] },
    });
  } catch (e) {
    return fail((e as Error).message);
  }
  if (parsed.bool('version')) {
    out(`crictl version ${CRICTL_VERSION}\n`);
    return 0;
  }
  if (parsed.bool('help') || command === 'help') {
    out(USAGE);
    return 0;
  }
  if (!command) {
    err(USAGE);
    return 1;
  }
  if (command === 'import') {
    try {
      return await importArchive(
        parsed.value('root') ? [...rest, '--root', parsed.value('root')!] : rest,
        out,
      );
    } catch (e) {
      return fail((e as Error).message);
    }
  }
  const run = COMMANDS[command];
  if (!run)
    return fail(`unknown command ${JSON.stringify(command)}; commands: ${Object.keys(COMMANDS).join(', ')}`);
  const endpoint =
    parsed.value('runtime-endpoint') ?? process.env.CONTAINER_RUNTIME_ENDPOINT ?? DEFAULT_ENDPOINT;
  const imageEndpoint = parsed.value('image-endpoint') ?? process.env.IMAGE_SERVICE_ENDPOINT ?? endpoint;
  let timeoutS: number;
  try {
    timeoutS = parsed.int('timeout', 0);
  } catch (e) {
    return fail((e as Error).message);
  }
  // crictl's --timeout bounds each call; without it calls may take minutes (pulls, stops)
  const timeoutMs = timeoutS > 0 ? timeoutS * 1000 : 600_000;
  const runtime = criClient(endpoint, { timeoutMs });
  const image = imageEndpoint === endpoint ? runtime : criClient(imageEndpoint, { timeoutMs });
  const ctx: CrictlContext = { runtime, image, endpoint, out, err };
  try {
    return await run(ctx, rest);
  } catch (e) {
    if (e instanceof CrictlError) return fail(e.message);
    return fail(`${command}: ${(e as Error).message}`);
  } finally {
    runtime.close();
    if (image !== runtime) image.close();
  }
}
