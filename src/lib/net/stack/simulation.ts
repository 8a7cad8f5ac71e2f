/**
 * A deterministic network simulator for stacks: Ethernet segments that lose, duplicate, reorder and
 * delay frames by a seeded draw, and a virtual clock that runs every attached stack's timers. The tests,
 * the benchmark and the lab's emulated remote hosts use it; one seed reproduces a whole run.
 */
import { assert } from '../../../common/errors.js';
import { SeededRandom } from '../../../common/random.js';
import type { NetworkStack } from './stack.js';
import { TimerQueue } from './timers.js';

export interface LinkConditions {
  /** Propagation delay of every frame (default 0). */
  readonly delayNs?: number;
  /** Extra delay drawn uniformly from [0, jitterNs) per frame; reorders frames that are close together. */
  readonly jitterNs?: number;
  /** Probability that a frame is lost (per receiver). */
  readonly lossRate?: number;
  /** Probability that a frame arrives twice. */
  readonly duplicateRate?: number;
  /** Probability that a frame is held back by `reorderDelayNs` so that later ones overtake it. */
  readonly reorderRate?: number;
  /** How long a reordered frame is held back (default 1 ms + 2 × delay). */
  readonly reorderDelayNs?: number;
  /** Deterministic drops on top of the random ones: return false to lose the frame. */
  readonly filter?: (frame: Uint8Array, from: NetworkStack, to: NetworkStack, index: number) => boolean;
}

/** What happened to one transmitted frame, as seen by a tap. */
export type FrameFate = 'delivered' | 'lost' | 'duplicated' | 'reordered' | 'filtered';

export interface FrameEvent {
  readonly atNs: number;
  readonly from: NetworkStack;
  readonly to: NetworkStack;
  readonly frame: Uint8Array;
  readonly fate: FrameFate;
}

/** A shared Ethernet segment: every frame goes to every other attached stack, each filters by MAC. */
export class EthernetSegment {
  readonly ports: NetworkStack[] = [];
  /** Frames handed to the segment (one per transmission, whatever their fate). */
  transmitted = 0;
  /** Called for every (frame, receiver) pair with its fate: capture, assertions. */
  tap: ((event: FrameEvent) => void) | undefined = undefined;
  private readonly random: SeededRandom;

  constructor(
    private readonly sim: Simulation,
    readonly conditions: LinkConditions,
    seed: number,
  ) {
    this.random = new SeededRandom(seed);
  }

  /** @internal */
  transmit(from: NetworkStack, frame: Uint8Array): void {
    const index = this.transmitted++;
    const c = this.conditions;
    for (const to of this.ports) {
      if (to === from) continue;
      const at =
        this.sim.now +
        (c.delayNs ?? 0) +
        (c.jitterNs ? this.random.below(Math.max(1, Math.floor(c.jitterNs))) : 0);
      if (c.filter !== undefined && !c.filter(frame, from, to, index)) {
        this.tap?.({ atNs: this.sim.now, from, to, frame, fate: 'filtered' });
        continue;
      }
      if (this.chance(c.lossRate)) {
        this.tap?.({ atNs: this.sim.now, from, to, frame, fate: 'lost' });
        continue;
      }
      let fate: FrameFate = 'delivered';
      let when = at;
      if (this.chance(c.reorderRate)) {
        fate = 'reordered';
        when += c.reorderDelayNs ?? 1e6 + 2 * (c.delayNs ?? 0);
      }
      this.sim.schedule(when, to, frame);
      if (this.chance(c.duplicateRate)) {
        fate = 'duplicated';
        this.sim.schedule(when + 1 + this.random.below(1000), to, frame);
      }
      this.tap?.({ atNs: this.sim.now, from, to, frame, fate });
    }
  }

  private chance(p: number | undefined): boolean {
    if (p === undefined || p <= 0) return false;
    return this.random.nextU32() / 2 ** 32 < p;
  }
}

export class Simulation {
  private readonly stacks: NetworkStack[] = [];
  private readonly deliveries = new TimerQueue();
  private readonly random: SeededRandom;
  /** Frames delivered so far. */
  delivered = 0;
  private clock = 0;

  constructor(seed = 1) {
    this.random = new SeededRandom(seed);
  }

  /** Current virtual time in nanoseconds. */
  get now(): number {
    return this.clock;
  }

  segment(conditions: LinkConditions = {}): EthernetSegment {
    return new EthernetSegment(this, conditions, this.random.nextU32());
  }

  /** Plugs `stack` into `segment` and brings it to the simulation's time. */
  attach(stack: NetworkStack, segment: EthernetSegment): NetworkStack {
    assert(!this.stacks.includes(stack), 'stack is already attached');
    stack.tick(BigInt(this.now));
    this.stacks.push(stack);
    segment.ports.push(stack);
    stack.attach({ send: (frame) => segment.transmit(stack, frame) });
    return stack;
  }

  /** @internal */
  schedule(atNs: number, to: NetworkStack, frame: Uint8Array): void {
    this.deliveries
      .timer(() => {
        this.delivered++;
        to.receive(frame);
      })
      .at(atNs);
  }

  /** The next instant something happens (a frame arrives or a stack timer fires). */
  nextEventNs(): number | undefined {
    let next = this.deliveries.nextDeadline();
    for (const s of this.stacks) {
      const d = s.nextDeadlineNs();
      if (d !== undefined && (next === undefined || Number(d) < next)) next = Number(d);
    }
    return next;
  }

  /** Runs the next instant's events; false when nothing is scheduled up to `limitNs`. */
  step(limitNs = Infinity): boolean {
    const t = this.nextEventNs();
    if (t === undefined || t > limitNs) return false;
    const at = Math.max(t, this.now);
    this.clock = at;
    for (const s of this.stacks) s.tick(BigInt(at));
    this.deliveries.runDue(at);
    return true;
  }

  /** Runs until `untilNs` (and moves the clock there). */
  runUntilTime(untilNs: number): void {
    while (this.step(untilNs));
    if (untilNs > this.now) {
      this.clock = untilNs;
      this.deliveries.runDue(untilNs);
      for (const s of this.stacks) s.tick(BigInt(untilNs));
    }
  }

  runFor(durationNs: number): void {
    this.runUntilTime(this.now + durationNs);
  }

  /**
   * Runs until `done()` holds, checking after every instant; gives up at `limitNs` of virtual time or
   * `maxSteps` instants. Returns whether `done()` held.
   */
  runUntil(done: () => boolean, limitNs = this.now + 600e9, maxSteps = 10_000_000): boolean {
    for (let i = 0; i < maxSteps; i++) {
      if (done()) return true;
      if (!this.step(limitNs)) return done();
    }
    return done();
  }
}
