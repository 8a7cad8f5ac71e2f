/**
 * A driver engine for the emulated SoC's descriptor-ring NICs (Ethernet, Wi-Fi; docs/soc.md "Ethernet
 * NIC…", e1000-like): it programs the rings, lends receive buffers, posts transmit descriptors, and
 * reclaims completed ones. It knows the device only through its register map and its descriptors, and
 * reaches them through two small interfaces, so the same engine runs in a trusted application (registers
 * by `mmio_read`/`mmio_write`, DMA memory copied through the kernel) and in a Normal World partition that
 * owns a non-secure NIC (DMA memory as a live view).
 *
 * DMA memory (`NicMemory`): one region, known to the device by its physical base. The engine places in it
 * the transmit descriptor ring, the receive descriptor ring, the receive buffers and (for frames sent by
 * copy) the transmit buffers. A transmit descriptor may also point anywhere else the device can reach —
 * a frame ring shared with another partition, for instance — by physical address (`transmitAt`).
 */
import { assert } from '../../common/errors.js';
import type { RingMemory } from '../ring/frame-ring.js';

/** Register offsets (docs/soc.md; src/soc/devices/packet-rings.ts). */
export const NicRegister = {
  CTRL: 0x000,
  STATUS: 0x004,
  ADDR_LO: 0x008,
  ADDR_HI: 0x00c,
  TX_BASE: 0x010,
  TX_SIZE: 0x014,
  TX_HEAD: 0x018,
  TX_TAIL: 0x01c,
  RX_BASE: 0x020,
  RX_SIZE: 0x024,
  RX_HEAD: 0x028,
  RX_TAIL: 0x02c,
  INT_STATUS: 0x030,
  INT_ENABLE: 0x034,
  TX_FRAMES: 0x040,
  RX_FRAMES: 0x044,
  RX_DROPPED: 0x048,
  ERRORS: 0x04c,
} as const;

export const NicCtrl = { ENABLE: 1, RX: 2, TX: 4, PROMISCUOUS: 8 } as const;
export const NicInterrupt = { RX: 1, TX: 2, ERROR: 4, RX_DROPPED: 8 } as const;
export const DESCRIPTOR_BYTES = 16;
const DESC_DONE = 1;
const DESC_ERROR = 2;

/** The device's registers: 32-bit reads and writes at a window offset; undefined / false when refused. */
export interface NicRegisters {
  read(offset: number): number | undefined;
  write(offset: number, value: number): boolean;
}

export interface NicLayout {
  /** The DMA region, reached by the CPU. */
  readonly memory: RingMemory;
  /** The region's physical base address (what the device's DMA uses). */
  readonly physicalBase: number;
  /** Descriptors per ring (transmit and receive): 2…4096. */
  readonly descriptors: number;
  /** Bytes per receive (and copy-transmit) buffer: enough for the largest frame. */
  readonly bufferBytes: number;
  /** Whether frames sent by copy get buffers of their own (else only `transmitAt` is used). */
  readonly transmitBuffers: boolean;
}

/** Bytes of DMA memory a layout needs. */
export function nicMemoryBytes(
  l: Pick<NicLayout, 'descriptors' | 'bufferBytes' | 'transmitBuffers'>,
): number {
  return 2 * l.descriptors * DESCRIPTOR_BYTES + l.descriptors * l.bufferBytes * (l.transmitBuffers ? 2 : 1);
}

export interface NicCounters {
  received: number;
  receiveErrors: number;
  sent: number;
  /** Frames not posted: no free transmit descriptor. */
  transmitFull: number;
  /** Register or memory accesses that were refused. */
  accessFaults: number;
}

const u16 = (b: Uint8Array, at: number) => (b[at] as number) | ((b[at + 1] as number) << 8);
const u32 = (b: Uint8Array, at: number) =>
  ((b[at] as number) |
    ((b[at + 1] as number) << 8) |
    ((b[at + 2] as number) << 16) |
    ((b[at + 3] as number) << 24)) >>>
  0;

function putU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = (v >>> 24) & 0xff;
}

export class RingNic<Tag = number> {
  readonly counters: NicCounters = {
    received: 0,
    receiveErrors: 0,
    sent: 0,
    transmitFull: 0,
    accessFaults: 0,
  };
  private readonly size: number;
  private readonly txRing: number;
  private readonly rxRing: number;
  private readonly rxBuffers: number;
  private readonly txBuffers: number;
  /** Next receive descriptor the device will fill (what we have drained up to). */
  private rxNext = 0;
  /** Next transmit descriptor to fill; `txPosted` is how far the device was told (TX_TAIL). */
  private txNext = 0;
  private txPosted = 0;
  /** Oldest transmit descriptor not yet completed. */
  private txClean = 0;
  private readonly txTags: (Tag | undefined)[];
  private readonly txStaged = new Map<number, Uint8Array>();
  private macAddress = new Uint8Array(6);

