/**
 * A deterministic timer queue in virtual time. The stack never reads a clock: the caller advances time
 * with `runDue(nowNs)` and asks `nextDeadline()` when it must come back. Times are nanoseconds held in
 * plain numbers (exact up to 2^53 ns, about 104 days of virtual time).
 *
 * Timers that fire at the same instant run in the order they were armed, so a run is reproducible.
 * Re-arming a timer later (the TCP retransmission timer, on every ACK) costs no heap operation: the
 * entry already queued fires early, sees the new deadline and goes back in.
 */

/** A restartable one-shot timer owned by its creator. */
export class Timer {
  /** When the timer fires; undefined while it is stopped. */
  deadline: number | undefined = undefined;
  /** @internal The queued entry that will wake this timer up, if any. */
  entry: Entry | undefined = undefined;
  constructor(
    private readonly queue: TimerQueue,
    readonly fire: () => void,
  ) {}

  get armed(): boolean {
    return this.deadline !== undefined;
  }

  /** Arms (or re-arms) the timer to fire at `deadlineNs`. */
  at(deadlineNs: number): void {
    this.deadline = deadlineNs;
    if (this.entry === undefined || deadlineNs < this.entry.key) this.queue.push(this, deadlineNs);
  }

  /** Arms (or re-arms) the timer to fire `delayNs` after the queue's current time. */
  after(delayNs: number): void {
    this.at(this.queue.now + delayNs);
  }

  stop(): void {
    this.deadline = undefined;
  }
}

interface Entry {
  readonly key: number;
  readonly order: number;
  readonly timer: Timer;
}

export class TimerQueue {
  private readonly heap: Entry[] = [];
  private order = 0;
  /** Current virtual time (the last `runDue` instant). */
  now = 0;

  timer(fire: () => void): Timer {
    return new Timer(this, fire);
  }

  /** @internal */
  push(timer: Timer, key: number): void {
    const entry: Entry = { key, order: this.order++, timer };
    timer.entry = entry;
    const h = this.heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = h[parent] as Entry;
      if (!before(entry, p)) break;
      h[i] = p;
      i = parent;
    }
    h[i] = entry;
  }

  private pop(): Entry | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const child = r < h.length && before(h[r] as Entry, h[l] as Entry) ? r : l;
      if (!before(h[child] as Entry, last)) break;
      h[i] = h[child] as Entry;
      i = child;
    }
    h[i] = last;
    return top;
  }

  /** Drops stale entries at the top and re-queues early ones, so that the top is a live deadline. */
  private settle(): Entry | undefined {
    for (;;) {
      const top = this.heap[0];
      if (top === undefined) return undefined;
      const t = top.timer;
      if (t.entry !== top) {
        this.pop();
        continue;
      }
      if (t.deadline === undefined) {
        this.pop();
        t.entry = undefined;
        continue;
      }
      if (t.deadline > top.key) {
        this.pop();
        t.entry = undefined;
        this.push(t, t.deadline);
        continue;
      }
      return top;
    }
  }

  /** The earliest deadline of an armed timer, if any. */
  nextDeadline(): number | undefined {
    return this.settle()?.key;
  }

  /** Advances time to `nowNs` and fires, in deadline order, every timer due by then. */
  runDue(nowNs: number): number {
    if (nowNs > this.now) this.now = nowNs;
    let fired = 0;
    for (;;) {
      const top = this.settle();
      if (top === undefined || top.key > this.now) return fired;
      this.pop();
      const t = top.timer;
      t.entry = undefined;
      t.deadline = undefined;
      fired++;
      t.fire();
    }
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.key < b.key || (a.key === b.key && a.order < b.order);
}
