/** What every protocol module of the stack shares: virtual time, deferred callbacks, randomness, counters. */
import type { SeededRandom } from '../../../common/random.js';
import type { TimerQueue } from './timers.js';

/** Counters, one object per layer; every drop has a named counter so nothing disappears unaccounted. */
export type Counters = Record<string, number>;

export interface StackContext {
  readonly timers: TimerQueue;
  /** Seeded: initial sequence numbers, ephemeral ports, ICMP identifiers. */
  readonly random: SeededRandom;
  /**
   * Runs an application callback once the stack has finished the input or call in progress, so that a
   * callback may call back into the stack (send, close, …) without finding it half-updated.
   */
  defer(callback: () => void): void;
  /**
   * Runs `fn` as one entry into the stack: deferred callbacks and queued frames go out when the
   * outermost entry returns. Every public method that can send or call back goes through it.
   */
  run<T>(fn: () => T): T;
  /** Increments `counters[name]`. */
  count<C extends Counters>(counters: C, name: keyof C & string, by?: number): void;
}
