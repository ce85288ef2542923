/**
 * Writes the scheduler's core/v1 Events (`Scheduled`, `FailedScheduling`, `Preempted`) in the
 * background, a few at a time. Like client-go's broadcaster it never makes scheduling wait:
 * when more than `maxQueued` are waiting, new ones are dropped (and counted).
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { EVENTS, type RestClient } from '../client/index.ts';

export class EventSink {
  #client: RestClient;
  #component: string;
  #onError: (e: unknown) => void;
  #queue: object[] = [];
  #inFlight = 0;
  #idle: (() => void)[] = [];
  readonly concurrency: number;
  readonly maxQueued: number;
  dropped = 0;

  constructor(
    client: RestClient,
    component: string,
    onError: (e: unknown) => void,
    concurrency = 8,
    maxQueued = 5000,
  ) {
    this.#client = client;
    this.#component = component;
    this.#onError = onError;
    this.concurrency = concurrency;
    this.maxQueued = maxQueued;
  }

  record(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (this.#queue.length >= this.maxQueued) {
      this.dropped++;
      return;
    }
    const m = pod.metadata ?? {};
    const t = new Date();
    const stamp = t.toISOString().replace(/\.\d+Z$/, 'Z');
    this.#queue.push({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: {
        // upstream's name: the object's name and a unique hex suffix
        name: `${m.name}.${(t.getTime() * 1e6 + Math.floor(Math.random() * 1e6)).toString(16)}`,
        namespace: m.namespace ?? 'default',
      },
      involvedObject: {
        apiVersion: 'v1',
        kind: 'Pod',
        namespace: m.namespace ?? 'default',
        name: m.name,
        uid: m.uid,
        resourceVersion: m.resourceVersion,
      },
      type,
      reason,
      message,
      action: reason === 'Scheduled' ? 'Binding' : 'Scheduling',
      source: { component: this.#component },
      reportingComponent: this.#component,
      reportingInstance: this.#component,
      firstTimestamp: stamp,
      lastTimestamp: stamp,
      eventTime: null,
      count: 1,
    });
    this.#pump();
  }

  #pump(): void {
    while (this.#inFlight < this.concurrency && this.#queue.length) {
      const ev = this.#queue.shift()!;
      this.#inFlight++;
      this.#client
        .create(EVENTS, ev as never)
        .catch(this.#onError)
        .finally(() => {
          this.#inFlight--;
          this.#pump();
          if (!this.#inFlight && !this.#queue.length) for (const w of this.#idle.splice(0)) w();
        });
    }
  }

  /** Resolves once every queued event has been written (or failed). */
  flush(): Promise<void> {
    if (!this.#inFlight && !this.#queue.length) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }
}
