/**
 * The embedded store on Node's built-in SQLite (`node:sqlite`, no native addon).
 *
 * Writes go through one queue: every write that arrives in the same turn of the event
 * loop joins one transaction (group commit), and each promise settles only once that
 * transaction is on disk. Reads run directly on the same connection; since the driver is
 * synchronous and a batch runs from BEGIN to COMMIT without yielding, reads never see a
 * half-written batch.
 *
 * Durability without blocking: SQLite's own synchronous=FULL would fsync the WAL inside
 * COMMIT, stopping the event loop (and every request) for the length of a disk flush per
 * batch. Instead the connection runs at synchronous=NORMAL (in WAL mode SQLite still syncs
 * around checkpoints) and, after each COMMIT, the WAL file is fsynced on libuv's thread
 * pool; the batch's writes are acknowledged and published to watchers only after that
 * fsync, in batch order. An acknowledged write is thus as durable as under FULL, and the
 * next batch is prepared and committed while the previous one is being flushed. (Reads on
 * the connection can see a batch a moment before its fsync ends; only a power loss in that
 * moment could take back what such a read saw, never an acknowledged write.)
 *
 * Watches are fanned out in-process (this process is the only writer of the file) and
 * resume from older revisions by reading the log table.
 */
import { closeSync, fsync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { StatusError } from '../../api/errors.ts';
import type {
  Backend,
  GetOptions,
  KeyValue,
  ListOptions,
  ListResult,
  Watch,
  WatchEvent,
  WatchOptions,
} from '../backend.ts';
import { closedBackend, compacted, futureRevision, keyConflict, keyExists, keyNotFound } from '../errors.ts';
import { prefixEnd, rangeStart } from '../keys.ts';
import { WatchHub } from '../watch-hub.ts';
import { type LogRow, SCHEMA } from './schema.ts';

export interface SqliteOptions {
  /**
   * 'full' (default): fsync the WAL at every commit, so acknowledged writes survive a
   * power cut as well as a process crash; group commit pays one fsync per batch.
   * 'normal': the WAL is fsynced only at checkpoints; writes survive kill -9 of the
   * process (they are in the OS page cache) but the last ones may be lost on power loss.
   */
  synchronous?: 'full' | 'normal';
}

type Op =
  | { kind: 'create'; key: string; value: string }
  | { kind: 'update'; key: string; value: string; expected: number }
  | { kind: 'delete'; key: string; expected?: number };

interface Pending {
  op: Op;
  resolve: (kv: KeyValue) => void;
  reject: (e: unknown) => void;
}

/**
 * What a KeyValue needs of a log row, read as an array (see #tuples): reads skip prev_value (for
 * an update, a second copy of the object).
 */
const KV_COLUMNS = 'l.key, l.value, l.create_revision, l.revision';
type KvTuple = [key: string, value: string, createRevision: number, modRevision: number];
const CURRENT_ROW = `SELECT ${KV_COLUMNS} FROM current c JOIN log l ON l.revision = c.revision WHERE c.key = ?`;

/** SQLite's result code when another connection holds a lock the statement needs. */
const SQLITE_BUSY = 5;

/** Compaction deletes history in slices of this many revisions, yielding between them. */
const COMPACT_SLICE = 5000;

export class SqliteBackend implements Backend {
  readonly name = 'sqlite';
  readonly inProcess = true;
  readonly path: string;
  #db: DatabaseSync;
  #statements = new Map<string, StatementSync>();
  #revision: number;
  #compacted: number;
  #queue: Pending[] = [];
  #flushScheduled = false;
  #hub = new WatchHub();
  #closed = false;
  /** Set by close(): no new writes; the ones in flight still settle. */
  #closing = false;
  /** Whether each batch's WAL must be fsynced before it is acknowledged ('full'). */
  #durable: boolean;
  /** The WAL file, opened after the first commit, for the fsync that acknowledges each batch. */
  #walFd?: number;
  /** Settles once every committed batch has been synced, acknowledged and published. */
  #settled: Promise<void> = Promise.resolve();

  constructor(path: string, opts: SqliteOptions = {}) {
    this.path = path;
    mkdirSync(dirname(path), { recursive: true });
    this.#db = new DatabaseSync(path);
    // This process is the file's only user (watches are fanned out here): holding its locks
    // for the connection's life keeps the WAL index in process memory, and a read costs no
    // lock/unlock system calls (two fcntl per statement otherwise). It must precede WAL mode.
    this.#db.exec('PRAGMA locking_mode = EXCLUSIVE');
    let mode: string | undefined;
    try {
      mode = (this.#db.prepare('PRAGMA journal_mode = WAL').get() as { journal_mode?: string } | undefined)
        ?.journal_mode;
    } catch (e) {
      this.#db.close();
      if ((e as { errcode?: number }).errcode === SQLITE_BUSY)
        throw new Error(`${path} is in use by another process (another skiff server on this data dir?)`);
      throw e;
    }
    const wal = String(mode).toLowerCase() === 'wal';
    // See SqliteOptions.synchronous. 'full' is the durable choice: NORMAL plus our own fsync
    // of the WAL after each commit, off the event loop (see the top of this file).
    // Where WAL is unavailable (some file systems), SQLite's own FULL does the syncing.
    this.#durable = wal && opts.synchronous !== 'normal';
    const full = !wal && opts.synchronous !== 'normal';
    this.#db.exec(`PRAGMA synchronous = ${full ? 'FULL' : 'NORMAL'}`);
    this.#db.exec('PRAGMA busy_timeout = 5000');
    this.#db.exec(SCHEMA);
    const max = this.#one<{ r: number | null }>('SELECT max(revision) AS r FROM log')?.r ?? 0;
    this.#compacted =
      this.#one<{ value: number }>("SELECT value FROM meta WHERE name = 'compacted'")?.value ?? 0;
    this.#revision = Math.max(max, this.#compacted);
  }

  async currentRevision(): Promise<number> {
    this.#check();
    return this.#revision;
  }

  async get(key: string, opts: GetOptions = {}): Promise<{ kv?: KeyValue; revision: number }> {
    const at = this.#readRevision(opts.revision);
    if (at === this.#revision) {
      const row = this.#tuple<KvTuple>(CURRENT_ROW, key);
      return { kv: row && toKeyValue(row), revision: at };
    }
    const row = this.#tuple<[...KvTuple, deleted: number]>(
      `SELECT ${KV_COLUMNS}, l.deleted FROM log l WHERE l.key = ? AND l.revision <= ? ORDER BY l.revision DESC LIMIT 1`,
      key,
      at,
    );
    return { kv: row && !row[4] ? toKeyValue(row) : undefined, revision: at };
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    const at = this.#readRevision(opts.revision);
    const start = rangeStart(prefix, opts.startKey);
    const end = prefixEnd(prefix);
    const limit = opts.limit && opts.limit > 0 ? opts.limit : -1;
    const bound = end === undefined ? '' : 'AND key < ?';
    const args: (string | number)[] = end === undefined ? [start] : [start, end];
    // No LIMIT clause rather than LIMIT -1: a bound LIMIT costs ~8 µs a query, more than a small list.
    const limited = limit > 0 ? 'LIMIT ?' : '';
    const limitArgs = limit > 0 ? [limit] : [];
    let rows: KvTuple[];
    let total: number;
    if (at === this.#revision) {
      rows = this.#tuples<KvTuple>(
        `SELECT ${KV_COLUMNS} FROM current c JOIN log l ON l.revision = c.revision
         WHERE c.key >= ? ${bound.replace('key', 'c.key')} ORDER BY c.key ${limited}`,
        ...args,
        ...limitArgs,
      );
      total =
        limit < 0 || rows.length < limit
          ? rows.length
          : (this.#one<{ n: number }>(`SELECT count(*) AS n FROM current WHERE key >= ? ${bound}`, ...args)
              ?.n ?? 0);
    } else {
      // SQLite fills the bare columns from the row that holds max(revision): each key as of `at`.
      const latest = `SELECT ${KV_COLUMNS}, l.deleted, max(l.revision) FROM log l WHERE l.key >= ? ${bound.replace('key', 'l.key')} AND l.revision <= ? GROUP BY l.key HAVING l.deleted = 0`;
      rows = this.#tuples<KvTuple>(`${latest} ORDER BY l.key ${limited}`, ...args, at, ...limitArgs);
      total =
        limit < 0 || rows.length < limit
          ? rows.length
          : (this.#one<{ n: number }>(`SELECT count(*) AS n FROM (${latest})`, ...args, at)?.n ?? 0);
    }
    const remaining = total - rows.length;
    return { items: rows.map(toKeyValue), revision: at, more: remaining > 0, remaining };
  }

  async count(prefix: string): Promise<number> {
    this.#check();
    const end = prefixEnd(prefix);
    if (end === undefined) return this.#one<{ n: number }>('SELECT count(*) AS n FROM current')?.n ?? 0;
    return (
      this.#one<{ n: number }>('SELECT count(*) AS n FROM current WHERE key >= ? AND key < ?', prefix, end)
        ?.n ?? 0
    );
  }

  create(key: string, value: string): Promise<KeyValue> {
    return this.#enqueue({ kind: 'create', key, value });
  }

  update(key: string, value: string, expectedModRevision: number): Promise<KeyValue> {
    return this.#enqueue({ kind: 'update', key, value, expected: expectedModRevision });
  }

  delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    return this.#enqueue({ kind: 'delete', key, expected: expectedModRevision });
  }

  watch(prefix: string, opts: WatchOptions = {}): Watch {
    const after = opts.afterRevision && opts.afterRevision > 0 ? opts.afterRevision : this.#revision;
    return this.#hub.subscribe(
      prefix,
      after,
      this.#revision,
      (p, from, limit) => this.#history(p, from, limit),
      opts.signal,
    );
  }

  async compact(revision: number): Promise<void> {
    this.#check();
    if (revision > this.#revision) throw futureRevision(revision, this.#revision);
    if (revision <= this.#compacted) return;
    const from = this.#compacted;
    // Record the new floor first: from here on, reads below it fail even while rows remain.
    this.#db.prepare("INSERT OR REPLACE INTO meta (name, value) VALUES ('compacted', ?)").run(revision);
    this.#compacted = revision;
    for (let lo = from; lo < revision; lo += COMPACT_SLICE) {
      const hi = Math.min(lo + COMPACT_SLICE, revision);
      this.#transaction(() =>
        this.#run(
          `DELETE FROM log WHERE revision >= ? AND revision < ? AND (deleted = 1 OR EXISTS (
             SELECT 1 FROM log n WHERE n.key = log.key AND n.revision > log.revision AND n.revision <= ?))`,
          lo,
          hi,
          revision,
        ),
      );
      await new Promise((r) => setImmediate(r));
      if (this.#closed) return;
    }
  }

  async compactedRevision(): Promise<number> {
    this.#check();
    return this.#compacted;
  }

  async close(): Promise<void> {
    if (this.#closed || this.#closing) return;
    this.#closing = true;
    this.#flush();
    await this.#settled;
    this.#closed = true;
    this.#hub.close();
    this.#statements.clear();
    this.#db.close();
    if (this.#walFd !== undefined) closeSync(this.#walFd);
    this.#walFd = undefined;
  }

  #check(): void {
    if (this.#closed) throw closedBackend(this.name);
  }

  #readRevision(asked?: number): number {
    this.#check();
    if (!asked || asked <= 0) return this.#revision;
    if (asked < this.#compacted) throw compacted(asked, this.#compacted);
    if (asked > this.#revision) throw futureRevision(asked, this.#revision);
    return asked;
  }

  #enqueue(op: Op): Promise<KeyValue> {
    if (this.#closed || this.#closing) return Promise.reject(closedBackend(this.name));
    return new Promise((resolve, reject) => {
      this.#queue.push({ op, resolve, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  /** Commit every queued write in one transaction; once it is on disk, settle their promises and publish. */
  #flush(): void {
    this.#flushScheduled = false;
    const batch = this.#queue;
    this.#queue = [];
    if (batch.length === 0 || this.#closed) return;
    const before = this.#revision;
    const outcomes: ({ ok: true; ev: WatchEvent } | { ok: false; error: unknown })[] = [];
    try {
      this.#transaction(() => {
        for (const { op } of batch) {
          try {
            outcomes.push({ ok: true, ev: this.#apply(op) });
          } catch (e) {
            if (!(e instanceof StatusError)) throw e;
            outcomes.push({ ok: false, error: e });
          }
        }
      });
    } catch (e) {
      this.#revision = before;
      for (const p of batch) p.reject(e);
      return;
    }
    const settle = (syncError?: unknown) => {
      for (let i = 0; i < batch.length; i++) {
        const o = outcomes[i];
        if (syncError) batch[i].reject(syncError);
        else if (o.ok) {
          this.#hub.publish(o.ev);
          batch[i].resolve(o.ev.kv);
        } else {
          batch[i].reject(o.error);
        }
      }
    };
    if (!this.#durable || !outcomes.some((o) => o.ok)) {
      // Nothing was written (every precondition failed), or no fsync is asked for. Later
      // batches still settle in order behind the ones being synced.
      this.#settled = this.#settled.then(() => settle(), unexpected);
      return;
    }
    this.#walFd ??= openSync(`${this.path}-wal`, 'r');
    const fd = this.#walFd;
    const synced = new Promise<unknown>((resolve) => fsync(fd, (err) => resolve(err ?? undefined)));
    this.#settled = Promise.all([synced, this.#settled]).then(([err]) => {
      if (err) console.error('store: sqlite: fsync of the WAL failed:', err);
      // A batch that cannot be made durable is not acknowledged (its writes stay committed in
      // the file, so the caller's retry may see AlreadyExists or a Conflict).
      settle(
        err ? new StatusError('InternalError', `sqlite: fsync failed: ${(err as Error).message}`) : undefined,
      );
    }, unexpected);
  }

  /** One write inside the open transaction; throws a StatusError when its precondition fails. */
  #apply(op: Op): WatchEvent {
    const prevRow = this.#tuple<KvTuple>(CURRENT_ROW, op.key);
    const prev = prevRow && toKeyValue(prevRow);
    const revision = this.#revision + 1;
    const insert =
      'INSERT INTO log (revision, key, created, deleted, create_revision, prev_revision, value, prev_value) VALUES (?, ?, ?, ?, ?, ?, ?, ?)';
    if (op.kind === 'create') {
      if (prev) throw keyExists(op.key);
      this.#run(insert, revision, op.key, 1, 0, revision, 0, op.value, null);
      this.#run('INSERT INTO current (key, revision) VALUES (?, ?)', op.key, revision);
      this.#revision = revision;
      return {
        type: 'ADDED',
        kv: { key: op.key, value: op.value, createRevision: revision, modRevision: revision },
      };
    }
    if (!prev) throw keyNotFound(op.key);
    if (op.expected !== undefined && prev.modRevision !== op.expected) {
      throw keyConflict(op.key, op.expected, prev.modRevision);
    }
    if (op.kind === 'update') {
      this.#run(insert, revision, op.key, 0, 0, prev.createRevision, prev.modRevision, op.value, prev.value);
      this.#run('UPDATE current SET revision = ? WHERE key = ?', revision, op.key);
      this.#revision = revision;
      const kv = { key: op.key, value: op.value, createRevision: prev.createRevision, modRevision: revision };
      return { type: 'MODIFIED', kv, prev };
    }
    this.#run(insert, revision, op.key, 0, 1, prev.createRevision, prev.modRevision, prev.value, null);
    this.#run('DELETE FROM current WHERE key = ?', op.key);
    this.#revision = revision;
    return { type: 'DELETED', kv: { ...prev, modRevision: revision }, prev };
  }

  #history(prefix: string, after: number, limit: number): WatchEvent[] {
    this.#check();
    if (after + 1 < this.#compacted) throw compacted(after + 1, this.#compacted);
    const end = prefixEnd(prefix);
    const rows =
      end === undefined
        ? this.#all<LogRow>('SELECT * FROM log WHERE revision > ? ORDER BY revision LIMIT ?', after, limit)
        : this.#all<LogRow>(
            'SELECT * FROM log WHERE revision > ? AND key >= ? AND key < ? ORDER BY revision LIMIT ?',
            after,
            prefix,
            end,
            limit,
          );
    return rows.map(toEvent);
  }

  #transaction(fn: () => void): void {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      fn();
      this.#db.exec('COMMIT');
    } catch (e) {
      this.#db.exec('ROLLBACK');
      throw e;
    }
  }

  #stmt(sql: string, arrays = false): StatementSync {
    const id = arrays ? `[]${sql}` : sql;
    let s = this.#statements.get(id);
    if (!s) {
      s = this.#db.prepare(sql);
      s.setReturnArrays(arrays);
      this.#statements.set(id, s);
    }
    return s;
  }

  /**
   * Rows as arrays, in the order of the selected columns: node:sqlite makes an array several
   * times faster than an object with a property per column (a list of 1,000 objects: ~0.6 ms,
   * not ~2 ms).
   */
  #tuples<T extends unknown[]>(sql: string, ...args: (string | number | null)[]): T[] {
    return this.#stmt(sql, true).all(...args) as unknown[] as T[];
  }

  #tuple<T extends unknown[]>(sql: string, ...args: (string | number | null)[]): T | undefined {
    return this.#stmt(sql, true).get(...args) as unknown as T | undefined;
  }

  #one<T>(sql: string, ...args: (string | number | null)[]): T | undefined {
    return this.#stmt(sql).get(...args) as T | undefined;
  }

  #all<T>(sql: string, ...args: (string | number | null)[]): T[] {
    return this.#stmt(sql).all(...args) as T[];
  }

  #run(sql: string, ...args: (string | number | null)[]): void {
    this.#stmt(sql).run(...args);
  }
}

/** Settling a batch does not throw; if it ever did, later batches must still settle. */
function unexpected(e: unknown): void {
  console.error('store: sqlite: settling a batch failed:', e);
}

function toKeyValue(row: KvTuple | [...KvTuple, ...unknown[]]): KeyValue {
  return { key: row[0], value: row[1], createRevision: row[2], modRevision: row[3] };
}

function toEvent(row: LogRow): WatchEvent {
  const kv = {
    key: row.key,
    value: row.value,
    createRevision: row.create_revision,
    modRevision: row.revision,
  };
  if (row.created) return { type: 'ADDED', kv };
  const prev: KeyValue = {
    key: row.key,
    value: row.deleted ? row.value : (row.prev_value ?? ''),
    createRevision: row.create_revision,
    modRevision: row.prev_revision,
  };
  return { type: row.deleted ? 'DELETED' : 'MODIFIED', kv, prev };
}
