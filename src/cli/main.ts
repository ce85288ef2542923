/**
 * bin/skiff: one entry point, one sub-command per role. Each command module is loaded only
 * when used, so `skiff crictl` does not pay for the API server's start-up.
 */
const [command, ...args] = process.argv.slice(2);

const usage = `usage: skiff <command> [flags]

commands:
  server    start the control plane (API server, controllers, scheduler, registry) and a node agent
  agent     start a node that joins a server (--server URL --token T)
  cluster   multi-node clusters on this machine: create --nodes N [--name NAME], delete NAME, ls
  image     put images into the cluster registry: import FILE [--name NAME], ls
  crictl    a CRI client with crictl's commands (--runtime-endpoint unix:///path.sock)
  killall   stop every pod a node runs and remove its sandboxes, mounts and bridge
  version   print the version
`;

type Command = (args: string[]) => Promise<number>;

const commands: Record<string, () => Promise<Command>> = {
  server: async () => (await import('./server.ts')).serverCommand,
  agent: async () => (await import('./agent.ts')).agentCommand,
  cluster: async () => (await import('./cluster.ts')).clusterMain,
  image: async () => (await import('./image.ts')).imageMain,
  crictl: async () => (await import('../runtime/crictl.ts')).crictlMain,
  killall: async () => (await import('./killall.ts')).killallCommand,
};

async function main(): Promise<number> {
  if (command === 'version' || command === '--version') {
    console.log('skiff v0.1.0');
    return 0;
  }
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(usage);
    return command ? 0 : 2;
  }
  const load = commands[command];
  if (!load) {
    process.stderr.write(`skiff: unknown command "${command}"\n${usage}`);
    return 2;
  }
  return (await load())(args);
}

process.exitCode = await main();
