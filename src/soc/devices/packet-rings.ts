/**
 * The descriptor-ring DMA engine shared by the Ethernet NIC, the Wi-Fi NIC and the cellular modem (in the
 * manner of e1000-class controllers). The driver places descriptors in memory; the device moves the
 * packets between memory and its link by DMA through the bus, so the TZASC applies to the device as to
 * any master, in the world the TZPC assigns it.
 *
 * Rings: a ring of SIZE 16-byte descriptors at BASE. The device owns the descriptors from HEAD up to, not
 * including, TAIL (HEAD == TAIL: it owns none); the driver advances TAIL (the doorbell), the device
 * advances HEAD. Transmit: the driver fills descriptors and writes TX_TAIL; the device sends each frame and
 * marks its descriptor done. Receive: the driver lends empty buffers by advancing RX_TAIL (start with
 * SIZE − 1); each received frame fills the next lent buffer. Frames arriving with no buffer lent are
 * dropped and counted. One interrupt covers a batch: the driver drains up to RX_HEAD.
 *
 * Descriptor (little-endian):
 *   +0  u32 buffer address
 *   +4  u16 buffer length (TX: frame length; RX: buffer capacity)
 *   +6  u16 RX: length of the frame received (written by the device)
 *   +8  u32 status, written by the device: bit 0 DONE, bit 1 ERROR (DMA fault, frame too large)
 *   +12 u32 reserved
 *
 * Register map:
 *   0x000 CTRL          R/W: bit 0 enable, bit 1 receive, bit 2 transmit, bit 3 promiscuous.
 *   0x004 STATUS        R: bit 0 link attached.
 *   0x008 ADDR_LO       R: MAC bytes 0–3 (little-endian), or the IPv4 address for the modem.
 *   0x00C ADDR_HI       R: MAC bytes 4–5.
 *   0x010 TX_BASE  0x014 TX_SIZE  0x018 TX_HEAD (R)  0x01C TX_TAIL (doorbell)
 *   0x020 RX_BASE  0x024 RX_SIZE  0x028 RX_HEAD (R)  0x02C RX_TAIL
 *                       Writing a BASE or SIZE resets that ring's HEAD and TAIL to 0.
 *   0x030 INT_STATUS    R, W1C: bit 0 RX, bit 1 TX done, bit 2 error, bit 3 RX dropped (no buffer).
 *   0x034 INT_ENABLE    R/W: same bits.
 *   0x040 TX_FRAMES  0x044 RX_FRAMES  0x048 RX_DROPPED  0x04C ERRORS   R: counters.
 */
import { DONE, denied, value } from '../device.js';
import type { Access, DeviceContext, Json, MmioDevice, MmioRead, MmioWrite } from '../device.js';
import type { FrameEndpoint, Segment, SegmentPort } from '../links/segment.js';

export const DESCRIPTOR_SIZE = 16;
export const DESC_DONE = 1;
export const DESC_ERROR = 2;
export const INT_RX = 1;
export const INT_TX = 2;
export const INT_ERROR = 4;
export const INT_DROPPED = 8;
export const CTRL_ENABLE = 1;
export const CTRL_RX = 2;
export const CTRL_TX = 4;
export const CTRL_PROMISCUOUS = 8;

/** Virtual time between the doorbell and the device fetching descriptors. */
const DOORBELL_LATENCY_NS = 100;

const R = {
  ctrl: 0,
  txBase: 1,
  txSize: 2,
  txHead: 3,
  txTail: 4,
  rxBase: 5,
  rxSize: 6,
  rxHead: 7,
  rxTail: 8,
  intStatus: 9,
  intEnable: 10,
  txFrames: 11,
  rxFrames: 12,
  rxDropped: 13,
  errors: 14,
} as const;
const REG_COUNT = 15;

const OFFSETS: Record<number, number> = {
  0x000: R.ctrl,
  0x010: R.txBase,
  0x014: R.txSize,
  0x018: R.txHead,
  0x01c: R.txTail,
  0x020: R.rxBase,
  0x024: R.rxSize,
  0x028: R.rxHead,
  0x02c: R.rxTail,
  0x030: R.intStatus,
  0x034: R.intEnable,
  0x040: R.txFrames,
  0x044: R.rxFrames,
  0x048: R.rxDropped,
  0x04c: R.errors,
};

