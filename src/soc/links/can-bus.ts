/**
 * An emulated CAN bus. Each attached node queues frames on its port; whenever the bus is idle, every node
 * with a pending frame enters arbitration with its highest-priority frame and the lowest arbitration value
 * wins (`arbitrationKey`: lowest ID, and at equal base ID a standard frame beats an extended one). The
 * winner occupies the bus for its exact frame time (stuff bits included) at the bus bit rate, then the
 * frame is delivered to every other node at the same virtual time and the next arbitration starts. Losers
 * simply stay queued (they retry at the next arbitration, as on a real bus). Every node acknowledges;
 * error frames and fault confinement are not modelled. A tap records every frame carried.
 */
import { assert } from '../../common/errors.js';
import type { Json } from '../device.js';
import type { VirtualClock } from '../clock.js';
import type { Trace } from '../trace.js';
import { arbitrationKey, frameBits, type CanFrame } from '../../lib/can/frame.js';
import { frameFromJson, frameToJson, type CanFrameJson } from './can-frame.js';

export interface CanEndpoint {
  /** A frame sent by another node has been received at `timeNs`. */
  receive(frame: CanFrame, timeNs: number): void;
  /** The frame queued with `token` won arbitration and was sent. */
  transmitted?(token: number, timeNs: number): void;
}

export interface CanPort {
  readonly name: string;
  /** Queues a frame for arbitration; `token` comes back in `transmitted`. */
  transmit(frame: CanFrame, token?: number): void;
  /** Removes a queued (not yet on the wire) frame; returns whether it was still queued. */
  abort(token: number): boolean;
  /** Frames queued and not yet sent. */
  readonly queued: number;
}

interface Pending {
  readonly frame: CanFrame;
  readonly token: number;
  readonly key: number;
  readonly seq: number;
}

interface Node {
  readonly name: string;
  readonly endpoint: CanEndpoint;
  queue: Pending[];
}

export interface CanTapRecord {
  readonly timeNs: number;
  readonly from: string;
  readonly frame: CanFrame;
}

interface PendingJson {
  readonly frame: CanFrameJson;
  readonly token: number;
  readonly seq: number;
  readonly [key: string]: Json;
}

export interface CanBusSnapshot {
  readonly queues: Readonly<Record<string, readonly PendingJson[]>>;
  readonly busy: boolean;
  readonly seq: number;
  readonly tap: readonly { readonly timeNs: number; readonly from: string; readonly frame: CanFrameJson }[];
  readonly frames: number;
  readonly [key: string]: Json;
}

export class CanBus {
  readonly kind = 'can-bus';
  private readonly nodes = new Map<string, Node>();
  private busy = false;
  private seq = 0;
  private frames = 0;
  private tapRecords: CanTapRecord[] = [];
  private readonly target: string;
  /** Nanoseconds per bit. */
  readonly bitTimeNs: number;

  constructor(
    readonly name: string,
    readonly bitRate: number,
    private readonly clock: VirtualClock,
    private readonly trace: Trace,
  ) {
    assert(bitRate > 0 && bitRate <= 1_000_000, 'classical CAN runs at most 1 Mbit/s');
    this.bitTimeNs = 1e9 / bitRate;
    this.target = `link:${name}`;
    clock.register(this.target, (action, data) => this.onEvent(action, data));
  }

  attach(name: string, endpoint: CanEndpoint): CanPort {
    assert(!this.nodes.has(name), `CAN node ${name} attached twice to ${this.name}`);
    const node: Node = { name, endpoint, queue: [] };
    this.nodes.set(name, node);
    return {
      name,
      transmit: (frame, token = 0) => {
        node.queue.push({ frame, token, key: arbitrationKey(frame), seq: this.seq++ });
        this.kick();
      },
      abort: (token) => {
        const i = node.queue.findIndex((p) => p.token === token);
        if (i < 0) return false;
        node.queue.splice(i, 1);
        return true;
      },
      get queued() {
        return node.queue.length;
      },
    };
  }

