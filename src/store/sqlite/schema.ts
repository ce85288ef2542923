/**
 * The SQLite layout, after kine: a log with one row per revision, plus an index of the
 * keys that exist now.
 *
 * log      revision (the rowid), key, created/deleted flags, create_revision,
 *          prev_revision (modRevision of the version this row replaced, 0 for a create),
 *          value (after the change; for a delete, the value that was deleted) and
 *          prev_value (for an update, the value before), so every row is a whole watch
 *          event and compaction may drop older rows freely.
 * current  key -> revision of its live row; deleted keys leave it. Serves reads "now".
 * meta     'compacted' -> the compaction revision.
 *
 * Keys compare bytewise (BINARY collation on UTF-8), which is etcd's order.
 */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS log (
  revision INTEGER PRIMARY KEY,
  key TEXT NOT NULL COLLATE BINARY,
  created INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  create_revision INTEGER NOT NULL,
  prev_revision INTEGER NOT NULL,
  value TEXT NOT NULL,
  prev_value TEXT
);
CREATE INDEX IF NOT EXISTS log_key_revision ON log (key, revision);
CREATE TABLE IF NOT EXISTS current (
  key TEXT PRIMARY KEY COLLATE BINARY,
  revision INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
`;

/** One row of `log` as read back. */
export interface LogRow {
  revision: number;
  key: string;
  created: number;
  deleted: number;
  create_revision: number;
  prev_revision: number;
  value: string;
  prev_value: string | null;
}
