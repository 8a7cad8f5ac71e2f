/**
 * A Normal World driver for a NIC the Normal World owns itself — the architecture without a Secure World
 * in the data path (the unprotected entry point, and the baseline of `npm run bench entry-point`). The
 * NIC must be a non-secure peripheral of the board, claimed by the Normal World's domain at boot with its
 * interrupt bound to bit 0 of the Normal World's notification; its descriptor rings and buffers live in a
 * Normal World region (`nic-dma-nw`) the driver allocates and maps itself, and reaches as a live view.
 */
import { bootInfo, deviceRegisters, E, kcall, memoryView, R, regionInfo, W } from '../../kernel/abi/sys.js';
import { RingNic, nicMemoryBytes } from '../../lib/nic/ring-nic.js';
import { viewMemory } from '../../lib/ring/frame-ring.js';
import type { NetworkInterface } from '../proxy-net/proxy-net.js';

export const DIRECT_DMA_REGION = 'nic-dma-nw';
const EVENTS_SLOT = 0;
const IRQ_BIT = 1;
const DESCRIPTORS = 128;
const BUFFER_BYTES = 2048;

interface Info {
  readonly regions: readonly { name: string; index: number }[];
  readonly devices: readonly { name: string; index: number }[];
  readonly setup: { readonly devices?: readonly { device: string }[] };
}

export class DirectNicInterface implements NetworkInterface {
  readonly name: string;
  private irqPending = true;
  private readonly counters = { sent: 0, received: 0, dropped: 0 };

  private constructor(
    private readonly nic: RingNic<number>,
    private readonly device: number,
    name: string,
  ) {
    this.name = name;
  }

  /** Starts the NIC the Normal World claimed at boot; undefined when it owns none. */
  static open(): DirectNicInterface | undefined {
    const info = bootInfo<Info>();
    const claimed = info.setup.devices?.[0]?.device;
    const device = info.devices.find((d) => d.name === claimed)?.index;
    const region = info.regions.find((r) => r.name === DIRECT_DMA_REGION)?.index;
    if (claimed === undefined || device === undefined || region === undefined) return undefined;
    const view = memoryView(region) ?? mapRegion(region);
    const where = regionInfo(region);
    const layout = { descriptors: DESCRIPTORS, bufferBytes: BUFFER_BYTES, transmitBuffers: true };
    if (!view || !where || view.length < nicMemoryBytes(layout)) return undefined;
    const nic = new RingNic<number>(deviceRegisters(device), {
      ...layout,
      memory: viewMemory(view),
      physicalBase: where.physicalBase,
    });
    nic.start();
    return new DirectNicInterface(nic, device, claimed);
  }

  get mac(): Uint8Array {
    return this.nic.mac;
  }

  send(frame: Uint8Array): boolean {
    if (this.nic.transmitFree === 0) this.nic.reclaim();
    if (this.nic.transmitCopy(frame, 0)) {
      this.counters.sent++;
      return true;
    }
    this.counters.dropped++;
    return false;
  }

  writable(): boolean {
    if (this.nic.transmitFree > 0) return true;
    this.nic.reclaim();
    return this.nic.transmitFree > 0;
  }

  poll(sink: (frame: Uint8Array) => void): number {
    const irq = this.irqPending;
    if (irq) this.nic.takeInterrupts();
    const n = this.nic.receive((f) => {
      sink(f);
      return true;
    });
    this.nic.reclaim();
    if (irq) {
      this.irqPending = false;
      kcall('irq_ack', this.device);
    }
    this.counters.received += n;
    return n;
  }

  flush(): void {
    this.nic.kick();
  }

  wait(): void {
    const w = kcall('notification_wait', EVENTS_SLOT);
    if (w.code === E.OK && (w.value | w.badge) & IRQ_BIT) this.irqPending = true; // pending: value; woken: badge
  }

  stats(): Record<string, unknown> {
    return { ...this.counters, nic: this.nic.counters };
  }
}

/**
 * Allocates and maps the DMA region (the kernel hands a Normal World partition its live view when the
 * mapping is made, so it is made here, not at boot).
 */
function mapRegion(region: number): Uint8Array | undefined {
  const alloc = kcall('region_alloc', region).code;
  if (alloc !== E.OK && alloc !== E.EBUSY) return undefined;
  if (kcall('region_map', region, R | W).code !== E.OK) return undefined;
  return memoryView(region);
}
