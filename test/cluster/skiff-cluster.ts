/** Runs `skiff cluster ...` through clusterMain (until bin/skiff routes the `cluster` command itself). */
import { clusterMain } from '../../src/cli/cluster.ts';

process.exitCode = await clusterMain(process.argv.slice(2));
