/**
 * bin/skiff: one entry point, one sub-command per role.
 */
const [command, ...args] = process.argv.slice(2);

const usage = `usage: skiff <command> [flags]

commands:
  server    start the control plane (API server, controllers, scheduler) and a node agent
  version   print the version
`;

async function main(): Promise<number> {
  switch (command) {
    case 'server': {
      const { serverCommand } = await import('./server.ts');
      return serverCommand(args);
    }
    case 'version':
      console.log('skiff v0.1.0');
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(usage);
      return command ? 0 : 2;
    default:
      process.stderr.write(`skiff: unknown command "${command}" (args: ${args.join(' ')})\n${usage}`);
      return 2;
  }
}

process.exitCode = await main();
