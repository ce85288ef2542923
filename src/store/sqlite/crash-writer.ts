/**
 * The child of the crash test: writes to a sqlite store as fast as it can from several
 * concurrent writers and prints one line per acknowledged write, `revision key value`,
 * until it is killed. stdout to a pipe is synchronous on Linux, so a line the parent has
 * read was printed after the write was acknowledged.
 *
 *   node crash-writer.ts /tmp/x/state.db
 */
import { SqliteBackend } from './sqlite.ts';

const path = process.argv[2];
if (!path) throw new Error('usage: crash-writer.ts <db path>');
const store = new SqliteBackend(path);
const WRITERS = 16;

async function writer(w: number): Promise<void> {
  for (let i = 0; ; i++) {
    const key = `/crash/${w}/${i}`;
    const kv = await store.create(key, JSON.stringify({ w, i }));
    process.stdout.write(`${kv.modRevision} ${kv.key} ${kv.value}\n`);
    const up = await store.update(key, JSON.stringify({ w, i, updated: true }), kv.modRevision);
    process.stdout.write(`${up.modRevision} ${up.key} ${up.value}\n`);
  }
}

process.stdout.write('ready\n');
await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
