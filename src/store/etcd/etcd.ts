/**
 * The store over a real etcd (v3 API, through the `etcd3` package). Revisions are etcd's
 * own: every write here is one etcd transaction, and etcd bumps its revision by one per
 * transaction. Keys live under a configurable prefix, so several stores can share a
 * cluster; the prefix is added on the way in and removed on the way out.
 */
import { Etcd3, type IKeyValue, type IRangeRequest, type IWatchResponse } from 'etcd3';
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
import { Channel } from '../watch-hub.ts';

export interface EtcdOptions {
  /** Client endpoints, e.g. `['http://127.0.0.1:2379']`. */
  endpoints: string[];
  /** Prepended to every key (e.g. `/skiff`); '' stores keys as they are. */
  prefix?: string;
}

export class EtcdBackend implements Backend {
  readonly name = 'etcd';
  readonly #client: Etcd3;
  readonly #ns: string;
  /** A lower bound on etcd's compaction revision, raised by what we learn. */
  #compactedFloor = 0;
  #watches = new Set<Channel>();
  #closed = false;

  constructor(opts: EtcdOptions) {
    this.#client = new Etcd3({ hosts: opts.endpoints });
    this.#ns = opts.prefix ?? '';
  }

  async currentRevision(): Promise<number> {
    const res = await this.#range({ key: this.#probeKey(), count_only: true, limit: 1 });
    return Number(res.header.revision);
  }

  async get(key: string, opts: GetOptions = {}): Promise<{ kv?: KeyValue; revision: number }> {
    const res = await this.#range({ key: this.#k(key), revision: opts.revision || 0 });
    const kv = res.kvs[0];
    return { kv: kv && this.#kv(kv), revision: opts.revision || Number(res.header.revision) };
  }

  async list(prefix: string, opts: ListOptions = {}): Promise<ListResult> {
    const end = prefixEnd(this.#ns + prefix);
    const res = await this.#range({
      key: this.#k(rangeStart(prefix, opts.startKey)),
      range_end: end === undefined ? Buffer.from([0]) : Buffer.from(end),
      limit: opts.limit || 0,
      revision: opts.revision || 0,
    });
    const items = res.kvs.map((kv) => this.#kv(kv));
    const remaining = Number(res.count) - items.length;
    return { items, revision: opts.revision || Number(res.header.revision), more: res.more, remaining };
  }

  async count(prefix: string): Promise<number> {
    const end = prefixEnd(this.#ns + prefix);
    const res = await this.#range({
      key: this.#k(prefix),
      range_end: end === undefined ? Buffer.from([0]) : Buffer.from(end),
      count_only: true,
    });
    return Number(res.count);
  }

