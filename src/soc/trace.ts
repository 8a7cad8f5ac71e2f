/**
 * The machine trace: every device event (a frame on a link, a flash operation, a fault, a configuration
 * change, an interrupt) in order. Events are folded into a SHA-256 hash chain,
 * `head' = SHA-256(head || stableStringify(event))`, whose head is the run hash: two runs with the same
 * seed and inputs give the same run hash, bit for bit. The chain state is 32 bytes, so the trace is
 * snapshottable; the last `keep` events are kept in memory for display.
 */
import { createHash } from 'node:crypto';
import { stableStringify } from '../common/json.js';
import type { Json } from './base.js';

export interface TraceEvent {
  readonly timeNs: number;
  /** Who recorded it: `chip/device`, `link:NAME`, `node:NAME`, `machine`. */
  readonly source: string;
  readonly event: string;
  readonly detail: Json;
  readonly [key: string]: Json;
}

export interface TraceSnapshot {
  readonly head: string;
  readonly count: number;
  readonly recent: readonly TraceEvent[];
  readonly [key: string]: Json;
}

export type TraceListener = (event: TraceEvent) => void;

export class Trace {
  private head: Buffer = Buffer.alloc(32);
  private total = 0;
  private recentEvents: TraceEvent[] = [];
  private readonly listeners = new Set<TraceListener>();

  constructor(
    private readonly now: () => number,
    private readonly keep = 4096,
  ) {}

  record(source: string, event: string, detail: Json = null): void {
    const e: TraceEvent = { timeNs: this.now(), source, event, detail };
    this.head = createHash('sha256').update(this.head).update(stableStringify(e)).digest();
    this.total++;
    this.recentEvents.push(e);
    // Trim in amortised O(1): let the list grow to twice `keep`, then drop the older half.
    if (this.recentEvents.length >= 2 * this.keep) this.recentEvents = this.recentEvents.slice(-this.keep);
    for (const l of this.listeners) l(e);
  }

  /** The run hash: head of the hash chain, lowercase hex. */
  get hash(): string {
    return this.head.toString('hex');
  }

  get count(): number {
    return this.total;
  }

  /** The most recent events (at most `keep`), oldest first. */
  recent(): readonly TraceEvent[] {
    return this.recentEvents.length > this.keep ? this.recentEvents.slice(-this.keep) : this.recentEvents;
  }

  /** Calls `listener` for every event recorded from now on; returns the unsubscribe function. */
  subscribe(listener: TraceListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  snapshot(): TraceSnapshot {
    return { head: this.hash, count: this.total, recent: [...this.recent()] };
  }

  restore(s: TraceSnapshot): void {
    this.head = Buffer.from(s.head, 'hex');
    this.total = s.count;
    this.recentEvents = [...s.recent];
  }
}
