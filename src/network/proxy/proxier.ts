/**
 * The service proxy's kernel side, in nftables.
 *
 * Why nftables and not iptables: the host's iptables is already the nf_tables backend, so both end
 * in the same kernel objects, but native nft gives us what kube-proxy's iptables mode has to
 * emulate: verdict maps (one hash lookup from `ip . proto . port` to a Service chain instead of a
 * linear walk over thousands of rules), `numgen random` for balancing in one rule, sets with
 * per-element timeouts for ClientIP affinity, and a table of our own whose every change is one
 * atomic transaction. Nothing is shared with other tables, so cleanup is `delete table`.
 *
 * Sync strategy: the first sync (and any sync after a failure) replaces the whole table in one
 * transaction. Later syncs diff the new render against the last applied one and rewrite only the
 * chains that changed (`flush chain` + rules), add or delete chains and affinity sets, and refill
 * the dispatch maps, still as one transaction; affinity state in untouched sets survives.
 *
 *   const proxy = new NftProxier({ id: 'node1' });   // table `ip skiff-node1`
 *   const stats = await proxy.sync({ nodeName, nodeIPs, services, endpointSlices });
 *   await proxy.close();                               // removes the table
 */

import type { ProxyModel, SyncStats } from './model.ts';
import { nftApply, nftDeleteTable } from './nft.ts';
import { baseTable, ELEMENT_HOLDERS, type Rendered, render } from './render.ts';

export interface ProxierOptions {
  /** Suffix of the table name: `skiff-<id>`. Letters, digits, '-' and '_'. */
  id: string;
}

export class NftProxier {
  readonly table: string;
  #last: Rendered | undefined;
  #closed = false;

  constructor(opts: ProxierOptions) {
    if (!/^[A-Za-z0-9_-]{1,40}$/.test(opts.id)) throw new TypeError(`bad proxy id ${opts.id}`);
    this.table = `skiff-${opts.id}`;
  }

  /** Makes the kernel match the model; returns what it did and how long it took. */
  async sync(model: ProxyModel): Promise<SyncStats> {
    if (this.#closed) throw new Error('proxier is closed');
    const t0 = performance.now();
    const next = render(model);
    const prev = this.#last;
    const script = prev ? this.#incremental(prev, next) : this.#full(next);
    const t1 = performance.now();
    try {
      if (script.text) await nftApply(script.text);
      if (script.cleanup) await nftApply(script.cleanup);
    } catch (e) {
      this.#last = undefined; // the next sync starts over with a full replacement
      throw e;
    }
    this.#last = next;
    return {
      servicePorts: next.servicePorts,
      endpoints: next.endpoints,
      chainsWritten: script.written,
      chainsDeleted: script.deleted,
      full: !prev,
      bytes: script.text.length,
      renderMs: t1 - t0,
      applyMs: performance.now() - t1,
    };
  }

  /** Removes the table and everything in it. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#last = undefined;
    await nftDeleteTable('ip', this.table);
  }

  #full(r: Rendered): Script {
    const t = `ip ${this.table}`;
    const out = [`add table ${t}`, `delete table ${t}`, `table ${t} {`];
    for (const line of baseTable()) out.push(`  ${line}`);
    for (const [name, decl] of r.sets) out.push(`  set ${name} { ${decl} }`);
    for (const [name, rules] of r.chains)
      out.push(`  chain ${name} {`, ...rules.map((x) => `    ${x}`), '  }');
    out.push('}');
    for (const [name, els] of r.elements)
      if (els.length) out.push(`add element ${t} ${name} { ${els.join(', ')} }`);
    return { text: `${out.join('\n')}\n`, cleanup: '', written: r.chains.size, deleted: 0 };
  }

  #incremental(prev: Rendered, next: Rendered): Script {
    const t = `ip ${this.table}`;
    const out: string[] = [];
    for (const [name, decl] of next.sets)
      if (!prev.sets.has(name)) out.push(`add set ${t} ${name} { ${decl} }`);
    let written = 0;
    for (const [name, rules] of next.chains) {
      const old = prev.chains.get(name);
      if (old && sameRules(old, rules)) continue;
      written++;
      out.push(old ? `flush chain ${t} ${name}` : `add chain ${t} ${name}`);
      for (const r of rules) out.push(`add rule ${t} ${name} ${r}`);
    }
    for (const name of Object.keys(ELEMENT_HOLDERS)) {
      const a = prev.elements.get(name) ?? [];
      const b = next.elements.get(name) ?? [];
      if (sameRules(a, b)) continue;
      // Element-wise diff keeps large maps cheap to update.
      const before = new Set(a);
      const after = new Set(b);
      const gone = a.filter((x) => !after.has(x));
      const added = b.filter((x) => !before.has(x));
      if (gone.length) out.push(`delete element ${t} ${name} { ${gone.map(elementKey).join(', ')} }`);
      if (added.length) out.push(`add element ${t} ${name} { ${added.join(', ')} }`);
    }
    // Stale chains and sets are emptied here and deleted in a second transaction: the kernel
    // releases references held by anonymous vmaps of flushed rules only once this one commits.
    const stale: string[] = [];
    for (const name of prev.chains.keys()) {
      if (next.chains.has(name)) continue;
      out.push(`flush chain ${t} ${name}`);
      stale.push(`delete chain ${t} ${name}`);
    }
    for (const name of prev.sets.keys()) if (!next.sets.has(name)) stale.push(`delete set ${t} ${name}`);
    return {
      text: out.length ? `${out.join('\n')}\n` : '',
      cleanup: stale.length ? `${stale.join('\n')}\n` : '',
      written,
      deleted: stale.length,
    };
  }
}

interface Script {
  /** The main transaction. */
  text: string;
  /** Deletions of stale chains and sets, applied after it. */
  cleanup: string;
  written: number;
  deleted: number;
}

/** A map element's key, which is all `delete element` takes. */
function elementKey(el: string): string {
  const i = el.indexOf(' : ');
  return i < 0 ? el : el.slice(0, i);
}

function sameRules(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