  async create(key: string, value: string): Promise<KeyValue> {
    const k = this.#k(key);
    const res = await this.#txn({
      compare: [{ key: k, target: 'Create', result: 'Equal', create_revision: 0 }],
      success: [{ request_put: { key: k, value: Buffer.from(value) } }],
    });
    if (!res.succeeded) throw keyExists(key);
    const revision = Number(res.header.revision);
    return { key, value, createRevision: revision, modRevision: revision };
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<KeyValue> {
    const k = this.#k(key);
    const res = await this.#txn({
      compare: [
        { key: k, target: 'Version', result: 'Greater', version: 0 },
        { key: k, target: 'Mod', result: 'Equal', mod_revision: expectedModRevision },
      ],
      success: [{ request_put: { key: k, value: Buffer.from(value), prev_kv: true } }],
      failure: [{ request_range: { key: k } }],
    });
    if (!res.succeeded)
      throw this.#whyFailed(key, expectedModRevision, res.responses[0]?.response_range?.kvs[0]);
    const prev = res.responses[0].response_put.prev_kv;
    return {
      key,
      value,
      createRevision: Number(prev.create_revision),
      modRevision: Number(res.header.revision),
    };
  }

  async delete(key: string, expectedModRevision?: number): Promise<KeyValue> {
    const k = this.#k(key);
    const res = await this.#txn({
      compare: [
        { key: k, target: 'Version', result: 'Greater', version: 0 },
        ...(expectedModRevision === undefined
          ? []
          : [
              { key: k, target: 'Mod' as const, result: 'Equal' as const, mod_revision: expectedModRevision },
            ]),
      ],
      success: [{ request_delete_range: { key: k, prev_kv: true } }],
      failure: [{ request_range: { key: k } }],
    });
    if (!res.succeeded)
      throw this.#whyFailed(key, expectedModRevision ?? 0, res.responses[0]?.response_range?.kvs[0]);
    const prev = this.#kv(res.responses[0].response_delete_range.prev_kvs[0]);
    return { ...prev, modRevision: Number(res.header.revision) };
  }

  watch(prefix: string, opts: WatchOptions = {}): Watch {
    const ch = new Channel(prefix);
    const after = opts.afterRevision && opts.afterRevision > 0 ? opts.afterRevision : 0;
    if (this.#closed || opts.signal?.aborted) ch.end();
    const builder = this.#client
      .watch()
      .prefix(this.#ns + prefix)
      .withPreviousKV();
    if (after > 0) builder.startRevision(String(after + 1));
    // Attach now, not on first read, so that "from now" means from this call.
    const watcher = ch.ended ? undefined : builder.watcher();
    this.#watches.add(ch);
    const onAbort = (): void => ch.end();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    // etcd3 resumes a watch after a reconnect from the last header revision + 1, but while
    // a watch catches up on history, headers run ahead of the events sent so far. Pin the
    // resume point to the last event received (our listeners run after etcd3's own).
    let received = after;
    const pin = (): void => {
      if (watcher && received > 0) watcher.request.start_revision = String(received + 1);
    };
    watcher?.on('connected', (res: IWatchResponse) => {
      if (received === 0) received = Number(res.header.revision);
      pin();
    });
    watcher?.on('data', (res: IWatchResponse) => {
      for (const ev of res.events) {
        const event = this.#event(ev.type, ev.kv, ev.prev_kv);
        received = Math.max(received, event.kv.modRevision);
        ch.push(event);
      }
      pin();
    });
    watcher?.on('error', (err: Error) => {
      // etcd cancels a watch whose start lies below the compaction point; say so as Gone.
      this.compactedRevision().then(
        (floor) => ch.end(after > 0 && after + 1 < floor ? compacted(after + 1, floor) : unavailable(err)),
        () => ch.end(unavailable(err)),
      );
    });
    const watches = this.#watches;
    async function* stream(): AsyncGenerator<WatchEvent> {
      try {
        let last = after;
        for (;;) {
          const ev = await ch.next();
          if (ev === undefined) return;
          if (ev.kv.modRevision <= last) continue;
          last = ev.kv.modRevision;
          yield ev;
        }
      } finally {
        ch.end();
        watches.delete(ch);
        opts.signal?.removeEventListener('abort', onAbort);
        await watcher?.cancel().catch(() => {});
      }
    }
    return stream();
  }

  async compact(revision: number): Promise<void> {
    this.#check();
    try {
      await this.#client.kv.compact({ revision, physical: true });
      this.#compactedFloor = Math.max(this.#compactedFloor, revision);
    } catch (e) {
      const err = this.#mapError(e, revision);
      // Compacting at or below the compaction point is a no-op, as in the other backends.
      if (err instanceof StatusError && err.reason === 'Expired') return;
      throw err;
    }
  }

  /**
   * etcd 3.4 does not report its compaction revision, so it is found by bisection: the
   * smallest revision a read still succeeds at. Compaction only moves forward, so the
   * search starts from the last answer.
   */
  async compactedRevision(): Promise<number> {
    const current = await this.currentRevision();
    let lo = Math.max(this.#compactedFloor, 1);
    let hi = current;
    if (hi < lo) return this.#compactedFloor;
    if (await this.#readable(lo)) return this.#finish(lo === 1 ? 0 : lo);
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (await this.#readable(mid)) hi = mid;
      else lo = mid;
    }
    return this.#finish(hi);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const ch of this.#watches) ch.end();
    this.#watches.clear();
    this.#client.close();
  }

  #finish(floor: number): number {
    this.#compactedFloor = Math.max(this.#compactedFloor, floor);
    return floor;
  }

  async #readable(revision: number): Promise<boolean> {
    try {
      await this.#range({ key: this.#probeKey(), count_only: true, revision });
      return true;
    } catch (e) {
      if (e instanceof StatusError && e.reason === 'Expired') return false;
      throw e;
    }
  }

  #check(): void {
    if (this.#closed) throw closedBackend(this.name);
  }

  #k(key: string): Buffer {
    return Buffer.from(this.#ns + key);
  }

  /**
   * A key to read when only the response's revision matters: etcd refuses an empty key, which
   * is what the prefix alone is without one (`skiff server --store etcd` keeps no prefix).
   */
  #probeKey(): Buffer {
    return this.#k('\u0000');
  }

  #kv(kv: IKeyValue): KeyValue {
    return {
      key: kv.key.toString().slice(this.#ns.length),
      value: kv.value.toString(),
      createRevision: Number(kv.create_revision),
      modRevision: Number(kv.mod_revision),
    };
  }

  #event(type: 'Put' | 'Delete', raw: IKeyValue, rawPrev?: IKeyValue): WatchEvent {
    const prev = rawPrev ? this.#kv(rawPrev) : undefined;
    if (type === 'Delete') {
      const kv = {
        key: raw.key.toString().slice(this.#ns.length),
        value: prev?.value ?? '',
        createRevision: prev?.createRevision ?? 0,
        modRevision: Number(raw.mod_revision),
      };
      return prev ? { type: 'DELETED', kv, prev } : { type: 'DELETED', kv };
    }
    const kv = this.#kv(raw);
    if (kv.createRevision === kv.modRevision) return { type: 'ADDED', kv };
    return prev ? { type: 'MODIFIED', kv, prev } : { type: 'MODIFIED', kv };
  }

  #whyFailed(key: string, expected: number, current?: IKeyValue): StatusError {
    if (!current) return keyNotFound(key);
    return keyConflict(key, expected, Number(current.mod_revision));
  }

  async #range(req: IRangeRequest) {
    this.#check();
    try {
      return await this.#client.kv.range(req);
    } catch (e) {
      throw this.#mapError(e, Number(req.revision ?? 0));
    }
  }

  async #txn(req: Parameters<Etcd3['kv']['txn']>[0]) {
    this.#check();
    try {
      return await this.#client.kv.txn(req);
    } catch (e) {
      throw this.#mapError(e, 0);
    }
  }

  #mapError(e: unknown, revision: number): unknown {
    const msg = e instanceof Error ? e.message : String(e);
    if (msg.includes('required revision has been compacted'))
      return compacted(revision, this.#compactedFloor);
    if (msg.includes('future revision')) return futureRevision(revision, 0);
    if (e instanceof StatusError) return e;
    return unavailable(e);
  }
}

function unavailable(cause: unknown): StatusError {
  const msg = cause instanceof Error ? cause.message : String(cause);
  return new StatusError('ServiceUnavailable', `etcd: ${msg}`, undefined, { cause });
}
