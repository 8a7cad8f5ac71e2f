/**
 * The Normal World's proxy network driver: gives the Normal World's TCP/IP stack an Ethernet interface
 * as if the NIC were its own — the NIC's MAC address, frames in and out — backed by the rings to the
 * Secure World's firewall (`nw-link`, Normal World memory shared with the firewall's domain).
 *
 * Frames out are packed onto the ring to the Secure World, a batch per `flush`, and the firewall is
 * woken by the doorbell SMC only when it said it sleeps (the ring's "consumer asleep" flag): under load
 * no SMC is made at all. Frames in come from the ring to the Normal World; the firewall signals the Normal
 * World's notification when it published some, so `wait` never misses them.
 *
 * The driver reaches nothing but its own memory and its own notification; it cannot name a rule, and the
 * firewall reads only frames from it.
 */
import { bootInfo, E, kcall, kcallWithPayload, memoryView, R, W } from '../../kernel/abi/sys.js';
import { RingConsumer, RingProducer, viewMemory } from '../../lib/ring/frame-ring.js';
import {
  DOORBELL_LABEL,
  FIREWALL_TA,
  LINK_UP_OFFSET,
  NORMAL_WORLD_EVENTS_SLOT,
  NW_LINK_REGION,
  NW_RING_CAPACITY,
  NW_TO_NORMAL_RING,
  NW_TO_SECURE_RING,
} from '../../apps/firewall/protocol.js';

/** What a TCP/IP stack needs of a network interface (the proxy, or a NIC the Normal World drives itself). */
export interface NetworkInterface {
  readonly name: string;
  readonly mac: Uint8Array;
  /** Queues a frame for the wire; false (counted) when there is no room. */
  send(frame: Uint8Array): boolean;
  /** Whether a frame would be accepted now. */
  writable(): boolean;
  /** Hands every frame received so far to `sink`; returns how many. */
  poll(sink: (frame: Uint8Array) => void): number;
  /** Pushes the queued frames out. */
  flush(): void;
  /** Blocks until frames may have arrived or room was made (the interface's notification). */
  wait(): void;
  /** Counters, for the console and the tests. */
  stats(): Record<string, unknown>;
}

interface Info {
  readonly regions: readonly { name: string; index: number; size: number }[];
  readonly smc: readonly { entry: number; ta: string | null }[];
}

export class ProxyNetInterface implements NetworkInterface {
  readonly name = 'proxy0';
  private readonly out: RingProducer;
  private readonly in: RingConsumer;
  private readonly counters = { sent: 0, received: 0, dropped: 0, doorbells: 0, doorbellsBusy: 0 };

  private constructor(
    private readonly view: Uint8Array,
    readonly mac: Uint8Array,
    private readonly doorbellEntry: number,
  ) {
    const memory = viewMemory(view);
    this.out = new RingProducer(memory, { base: NW_TO_SECURE_RING, capacity: NW_RING_CAPACITY });
    this.in = new RingConsumer(memory, { base: NW_TO_NORMAL_RING, capacity: NW_RING_CAPACITY });
    this.out.resume();
    this.in.resume();
  }

  /**
   * Sets the link up: takes the `nw-link` region (allocates it, maps it, shares it with the firewall's
   * domain), rings the doorbell so that the firewall maps it, and waits for the firewall to write the
   * NIC's MAC address into it. Undefined when this system has no firewall link.
   */
  static open(): ProxyNetInterface | undefined {
    const info = bootInfo<Info>();
    const region = info.regions.find((r) => r.name === NW_LINK_REGION);
    const entry = info.smc.find((e) => e.ta === FIREWALL_TA)?.entry;
    if (!region || entry === undefined) return undefined;
    const alloc = kcall('region_alloc', region.index).code;
    if (alloc !== E.OK && alloc !== E.EBUSY) return undefined;
    if (kcall('region_map', region.index, R | W).code !== E.OK) return undefined;
    if (kcall('region_share', region.index, R | W).code !== E.OK) return undefined;
    const view = memoryView(region.index);
    if (!view) return undefined;
    for (let tries = 0; tries < 1000; tries++) {
      if (view[LINK_UP_OFFSET] === 1) return new ProxyNetInterface(view, view.slice(0, 6), entry);
      ringDoorbell(entry);
      kcall('notification_wait', NORMAL_WORLD_EVENTS_SLOT);
    }
    return undefined;
  }

  send(frame: Uint8Array): boolean {
    if (this.out.push(frame)) {
      this.counters.sent++;
      return true;
    }
    // Full as far as we knew: look at how far the firewall got, then try once more.
    if (this.out.refresh() && this.out.push(frame)) {
      this.counters.sent++;
      return true;
    }
    this.counters.dropped++;
    return false;
  }

  writable(): boolean {
    if (this.out.free >= 1524) return true;
    this.out.refresh();
    return this.out.free >= 1524;
  }

  poll(sink: (frame: Uint8Array) => void): number {
    let n = 0;
    for (;;) {
      const { frames } = this.in.take(NW_RING_CAPACITY);
      if (frames.length === 0) break;
      for (const f of frames) sink(f.bytes);
      n += frames.length;
      this.in.release();
    }
    this.counters.received += n;
    return n;
  }

  flush(): void {
    if (this.out.publish() > 0 && this.out.takeConsumerAsleep()) {
      this.counters.doorbells++;
      if (!ringDoorbell(this.doorbellEntry)) this.counters.doorbellsBusy++;
    }
  }

  wait(): void {
    if (this.in.pending()) return;
    kcall('notification_wait', NORMAL_WORLD_EVENTS_SLOT);
  }

  stats(): Record<string, unknown> {
    return {
      ...this.counters,
      ringOut: this.out.counters,
      ringIn: this.in.counters,
      up: this.view[LINK_UP_OFFSET] === 1,
    };
  }
}

const EMPTY = new Uint8Array(0);

/** The doorbell SMC; the doorbell partition answers at once (retried while it is between two calls). */
function ringDoorbell(entry: number): boolean {
  for (let tries = 0; tries < 100; tries++) {
    const r = kcallWithPayload('smc', EMPTY, entry, DOORBELL_LABEL, 0, 0, 0, 0);
    if (r.code !== E.ENORECV) return r.code === E.OK;
    kcall('yield');
  }
  return false;
}
