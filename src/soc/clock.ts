/**
 * Virtual clock and deterministic event queue. Time is an integer number of nanoseconds; events run in
 * order of (time, sequence number), the sequence number being the order in which they were scheduled, so a
 * run never depends on host timing. Events are plain data addressed to a named target, which keeps the
 * queue snapshottable: a device's pending work survives snapshot/restore like the rest of its state.
 */
import { assert } from '../common/errors.js';
import type { Json } from './base.js';

export interface ScheduledEvent {
  readonly atNs: number;
  readonly seq: number;
  readonly target: string;
  readonly action: string;
  readonly data: Json;
  readonly [key: string]: Json;
}

export type EventHandler = (action: string, data: Json) => void;

export interface ClockSnapshot {
  readonly nowNs: number;
  readonly nextSeq: number;
  readonly events: readonly ScheduledEvent[];
  readonly [key: string]: Json;
}

export class VirtualClock {
  private now = 0;
  private nextSeq = 0;
  private heap: ScheduledEvent[] = [];
  private readonly handlers = new Map<string, EventHandler>();

  get nowNs(): number {
    return this.now;
  }

  /** Number of events waiting. */
  get pending(): number {
    return this.heap.length;
  }

  /** Time of the next event, or undefined when the queue is empty. */
  get nextEventNs(): number | undefined {
    return this.heap[0]?.atNs;
  }

  /** Registers the handler of a target name; each name has exactly one handler. */
  register(target: string, handler: EventHandler): void {
    assert(!this.handlers.has(target), `clock target '${target}' registered twice`);
    this.handlers.set(target, handler);
  }

  unregister(target: string): void {
    this.handlers.delete(target);
    this.cancel(target);
  }

  /** Schedules an event at an absolute time not earlier than now. */
  scheduleAt(atNs: number, target: string, action: string, data: Json = null): void {
    assert(Number.isSafeInteger(atNs) && atNs >= this.now, `event time ${atNs} before now ${this.now}`);
    assert(this.handlers.has(target), `no clock target '${target}'`);
    this.push({ atNs, seq: this.nextSeq++, target, action, data });
  }

  schedule(delayNs: number, target: string, action: string, data: Json = null): void {
    assert(Number.isSafeInteger(delayNs) && delayNs >= 0, `bad delay ${delayNs}`);
    this.scheduleAt(this.now + delayNs, target, action, data);
  }

  /** Removes every pending event of a target. */
  cancel(target: string): void {
    const kept = this.heap.filter((e) => e.target !== target);
    if (kept.length === this.heap.length) return;
    this.heap = [];
    for (const e of kept) this.push(e);
  }

  /** Runs the next event, if any; returns whether one ran. */
  step(): boolean {
    const e = this.pop();
    if (!e) return false;
    this.now = e.atNs;
    const handler = this.handlers.get(e.target);
    assert(handler, `no clock target '${e.target}'`);
    handler(e.action, e.data);
    return true;
  }

  /** Runs every event due at or before `untilNs`, then sets the time to `untilNs`. Returns events run. */
  runUntil(untilNs: number, maxEvents = Number.POSITIVE_INFINITY): number {
    assert(Number.isSafeInteger(untilNs) && untilNs >= this.now, `cannot run back to ${untilNs}`);
    let n = 0;
    while (n < maxEvents && this.heap.length > 0 && (this.heap[0] as ScheduledEvent).atNs <= untilNs) {
      this.step();
      n++;
    }
    if (n < maxEvents || this.heap.length === 0 || (this.heap[0] as ScheduledEvent).atNs > untilNs)
      this.now = untilNs;
    return n;
  }

  runFor(durationNs: number, maxEvents?: number): number {
    return this.runUntil(this.now + durationNs, maxEvents);
  }

  /** Runs until the queue is empty or `maxEvents` ran; returns events run. */
  runUntilIdle(maxEvents = 1_000_000): number {
    let n = 0;
    while (n < maxEvents && this.step()) n++;
    return n;
  }

  snapshot(): ClockSnapshot {
    const events = [...this.heap].sort(compare);
    return { nowNs: this.now, nextSeq: this.nextSeq, events };
  }

  restore(s: ClockSnapshot): void {
    this.now = s.nowNs;
    this.nextSeq = s.nextSeq;
    this.heap = [];
    for (const e of s.events) {
      assert(this.handlers.has(e.target), `snapshot event for unknown target '${e.target}'`);
      this.push(e);
    }
  }

  // ---- binary min-heap on (atNs, seq) ----

  private push(e: ScheduledEvent): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (compare(h[parent] as ScheduledEvent, e) <= 0) break;
      h[i] = h[parent] as ScheduledEvent;
      i = parent;
    }
    h[i] = e;
  }

  private pop(): ScheduledEvent | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && compare(h[r] as ScheduledEvent, h[l] as ScheduledEvent) < 0 ? r : l;
      if (compare(h[c] as ScheduledEvent, last) >= 0) break;
      h[i] = h[c] as ScheduledEvent;
      i = c;
    }
    h[i] = last;
    return top;
  }
}

function compare(a: ScheduledEvent, b: ScheduledEvent): number {
  return a.atNs - b.atNs || a.seq - b.seq;
}
