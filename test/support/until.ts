/** Polling for the end-to-end tests: wait until a check answers something, or fail saying what. */

export interface PollOptions {
  /** How long to keep checking. */
  timeoutMs: number;
  /** The pause between checks. */
  intervalMs: number;
  /**
   * Whether a check that throws only means "not yet" (the last error is named if time runs out);
   * otherwise the error fails the wait at once.
   */
  retryErrors: boolean;
}

/**
 * Calls `check` until it answers a truthy value and returns that value; checks at least once,
 * and throws `timed out waiting for <what>` when `ms` has passed.
 *
 *   const pod = await until('web running', async () => ((await get('web')).status?.phase === 'Running' ? p : undefined));
 */
export type Until = <T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  ms?: number,
) => Promise<T>;

/** An `until` with the defaults of a suite (a suite on real nodes waits longer than one in-process). */
export function poller(defaults: PollOptions): Until {
  return async (what, check, ms = defaults.timeoutMs) => {
    const deadline = Date.now() + ms;
    let last: unknown;
    for (;;) {
      try {
        const v = await check();
        if (v) return v;
      } catch (e) {
        if (!defaults.retryErrors) throw e;
        last = e;
      }
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message ?? last}` : ''}`);
      await new Promise((r) => setTimeout(r, defaults.intervalMs));
    }
  };
}