  constructor(
    private readonly regs: NicRegisters,
    private readonly layout: NicLayout,
  ) {
    const n = layout.descriptors;
    assert(Number.isInteger(n) && n >= 2 && n <= 4096, `descriptors per ring: 2…4096, not ${n}`);
    assert(layout.bufferBytes >= 64 && layout.bufferBytes <= 0xffff, 'a buffer holds 64…65535 bytes');
    this.size = n;
    this.txRing = 0;
    this.rxRing = n * DESCRIPTOR_BYTES;
    this.rxBuffers = 2 * n * DESCRIPTOR_BYTES;
    this.txBuffers = this.rxBuffers + n * layout.bufferBytes;
    this.txTags = new Array<Tag | undefined>(n).fill(undefined);
  }

  get mac(): Uint8Array {
    return this.macAddress.slice();
  }

  private reg(offset: number): number {
    const v = this.regs.read(offset);
    if (v === undefined) {
      this.counters.accessFaults++;
      return 0;
    }
    return v;
  }

  private set(offset: number, value: number): void {
    if (!this.regs.write(offset, value >>> 0)) this.counters.accessFaults++;
  }

  private store(offset: number, bytes: Uint8Array): void {
    if (!this.layout.memory.write(offset, bytes)) this.counters.accessFaults++;
  }

  /** Programs the device: rings, receive buffers lent, interrupts enabled, receive and transmit on. */
  start(options: { promiscuous?: boolean; interrupts?: number } = {}): void {
    const { physicalBase, bufferBytes } = this.layout;
    const lo = this.reg(NicRegister.ADDR_LO);
    const hi = this.reg(NicRegister.ADDR_HI);
    this.macAddress = Uint8Array.from([
      lo & 0xff,
      (lo >>> 8) & 0xff,
      (lo >>> 16) & 0xff,
      lo >>> 24,
      hi & 0xff,
      (hi >>> 8) & 0xff,
    ]);
    this.set(NicRegister.CTRL, 0);
    // Receive descriptors: buffer i for descriptor i, capacity bufferBytes.
    const rx = new Uint8Array(this.size * DESCRIPTOR_BYTES);
    for (let i = 0; i < this.size; i++) {
      putU32(rx, i * DESCRIPTOR_BYTES, physicalBase + this.rxBuffers + i * bufferBytes);
      putU32(rx, i * DESCRIPTOR_BYTES + 4, bufferBytes);
    }
    this.writeBlocks(this.rxRing, rx);
    this.writeBlocks(this.txRing, new Uint8Array(this.size * DESCRIPTOR_BYTES));
    this.set(NicRegister.TX_BASE, physicalBase + this.txRing);
    this.set(NicRegister.TX_SIZE, this.size);
    this.set(NicRegister.RX_BASE, physicalBase + this.rxRing);
    this.set(NicRegister.RX_SIZE, this.size);
    this.rxNext = this.txNext = this.txPosted = this.txClean = 0;
    this.set(NicRegister.RX_TAIL, this.size - 1);
    this.set(
      NicRegister.INT_ENABLE,
      options.interrupts ?? NicInterrupt.RX | NicInterrupt.TX | NicInterrupt.ERROR | NicInterrupt.RX_DROPPED,
    );
    this.set(
      NicRegister.CTRL,
      NicCtrl.ENABLE | NicCtrl.RX | NicCtrl.TX | (options.promiscuous ? NicCtrl.PROMISCUOUS : 0),
    );
  }

  /** Writes bytes in copies of at most 4096 bytes. */
  private writeBlocks(offset: number, bytes: Uint8Array): void {
    for (let at = 0; at < bytes.length; at += 4096) this.store(offset + at, bytes.subarray(at, at + 4096));
  }

  /** Reads and acknowledges the interrupt causes (INT_STATUS, write-1-to-clear). */
  takeInterrupts(): number {
    const causes = this.reg(NicRegister.INT_STATUS);
    if (causes !== 0) this.set(NicRegister.INT_STATUS, causes);
    return causes;
  }