export interface PacketRingsSnapshot {
  readonly regs: readonly number[];
  readonly doorbellPending: boolean;
  readonly [key: string]: Json;
}

export abstract class PacketRingDevice implements MmioDevice<PacketRingsSnapshot>, FrameEndpoint {
  abstract readonly kind: string;
  readonly windowSize = 0x1000;
  protected regs: number[] = new Array<number>(REG_COUNT).fill(0);
  private port: SegmentPort | undefined;
  private doorbellPending = false;

  constructor(
    readonly name: string,
    protected readonly ctx: DeviceContext,
  ) {}

  /** The two address registers (MAC or IPv4). */
  protected abstract addressWords(): [number, number];
  /** Whether the device keeps a frame arriving from its link (address filter). */
  protected abstract accepts(frame: Uint8Array, promiscuous: boolean): boolean;
  /** Attaches the device to its link; called once by the machine. */
  abstract connect(segment: Segment): void;

  protected setPort(port: SegmentPort): void {
    this.port = port;
  }

  reset(): void {
    this.ctx.cancelEvents();
    this.regs = new Array<number>(REG_COUNT).fill(0);
    this.doorbellPending = false;
  }

  readRegister(offset: number, _a: Access): MmioRead {
    if (offset === 0x004) return value(this.port ? 1 : 0);
    if (offset === 0x008) return value(this.addressWords()[0]);
    if (offset === 0x00c) return value(this.addressWords()[1]);
    const r = OFFSETS[offset];
    if (r === undefined) return denied(`no ${this.kind} register at 0x${offset.toString(16)}`);
    return value(this.regs[r] as number);
  }

  writeRegister(offset: number, v: number, _a: Access): MmioWrite {
    const r = OFFSETS[offset];
    if (r === undefined || r === R.txHead || r === R.rxHead || r >= R.txFrames)
      return denied(`no writable ${this.kind} register at 0x${offset.toString(16)}`);
    switch (r) {
      case R.intStatus:
        this.regs[r] = (this.regs[r] as number) & ~v;
        return DONE;
      case R.txBase:
      case R.txSize:
        this.regs[r] = v >>> 0;
        this.regs[R.txHead] = this.regs[R.txTail] = 0;
        return DONE;
      case R.rxBase:
      case R.rxSize:
        this.regs[r] = v >>> 0;
        this.regs[R.rxHead] = this.regs[R.rxTail] = 0;
        return DONE;
      case R.txTail:
      case R.rxTail: {
        const size = this.regs[r === R.txTail ? R.txSize : R.rxSize] as number;
        if (v >= Math.max(size, 1)) return denied(`ring index ${v} outside a ring of ${size}`);
        this.regs[r] = v;
        if (r === R.txTail) this.ringDoorbell();
        return DONE;
      }
      default:
        this.regs[r] = v >>> 0;
        if (r === R.ctrl) this.ringDoorbell();
        return DONE;
    }
  }

  private ringDoorbell(): void {
    if (this.doorbellPending) return;
    this.doorbellPending = true;
    this.ctx.schedule(DOORBELL_LATENCY_NS, 'transmit', null);
  }

  handleEvent(action: string, _data: Json): void {
    if (action === 'transmit') this.transmit();
  }

