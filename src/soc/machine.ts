/**
 * A whole emulated board: its chips, the links between them and to the outside, the emulated nodes on
 * those links, one virtual clock and one trace. One seed determines everything random in the machine
 * (TRNG streams, hardware unique keys, torn flash operations, the GPS route, microphone noise), so a run
 * with the same seed and the same inputs has the same run hash (`trace.hash`), bit for bit.
 */
import { createHash } from 'node:crypto';
import { assert } from '../common/errors.js';
import { stableStringify } from '../common/json.js';
import { VirtualClock, type ClockSnapshot } from './clock.js';
import { Trace, type TraceSnapshot } from './trace.js';
import type { Json } from './device.js';
import { Chip, type ChipSnapshot, type Link } from './chip.js';
import type { Board } from './board/schema.js';
import { Segment } from './links/segment.js';
import { CanBus } from './links/can-bus.js';
import { SpiLink } from './links/spi-link.js';
import type { Ecu, EcuSnapshot } from './nodes/ecu.js';
import { EngineEcu } from './nodes/engine-ecu.js';
import { BrakeEcu } from './nodes/brake-ecu.js';
import { SteeringEcu } from './nodes/steering-ecu.js';
import { DIAG_ADDRESS } from '../lib/can/vehicle-can.js';

export interface MachineOptions {
  /** Non-negative integer; default 0. */
  readonly seed?: number;
}

export interface MachineSnapshot {
  readonly format: 1;
  readonly board: string;
  readonly boardHash: string;
  readonly seed: number;
  readonly clock: ClockSnapshot;
  readonly trace: TraceSnapshot;
  readonly chips: Readonly<Record<string, ChipSnapshot>>;
  readonly links: Readonly<Record<string, Json>>;
  readonly nodes: Readonly<Record<string, EcuSnapshot>>;
  readonly [key: string]: Json;
}

/** SHA-256 of the board's canonical form: identifies the hardware a snapshot belongs to. */
export function boardHash(board: Board): string {
  return createHash('sha256').update(stableStringify(board)).digest('hex');
}

export class Machine {
  readonly seed: number;
  readonly clock = new VirtualClock();
  readonly trace: Trace;
  readonly chips: ReadonlyMap<string, Chip>;
  readonly links: ReadonlyMap<string, Link>;
  readonly nodes: ReadonlyMap<string, Ecu>;
  readonly boardHash: string;

  constructor(
    readonly board: Board,
    options: MachineOptions = {},
  ) {
    const seed = options.seed ?? 0;
    assert(Number.isSafeInteger(seed) && seed >= 0, `seed must be a non-negative integer, got ${seed}`);
    this.seed = seed;
    this.trace = new Trace(() => this.clock.nowNs);
    this.boardHash = boardHash(board);
    this.trace.record('machine', 'power-on', { board: board.name, boardHash: this.boardHash, seed });

    const links = new Map<string, Link>();
    for (const l of board.links) {
      const { clock, trace } = this;
      switch (l.kind) {
        case 'ethernet-segment':
          links.set(
            l.name,
            new Segment(l.name, 'ethernet', { bitRate: l.bitRate, latencyNs: l.latencyNs }, clock, trace),
          );
          break;
        case 'wifi-segment':
          links.set(
            l.name,
            new Segment(
              l.name,
              'wifi',
              { bitRate: l.bitRate, latencyNs: l.latencyNs, ssid: l.ssid, passphrase: l.passphrase },
              clock,
              trace,
            ),
          );
          break;
        case 'cellular-segment':
          links.set(
            l.name,
            new Segment(l.name, 'cellular', { bitRate: l.bitRate, latencyNs: l.latencyNs }, clock, trace),
          );
          break;
        case 'can-bus':
          links.set(l.name, new CanBus(l.name, l.bitRate, clock, trace));
          break;
        case 'spi-link':
          links.set(l.name, new SpiLink(l.name, l.bitRate, clock, trace));
          break;
      }
    }
    this.links = links;

    const chips = new Map<string, Chip>();
    for (const spec of board.chips)
      chips.set(spec.name, new Chip(spec, { clock: this.clock, trace: this.trace, seed, links }));
    this.chips = chips;

    const nodes = new Map<string, Ecu>();
    for (const n of board.nodes) {
      const options = {
        diagAddress: n.diagAddress ?? DIAG_ADDRESS[n.kind],
        diagSpeedLimitKmh: n.diagSpeedLimitKmh,
      };
      const ecu =
        n.kind === 'engine-ecu'
          ? new EngineEcu(n.name, options, this.clock, this.trace)
          : n.kind === 'brake-ecu'
            ? new BrakeEcu(n.name, options, this.clock, this.trace)
            : new SteeringEcu(n.name, options, this.clock, this.trace);
      ecu.connect(links.get(n.link) as CanBus);
      nodes.set(n.name, ecu);
    }
    this.nodes = nodes;
  }

