/**
 * What a plugin answers, as a value: a `Code` and the reasons a user will read.
 *
 * - `Success`: the pod may go on (this node passes, this phase is done).
 * - `Error`: something broke (not the pod's fault); the cycle aborts and the pod is retried with back-off.
 * - `Unschedulable`: the pod does not fit now, but preemption (PostFilter) might make room.
 * - `UnschedulableAndUnresolvable`: the pod does not fit and preemption cannot help on this node,
 *   so PostFilter skips it.
 * - `Wait`: a Permit plugin holds the pod; binding waits until it is allowed, rejected or times out.
 * - `Skip`: at PreFilter/PreScore, the plugin has nothing to do for this pod; the framework skips
 *   its Filter/Score for the rest of the cycle.
 */
export const Code = {
  Success: 0,
  Error: 1,
  Unschedulable: 2,
  UnschedulableAndUnresolvable: 3,
  Wait: 4,
  Skip: 5,
} as const;
export type Code = (typeof Code)[keyof typeof Code];

export const CODE_NAMES = [
  'Success',
  'Error',
  'Unschedulable',
  'UnschedulableAndUnresolvable',
  'Wait',
  'Skip',
];

export class Status {
  readonly code: Code;
  readonly reasons: readonly string[];
  /** The plugin that answered (set by the framework for failures). */
  plugin?: string;

  constructor(code: Code, ...reasons: string[]) {
    this.code = code;
    this.reasons = reasons;
  }

  isSuccess(): boolean {
    return this.code === Code.Success;
  }

  /** Unschedulable or UnschedulableAndUnresolvable. */
  isRejected(): boolean {
    return this.code === Code.Unschedulable || this.code === Code.UnschedulableAndUnresolvable;
  }

  get message(): string {
    return this.reasons.join(', ');
  }

  toString(): string {
    return `${CODE_NAMES[this.code]}${this.reasons.length ? `: ${this.message}` : ''}`;
  }
}

/** Shared, immutable answers for the hot path. */
export const SUCCESS = new Status(Code.Success);
export const SKIP = new Status(Code.Skip);

export const unschedulable = (...reasons: string[]) => new Status(Code.Unschedulable, ...reasons);
export const unresolvable = (...reasons: string[]) =>
  new Status(Code.UnschedulableAndUnresolvable, ...reasons);
export const asError = (e: unknown) => new Status(Code.Error, e instanceof Error ? e.message : String(e));

/** Scratch space of one scheduling cycle, where PreFilter/PreScore leave data for Filter/Score. */
export class CycleState {
  #data = new Map<string, unknown>();
  /** Plugins whose Filter/Score the framework skips this cycle (they answered Skip). */
  readonly skipFilter = new Set<string>();
  readonly skipScore = new Set<string>();

  read<T>(key: string): T | undefined {
    return this.#data.get(key) as T | undefined;
  }

  write(key: string, value: unknown): void {
    this.#data.set(key, value);
  }

  clone(): CycleState {
    const c = new CycleState();
    for (const [k, v] of this.#data) c.write(k, v);
    for (const s of this.skipFilter) c.skipFilter.add(s);
    for (const s of this.skipScore) c.skipScore.add(s);
    return c;
  }
}
