/**
 * RFC 6902 JSON Patch, with the error mapping of Kubernetes' patch handler: a body that is
 * not a list of operations is 400 BadRequest; an operation that cannot be applied (a failed
 * `test`, a missing path, an unknown op) is 422 Invalid with the generic message
 * "the server rejected our request due to an error in our request" (upstream passes the
 * json-patch library's error through `NewGenericServerResponse`, which drops its text; we
 * keep it in `details.causes` for debugging). More than 10000 operations is 413.
 *
 * Like the library upstream uses, negative array indices count from the end and testing a
 * missing path against `null` succeeds.
 */
import { StatusError } from '../../api/errors.ts';
import { clone, deepEqual, isObject } from './json.ts';

export interface JsonPatchOp {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

const MAX_OPERATIONS = 10000;

class OpError extends Error {}

/** Apply `ops` to a copy of `original` and return it; `original` is not modified. */
export function jsonPatch(original: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) {
    throw new StatusError(
      'BadRequest',
      `json: cannot unmarshal ${jsonKind(ops)} into Go value of type jsonpatch.Patch`,
    );
  }
  for (const op of ops) {
    if (!isObject(op)) {
      throw new StatusError(
        'BadRequest',
        `json: cannot unmarshal ${jsonKind(op)} into Go value of type jsonpatch.Operation`,
      );
    }
  }
  if (ops.length > MAX_OPERATIONS) {
    throw new StatusError(
      'RequestEntityTooLarge',
      `Request entity too large: The allowed maximum operations in a JSON patch is ${MAX_OPERATIONS}, got ${ops.length}`,
    );
  }
  const root = { doc: clone(original) };
  try {
    for (const op of ops as JsonPatchOp[]) applyOp(root, op);
  } catch (e) {
    if (!(e instanceof OpError)) throw e;
    throw new StatusError('Invalid', 'the server rejected our request due to an error in our request', {
      causes: [{ message: e.message }],
    });
  }
  return root.doc;
}

function jsonKind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  return typeof v === 'string' ? 'string' : typeof v === 'boolean' ? 'bool' : 'number';
}

type Root = { doc: unknown };

function parsePointer(path: unknown, what: string): string[] {
  if (typeof path !== 'string') throw new OpError(`${what}: missing path`);
  if (path === '') return [];
  if (!path.startsWith('/')) throw new OpError(`${what}: invalid path ${JSON.stringify(path)}`);
  return path
    .slice(1)
    .split('/')
    .map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/** The container holding the last token, and that token. */
function parentOf(
  root: Root,
  tokens: string[],
  what: string,
  path: string,
): { parent: unknown; key: string } {
  let cur: unknown = root.doc;
  for (const t of tokens.slice(0, -1)) {
    cur = child(cur, t);
    if (cur === undefined)
      throw new OpError(`${what} operation does not apply: doc is missing path: ${JSON.stringify(path)}`);
  }
  return { parent: cur, key: tokens[tokens.length - 1] };
}

function arrayIndex(arr: unknown[], token: string, allowEnd: boolean): number | undefined {
  if (!/^-?\d+$/.test(token)) return undefined;
  let i = Number(token);
  if (i < 0) i += arr.length;
  if (i < 0 || i > arr.length || (!allowEnd && i === arr.length)) return undefined;
  return i;
}

function child(cur: unknown, token: string): unknown {
  if (Array.isArray(cur)) {
    const i = arrayIndex(cur, token, false);
    return i === undefined ? undefined : cur[i];
  }
  if (isObject(cur)) return Object.hasOwn(cur, token) ? cur[token] : undefined;
  return undefined;
}

function get(root: Root, path: string, what: string): unknown {
  let cur = root.doc;
  for (const t of parsePointer(path, what)) {
    cur = child(cur, t);
    if (cur === undefined) return undefined;
  }
  return cur;
}

function add(root: Root, path: string, value: unknown, what = 'add'): void {
  const tokens = parsePointer(path, what);
  if (tokens.length === 0) {
    root.doc = value;
    return;
  }
  const { parent, key } = parentOf(root, tokens, what, path);
  if (Array.isArray(parent)) {
    const i = key === '-' ? parent.length : arrayIndex(parent, key, true);
    if (i === undefined) throw new OpError(`Unable to access invalid index: ${key}`);
    parent.splice(i, 0, value);
  } else if (isObject(parent)) {
    parent[key] = value;
  } else {
    throw new OpError(`${what} operation does not apply: doc is missing path: ${JSON.stringify(path)}`);
  }
}

function remove(root: Root, path: string, what = 'remove'): unknown {
  const tokens = parsePointer(path, what);
  if (tokens.length === 0) throw new OpError(`${what} operation does not apply: doc is missing path: ""`);
  const { parent, key } = parentOf(root, tokens, what, path);
  if (Array.isArray(parent)) {
    const i = arrayIndex(parent, key, false);
    if (i === undefined) throw new OpError(`Unable to access invalid index: ${key}`);
    return parent.splice(i, 1)[0];
  }
  if (isObject(parent) && Object.hasOwn(parent, key)) {
    const v = parent[key];
    delete parent[key];
    return v;
  }
  throw new OpError(`${what} operation does not apply: doc is missing key: ${path}: missing value`);
}

function applyOp(root: Root, op: JsonPatchOp): void {
  switch (op.op) {
    case 'add':
      add(root, op.path, clone(op.value ?? null));
      return;
    case 'remove':
      remove(root, op.path);
      return;
    case 'replace': {
      const tokens = parsePointer(op.path, 'replace');
      if (tokens.length === 0) {
        root.doc = clone(op.value ?? null);
        return;
      }
      if (get(root, op.path, 'replace') === undefined) {
        throw new OpError(`replace operation does not apply: doc is missing key: ${op.path}: missing value`);
      }
      remove(root, op.path, 'replace');
      add(root, op.path, clone(op.value ?? null), 'replace');
      return;
    }
    case 'move': {
      if (typeof op.from !== 'string') throw new OpError('move operation: missing from');
      if (op.path.startsWith(`${op.from}/`))
        throw new OpError('move operation: cannot move into its own child');
      const v = remove(root, op.from, 'move');
      add(root, op.path, v, 'move');
      return;
    }
    case 'copy': {
      if (typeof op.from !== 'string') throw new OpError('copy operation: missing from');
      const v = get(root, op.from, 'copy');
      if (v === undefined)
        throw new OpError(`copy operation does not apply: doc is missing from path: ${op.from}`);
      add(root, op.path, clone(v), 'copy');
      return;
    }
    case 'test': {
      const v = get(root, op.path, 'test');
      const want = op.value ?? null;
      if (v === undefined ? want === null : deepEqual(v, want)) return;
      throw new OpError(`testing value ${op.path} failed: test failed`);
    }
    default:
      throw new OpError(`Unexpected kind: ${op.op}`);
  }
}