  chip(name: string): Chip {
    const c = this.chips.get(name);
    assert(c, `board ${this.board.name} has no chip ${name}`);
    return c;
  }

  segment(name: string): Segment {
    const l = this.links.get(name);
    assert(l instanceof Segment, `board ${this.board.name} has no segment ${name}`);
    return l;
  }

  canBus(name: string): CanBus {
    const l = this.links.get(name);
    assert(l instanceof CanBus, `board ${this.board.name} has no CAN bus ${name}`);
    return l;
  }

  spiLink(name: string): SpiLink {
    const l = this.links.get(name);
    assert(l instanceof SpiLink, `board ${this.board.name} has no SPI link ${name}`);
    return l;
  }

  node<T extends Ecu>(name: string): T {
    const n = this.nodes.get(name);
    assert(n, `board ${this.board.name} has no node ${name}`);
    return n as T;
  }

  /** The run hash: head of the trace hash chain. */
  get runHash(): string {
    return this.trace.hash;
  }

  /** Advances virtual time by `durationNs`, running every event due. Returns the events run. */
  runFor(durationNs: number, maxEvents?: number): number {
    return this.clock.runFor(durationNs, maxEvents);
  }

  runUntil(timeNs: number, maxEvents?: number): number {
    return this.clock.runUntil(timeNs, maxEvents);
  }

  /** Power cycle of the whole board: chips, links and nodes back to power-on; non-volatile state survives. */
  reset(): void {
    for (const l of this.links.values()) l.reset();
    for (const c of this.chips.values()) c.reset();
    for (const n of this.nodes.values()) n.reset();
    this.trace.record('machine', 'reset', null);
  }

  snapshot(): MachineSnapshot {
    const chips: Record<string, ChipSnapshot> = {};
    for (const [name, c] of this.chips) chips[name] = c.snapshot();
    const links: Record<string, Json> = {};
    for (const [name, l] of this.links) links[name] = l.snapshot();
    const nodes: Record<string, EcuSnapshot> = {};
    for (const [name, n] of this.nodes) nodes[name] = n.snapshot();
    return {
      format: 1,
      board: this.board.name,
      boardHash: this.boardHash,
      seed: this.seed,
      clock: this.clock.snapshot(),
      trace: this.trace.snapshot(),
      chips,
      links,
      nodes,
    };
  }

  /** Restores a snapshot taken of a machine built from the same board. */
  restore(s: MachineSnapshot): void {
    assert(s.format === 1, `unknown snapshot format ${String(s.format)}`);
    assert(
      s.boardHash === this.boardHash,
      `snapshot of board ${s.board} does not fit board ${this.board.name}`,
    );
    for (const [name, c] of this.chips) {
      const cs = s.chips[name];
      assert(cs, `snapshot lacks chip ${name}`);
      c.restore(cs);
    }
    for (const [name, l] of this.links) {
      const ls = s.links[name];
      assert(ls !== undefined, `snapshot lacks link ${name}`);
      (l.restore as (x: Json) => void)(ls);
    }
    for (const [name, n] of this.nodes) {
      const ns = s.nodes[name];
      assert(ns, `snapshot lacks node ${name}`);
      n.restore(ns);
    }
    this.clock.restore(s.clock);
    this.trace.restore(s.trace);
  }
}