  /**
   * Drains received frames, oldest first, into `sink` (at most `max`); a sink that returns false keeps
   * that frame's buffer and stops (the device holds the rest, and drops what it cannot store). Returns
   * the number taken. The buffers drained are lent to the device again.
   */
  receive(sink: (frame: Uint8Array) => boolean, max = this.size): number {
    const head = this.reg(NicRegister.RX_HEAD);
    if (head >= this.size) return 0;
    let taken = 0;
    let stopped = false;
    while (this.rxNext !== head && taken < max && !stopped) {
      // Descriptors from rxNext up to head (or the ring's end): one copy.
      const end = head > this.rxNext ? head : this.size;
      const count = Math.min(end - this.rxNext, max - taken, 4096 / DESCRIPTOR_BYTES);
      const desc = this.layout.memory.read(
        this.rxRing + this.rxNext * DESCRIPTOR_BYTES,
        count * DESCRIPTOR_BYTES,
      );
      if (!desc) {
        this.counters.accessFaults++;
        break;
      }
      for (let i = 0; i < count; i++) {
        const d = i * DESCRIPTOR_BYTES;
        const status = u32(desc, d + 8);
        const length = u16(desc, d + 6);
        const index = this.rxNext;
        if ((status & DESC_DONE) === 0 || (status & DESC_ERROR) !== 0 || length === 0) {
          this.counters.receiveErrors++;
        } else {
          const frame = this.layout.memory.read(this.rxBuffers + index * this.layout.bufferBytes, length);
          if (!frame) this.counters.accessFaults++;
          else if (!sink(frame)) {
            stopped = true;
            break;
          } else {
            this.counters.received++;
            taken++;
          }
        }
        this.rxNext = (index + 1) % this.size;
      }
    }
    // Lend every drained buffer again: the device owns [head, rxNext - 1).
    this.set(NicRegister.RX_TAIL, (this.rxNext + this.size - 1) % this.size);
    return taken;
  }

  /** Free transmit descriptors. */
  get transmitFree(): number {
    return this.size - 1 - ((this.txNext - this.txClean + this.size) % this.size);
  }

  /** Queues a frame that already sits in memory the device reaches (physical address, length). */
  transmitAt(address: number, length: number, tag: Tag): boolean {
    if (this.transmitFree === 0 || length < 1 || length > 0xffff) {
      this.counters.transmitFull++;
      return false;
    }
    const d = new Uint8Array(DESCRIPTOR_BYTES);
    putU32(d, 0, address);
    putU32(d, 4, length);
    this.txStaged.set(this.txNext, d);
    this.txTags[this.txNext] = tag;
    this.txNext = (this.txNext + 1) % this.size;
    return true;
  }

  /** Queues a frame by copying it into the descriptor's own transmit buffer. */
  transmitCopy(frame: Uint8Array, tag: Tag): boolean {
    assert(this.layout.transmitBuffers, 'this layout has no transmit buffers');
    if (this.transmitFree === 0 || frame.length > this.layout.bufferBytes) {
      this.counters.transmitFull++;
      return false;
    }
    const buffer = this.txBuffers + this.txNext * this.layout.bufferBytes;
    this.store(buffer, frame);
    return this.transmitAt(this.layout.physicalBase + buffer, frame.length, tag);
  }

  /** Writes the queued descriptors and rings the doorbell (TX_TAIL). Returns how many were posted. */
  kick(): number {
    if (this.txPosted === this.txNext) return 0;
    let posted = 0;
    while (this.txPosted !== this.txNext) {
      const end = this.txNext > this.txPosted ? this.txNext : this.size;
      const count = Math.min(end - this.txPosted, 4096 / DESCRIPTOR_BYTES);
      const block = new Uint8Array(count * DESCRIPTOR_BYTES);
      for (let i = 0; i < count; i++) {
        const d = this.txStaged.get(this.txPosted + i);
        if (d) block.set(d, i * DESCRIPTOR_BYTES);
        this.txStaged.delete(this.txPosted + i);
      }
      this.store(this.txRing + this.txPosted * DESCRIPTOR_BYTES, block);
      this.txPosted = (this.txPosted + count) % this.size;
      posted += count;
    }
    this.set(NicRegister.TX_TAIL, this.txPosted);
    return posted;
  }

  /** The tags of the frames the device has sent since the last call, oldest first. */
  reclaim(): Tag[] {
    const done: Tag[] = [];
    if (this.txClean === this.txPosted) return done;
    const head = this.reg(NicRegister.TX_HEAD);
    if (head >= this.size) return done;
    while (this.txClean !== head && this.txClean !== this.txPosted) {
      const tag = this.txTags[this.txClean];
      this.txTags[this.txClean] = undefined;
      if (tag !== undefined) done.push(tag);
      this.counters.sent++;
      this.txClean = (this.txClean + 1) % this.size;
    }
    return done;
  }

  /** Frames posted to the device and not yet reclaimed. */
  get inFlight(): number {
    return (this.txPosted - this.txClean + this.size) % this.size;
  }

  /** The device's own counters (TX_FRAMES, RX_FRAMES, RX_DROPPED, ERRORS). */
  deviceCounters(): { txFrames: number; rxFrames: number; rxDropped: number; errors: number } {
    return {
      txFrames: this.reg(NicRegister.TX_FRAMES),
      rxFrames: this.reg(NicRegister.RX_FRAMES),
      rxDropped: this.reg(NicRegister.RX_DROPPED),
      errors: this.reg(NicRegister.ERRORS),
    };
  }
}