  /** Every frame carried since the last `clearTap`, oldest first. */
  get tap(): readonly CanTapRecord[] {
    return this.tapRecords;
  }

  clearTap(): void {
    this.tapRecords = [];
  }

  get framesCarried(): number {
    return this.frames;
  }

  /** Starts an arbitration round now if the bus is idle. */
  private kick(): void {
    if (this.busy) return;
    this.busy = true;
    this.clock.schedule(0, this.target, 'arbitrate');
  }

  private onEvent(action: string, data: Json): void {
    if (action === 'arbitrate') return this.arbitrate();
    assert(action === 'complete', `CAN bus ${this.name}: unknown event ${action}`);
    const { from, token, frame } = data as { from: string; token: number; frame: CanFrameJson };
    const f = frameFromJson(frame);
    const now = this.clock.nowNs;
    this.frames++;
    this.tapRecords.push({ timeNs: now, from, frame: f });
    this.trace.record(this.target, 'can.frame', { from, ...frame });
    for (const node of this.nodes.values()) if (node.name !== from) node.endpoint.receive(f, now);
    this.nodes.get(from)?.endpoint.transmitted?.(token, now);
    this.busy = false;
    if ([...this.nodes.values()].some((n) => n.queue.length > 0)) this.kick();
  }

  private arbitrate(): void {
    let winner: { node: Node; index: number; pending: Pending } | undefined;
    let contenders = 0;
    for (const node of this.nodes.values()) {
      let best = -1;
      node.queue.forEach((p, i) => {
        const b = node.queue[best];
        if (!b || p.key < b.key || (p.key === b.key && p.seq < b.seq)) best = i;
      });
      const p = node.queue[best];
      if (!p) continue;
      contenders++;
      // Equal arbitration fields from two nodes would collide on a real bus; the earlier-attached node wins here.
      if (!winner || p.key < winner.pending.key) winner = { node, index: best, pending: p };
    }
    if (!winner) {
      this.busy = false;
      return;
    }
    winner.node.queue.splice(winner.index, 1);
    const durationNs = Math.round(frameBits(winner.pending.frame) * this.bitTimeNs);
    if (contenders > 1)
      this.trace.record(this.target, 'can.arbitration', { winner: winner.node.name, contenders });
    this.clock.schedule(durationNs, this.target, 'complete', {
      from: winner.node.name,
      token: winner.pending.token,
      frame: frameToJson(winner.pending.frame),
    });
  }

  /** Back to idle: queued frames and the frame on the wire are lost; nodes stay attached. */
  reset(): void {
    this.clock.cancel(this.target);
    for (const n of this.nodes.values()) n.queue = [];
    this.busy = false;
    this.tapRecords = [];
    this.frames = 0;
  }

  snapshot(): CanBusSnapshot {
    const queues: Record<string, PendingJson[]> = {};
    for (const n of this.nodes.values())
      queues[n.name] = n.queue.map((p) => ({ frame: frameToJson(p.frame), token: p.token, seq: p.seq }));
    return {
      queues,
      busy: this.busy,
      seq: this.seq,
      tap: this.tapRecords.map((r) => ({ timeNs: r.timeNs, from: r.from, frame: frameToJson(r.frame) })),
      frames: this.frames,
    };
  }

  restore(s: CanBusSnapshot): void {
    for (const [name, queue] of Object.entries(s.queues)) {
      const n = this.nodes.get(name);
      assert(n, `CAN bus ${this.name}: snapshot node ${name} is not attached`);
      n.queue = queue.map((p) => {
        const frame = frameFromJson(p.frame);
        return { frame, token: p.token, seq: p.seq, key: arbitrationKey(frame) };
      });
    }
    this.busy = s.busy;
    this.seq = s.seq;
    this.frames = s.frames;
    this.tapRecords = s.tap.map((r) => ({ timeNs: r.timeNs, from: r.from, frame: frameFromJson(r.frame) }));
  }
}
