/**
 * `skiff crictl`: a small crictl for any CRI endpoint (Skiff's runtime or containerd).
 *
 *   skiff crictl [--runtime-endpoint unix:///run/skiff/cri.sock] <command> [args]
 *
 * Commands: version, info, pods, ps [-a], images, inspect <ctr>, inspectp <pod>, inspecti <img>,
 * exec <ctr> <cmd...>, logs <ctr>, stop <ctr>, rm <ctr>, stopp <pod>, rmp <pod>, pull <img>, rmi <img>,
 * stats, import <archive> (Skiff's image store only, with --root).
 */
import fs from 'node:fs';
import { criClient } from '../cri/index.ts';
import { ImageStore } from './images.ts';

const DEFAULT_ENDPOINT = process.env.CONTAINER_RUNTIME_ENDPOINT ?? 'unix:///run/skiff/cri.sock';

const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 13);
const ago = (ns: number) => `${Math.max(0, Math.round((Date.now() - ns / 1e6) / 1000))}s ago`;

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return (
    rows
      .map((r) =>
        r
          .map((c, i) => c.padEnd(widths[i]))
          .join('   ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

export async function crictlMain(argv: string[]): Promise<number> {
  const args = [...argv];
  let endpoint = DEFAULT_ENDPOINT;
  let root = '/var/lib/skiff/runtime';
  for (let i = 0; i < args.length; ) {
    if (args[i] === '--runtime-endpoint' || args[i] === '-r' || args[i] === '--image-endpoint') {
      endpoint = args[i + 1];
      args.splice(i, 2);
    } else if (args[i] === '--root') {
      root = args[i + 1];
      args.splice(i, 2);
    } else i++;
  }
  const [cmd, ...rest] = args;
  const out = (s: string) => process.stdout.write(s);
  if (cmd === 'import') {
    const imgs = await new ImageStore(root).importArchive(rest[0]);
    for (const i of imgs) out(`${i.id} ${i.repoTags.join(',')}\n`);
    return 0;
  }
  const cri = criClient(endpoint, { timeoutMs: 300_000 });
  try {
    switch (cmd) {
      case 'version': {
        const v = await cri.version({ version: 'v1' });
        out(
          `RuntimeName:  ${v.runtimeName}\nRuntimeVersion:  ${v.runtimeVersion}\nRuntimeApiVersion:  ${v.runtimeApiVersion}\n`,
        );
        return 0;
      }
      case 'info':
        out(`${JSON.stringify(await cri.status({ verbose: true }), null, 2)}\n`);
        return 0;
      case 'pods': {
        const { items } = await cri.listPodSandbox({});
        out(
          table([
            ['POD ID', 'CREATED', 'STATE', 'NAME', 'NAMESPACE', 'ATTEMPT'],
            ...items.map((p) => [
              short(p.id),
              ago(p.createdAt),
              p.state.replace('SANDBOX_', ''),
              p.metadata.name,
              p.metadata.namespace,
              String(p.metadata.attempt ?? 0),
            ]),
          ]),
        );
        return 0;
      }
      case 'ps': {
        const all = rest.includes('-a');
        const { containers } = await cri.listContainers(
          all ? {} : { filter: { state: { state: 'CONTAINER_RUNNING' } } },
        );
        out(
          table([
            ['CONTAINER', 'IMAGE', 'CREATED', 'STATE', 'NAME', 'ATTEMPT', 'POD ID'],
            ...containers.map((c) => [
              short(c.id),
              c.image.image,
              ago(c.createdAt),
              c.state.replace('CONTAINER_', ''),
              c.metadata.name,
              String(c.metadata.attempt ?? 0),
              short(c.podSandboxId),
            ]),
          ]),
        );
        return 0;
      }
      case 'images': {
        const { images } = await cri.listImages({});
        const rows = [['IMAGE', 'TAG', 'IMAGE ID', 'SIZE']];
        for (const i of images) {
          for (const tag of i.repoTags.length ? i.repoTags : ['<none>:<none>']) {
            const at = tag.lastIndexOf(':');
            rows.push([tag.slice(0, at), tag.slice(at + 1), short(i.id), `${(i.size / 1e6).toFixed(1)}MB`]);
          }
        }
        out(table(rows));
        return 0;
      }
      case 'inspect':
        out(
          `${JSON.stringify(await cri.containerStatus({ containerId: rest[0], verbose: true }), null, 2)}\n`,
        );
        return 0;
      case 'inspectp':
        out(
          `${JSON.stringify(await cri.podSandboxStatus({ podSandboxId: rest[0], verbose: true }), null, 2)}\n`,
        );
        return 0;
      case 'inspecti':
        out(
          `${JSON.stringify(await cri.imageStatus({ image: { image: rest[0] }, verbose: true }), null, 2)}\n`,
        );
        return 0;
      case 'exec': {
        const argsOnly = rest.filter((a) => a !== '-it' && a !== '-i' && a !== '-t');
        const r = await cri.execSync({ containerId: argsOnly[0], cmd: argsOnly.slice(1), timeout: 0 });
        process.stdout.write(r.stdout);
        process.stderr.write(r.stderr);
        return r.exitCode;
      }
      case 'logs': {
        const { status } = await cri.containerStatus({ containerId: rest[0] });
        for (const line of fs.readFileSync(status.logPath, 'utf8').split('\n')) {
          const m = /^\S+ (stdout|stderr) ([FP]) (.*)$/.exec(line);
          if (!m) continue;
          (m[1] === 'stderr' ? process.stderr : process.stdout).write(m[3] + (m[2] === 'F' ? '\n' : ''));
        }
        return 0;
      }
      case 'stop':
        for (const id of rest) await cri.stopContainer({ containerId: id, timeout: 10 });
        return 0;
      case 'rm':
        for (const id of rest) await cri.removeContainer({ containerId: id });
        return 0;
      case 'stopp':
        for (const id of rest) await cri.stopPodSandbox({ podSandboxId: id });
        return 0;
      case 'rmp':
        for (const id of rest) await cri.removePodSandbox({ podSandboxId: id });
        return 0;
      case 'pull':
        out(`Image is up to date for ${(await cri.pullImage({ image: { image: rest[0] } })).imageRef}\n`);
        return 0;
      case 'rmi':
        for (const ref of rest) await cri.removeImage({ image: { image: ref } });
        return 0;
      case 'stats': {
        const { stats } = await cri.listContainerStats({});
        out(
          table([
            ['CONTAINER', 'NAME', 'CPU(ns)', 'MEM'],
            ...stats.map((s) => [
              short(s.attributes.id),
              s.attributes.metadata.name,
              String(s.cpu?.usageCoreNanoSeconds?.value ?? ''),
              `${((s.memory?.workingSetBytes?.value ?? 0) / 1e6).toFixed(1)}MB`,
            ]),
          ]),
        );
        return 0;
      }
      default:
        process.stderr.write(
          'usage: skiff crictl [--runtime-endpoint EP] version|info|pods|ps [-a]|images|inspect|inspectp|inspecti|exec|logs|stop|rm|stopp|rmp|pull|rmi|stats|import\n',
        );
        return 2;
    }
  } catch (err) {
    process.stderr.write(`crictl: ${(err as Error).message}\n`);
    return 1;
  } finally {
    cri.close();
  }
}
