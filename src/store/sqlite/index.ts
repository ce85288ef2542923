export { SqliteBackend, type SqliteOptions } from './sqlite.ts';