  /** Processes every transmit descriptor the device owns. */
  private transmit(): void {
    this.doorbellPending = false;
    const ctrl = this.regs[R.ctrl] as number;
    if ((ctrl & (CTRL_ENABLE | CTRL_TX)) !== (CTRL_ENABLE | CTRL_TX)) return;
    const size = this.regs[R.txSize] as number;
    const base = this.regs[R.txBase] as number;
    let sent = 0;
    let errors = 0;
    while (size > 0 && this.regs[R.txHead] !== this.regs[R.txTail]) {
      const head = this.regs[R.txHead] as number;
      const desc = base + head * DESCRIPTOR_SIZE;
      let status = DESC_DONE;
      const addr = this.ctx.dma.readU32(desc);
      const len = this.ctx.dma.readU32(desc + 4);
      if (!addr.ok || !len.ok) {
        // The descriptor itself is unreachable: stop, the driver must fix the ring.
        this.error();
        break;
      }
      const frame = this.ctx.dma.read(addr.value, len.value & 0xffff);
      if (frame.ok && this.port) {
        this.port.send(frame.value);
        sent++;
        this.regs[R.txFrames] = ((this.regs[R.txFrames] as number) + 1) >>> 0;
      } else {
        status |= DESC_ERROR;
        errors++;
      }
      this.ctx.dma.writeU32(desc + 8, status);
      this.regs[R.txHead] = (head + 1) % size;
    }
    if (errors > 0) this.error(errors);
    if (sent > 0 || errors > 0) this.interrupt(INT_TX);
  }

  /** A frame arrives from the link. */
  deliver(frame: Uint8Array, _timeNs: number): void {
    const ctrl = this.regs[R.ctrl] as number;
    if ((ctrl & (CTRL_ENABLE | CTRL_RX)) !== (CTRL_ENABLE | CTRL_RX)) return;
    if (!this.accepts(frame, (ctrl & CTRL_PROMISCUOUS) !== 0)) return;
    const size = this.regs[R.rxSize] as number;
    const head = this.regs[R.rxHead] as number;
    if (size === 0 || head === this.regs[R.rxTail]) {
      this.regs[R.rxDropped] = ((this.regs[R.rxDropped] as number) + 1) >>> 0;
      this.ctx.record('nic.rx-dropped', { length: frame.length });
      return this.interrupt(INT_DROPPED);
    }
    const desc = (this.regs[R.rxBase] as number) + head * DESCRIPTOR_SIZE;
    const addr = this.ctx.dma.readU32(desc);
    const cap = this.ctx.dma.readU32(desc + 4);
    if (!addr.ok || !cap.ok) return this.error();
    let status = DESC_DONE;
    if (frame.length > (cap.value & 0xffff) || !this.ctx.dma.write(addr.value, frame).ok) {
      status |= DESC_ERROR;
      this.error();
    } else {
      this.regs[R.rxFrames] = ((this.regs[R.rxFrames] as number) + 1) >>> 0;
    }
    const lenWord = (cap.value & 0xffff) | ((status & DESC_ERROR ? 0 : frame.length) << 16);
    this.ctx.dma.writeU32(desc + 4, lenWord);
    this.ctx.dma.writeU32(desc + 8, status);
    this.regs[R.rxHead] = (head + 1) % size;
    this.interrupt(INT_RX);
  }

  private error(count = 1): void {
    this.regs[R.errors] = ((this.regs[R.errors] as number) + count) >>> 0;
    this.interrupt(INT_ERROR);
  }

  private interrupt(bit: number): void {
    this.regs[R.intStatus] = (this.regs[R.intStatus] as number) | bit;
    if ((this.regs[R.intEnable] as number) & bit) this.ctx.raiseInterrupt();
  }

  snapshot(): PacketRingsSnapshot {
    return { regs: [...this.regs], doorbellPending: this.doorbellPending };
  }

  restore(s: PacketRingsSnapshot): void {
    this.regs = [...s.regs];
    this.doorbellPending = s.doorbellPending;
  }
}

/** Helpers for drivers and tests: encode/decode descriptors. */
export function encodeDescriptor(address: number, length: number): Uint8Array {
  const d = new Uint8Array(DESCRIPTOR_SIZE);
  const v = new DataView(d.buffer);
  v.setUint32(0, address, true);
  v.setUint16(4, length, true);
  return d;
}

export function decodeDescriptor(d: Uint8Array): {
  address: number;
  capacity: number;
  length: number;
  status: number;
} {
  const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
  return {
    address: v.getUint32(0, true),
    capacity: v.getUint16(4, true),
    length: v.getUint16(6, true),
    status: v.getUint32(8, true),
  };
}
