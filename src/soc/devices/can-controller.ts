/**
 * CAN controller (in the manner of the bxCAN class of microcontroller peripherals): three transmit
 * mailboxes, a 16-frame receive FIFO, eight acceptance filters and one interrupt line, on an emulated CAN
 * bus. Pending mailboxes contend for the bus by identifier priority. A received frame is kept when an
 * enabled filter matches it: `((frameWord ^ FILTER_ID) & FILTER_MASK) == 0` with
 * `frameWord = IDE<<31 | RTR<<30 | id`; with no filter enabled nothing is received. Own frames are not
 * received back.
 *
 * Register map (identifier words as above; data words little-endian, byte 0 in bits 7:0):
 *   0x000 CTRL         R/W: bit 0 enable (disabled: nothing is received, requests are refused).
 *   0x004 STATUS       R: bit 0 attached to a bus; bits 15:8 frames in the RX FIFO.
 *   0x008 BITRATE      R: bus bit rate.
 *   0x010 INT_STATUS   R, W1C: bit 0 RX, bit 1 TX done, bit 2 RX overrun.
 *   0x014 INT_ENABLE   R/W: same bits.
 *   0x020 TX_REQUEST   W: bit i requests transmission of mailbox i.
 *   0x024 TX_STATUS    R: bits 2:0 pending, bits 10:8 done. W1C on bits 10:8.
 *   0x028 TX_ABORT     W: bit i aborts mailbox i if it has not won arbitration yet.
 *   0x100 + 0x10·i     MB_ID[i], +4 MB_DLC[i], +8 MB_DATA_LO[i], +0xC MB_DATA_HI[i]  R/W (not while pending).
 *   0x200 RX_ID  0x204 RX_DLC  0x208 RX_DATA_LO  0x20C RX_DATA_HI   R: oldest frame in the FIFO (0 if empty).
 *   0x210 RX_RELEASE   W: drops the oldest frame.
 *   0x214 RX_COUNT     R.   0x218 RX_OVERRUNS  R: frames lost to a full FIFO.
 *   0x300 + 8·j        FILTER_ID[j], +4 FILTER_MASK[j]  R/W (j < 8).
 *   0x380 FILTER_ENABLE R/W: bit j enables filter j.
 */
import { DONE, denied, value } from '../device.js';
import type { Access, DeviceContext, Json, MmioDevice, MmioRead, MmioWrite } from '../device.js';
import type { CanBus, CanEndpoint, CanPort } from '../links/can-bus.js';
import { dataWords, frameFromWords, idWord, type CanFrame } from '../../lib/can/frame.js';
import { frameFromJson, frameToJson, type CanFrameJson } from '../links/can-frame.js';

export const MAILBOXES = 3;
export const RX_FIFO_DEPTH = 16;
export const FILTERS = 8;
const INT_RX = 1;
const INT_TX = 2;
const INT_OVERRUN = 4;

export interface CanControllerSnapshot {
  readonly ctrl: number;
  readonly intStatus: number;
  readonly intEnable: number;
  readonly mailboxes: readonly (readonly number[])[];
  readonly pending: number;
  readonly done: number;
  readonly rx: readonly CanFrameJson[];
  readonly overruns: number;
  readonly filters: readonly (readonly number[])[];
  readonly filterEnable: number;
  readonly [key: string]: Json;
}

export class CanController implements MmioDevice<CanControllerSnapshot>, CanEndpoint {
  readonly kind = 'can-controller';
  readonly windowSize = 0x1000;
  private port: CanPort | undefined;
  private bitRate = 0;
  private ctrl = 0;
  private intStatus = 0;
  private intEnable = 0;
  private mailboxes: number[][] = fresh(MAILBOXES, 4);
  private pending = 0;
  private done = 0;
  private rx: CanFrame[] = [];
  private overruns = 0;
  private filters: number[][] = fresh(FILTERS, 2);
  private filterEnable = 0;

  constructor(
    readonly name: string,
    private readonly ctx: DeviceContext,
  ) {}

  connect(bus: CanBus): void {
    this.port = bus.attach(this.ctx.path, this);
    this.bitRate = bus.bitRate;
  }

  receive(frame: CanFrame, _timeNs: number): void {
    if ((this.ctrl & 1) === 0) return;
    const word = idWord(frame);
    let match = false;
    for (let j = 0; j < FILTERS; j++) {
      const [id, mask] = this.filters[j] as [number, number];
      if (this.filterEnable & (1 << j) && ((word ^ id) & mask) >>> 0 === 0) match = true;
    }
    if (!match) return;
    if (this.rx.length >= RX_FIFO_DEPTH) {
      this.overruns++;
      this.ctx.record('can.rx-overrun', { id: frame.id });
      return this.interrupt(INT_OVERRUN);
    }
    this.rx.push(frame);
    this.interrupt(INT_RX);
  }

  transmitted(token: number, _timeNs: number): void {
    const bit = 1 << token;
    if ((this.pending & bit) === 0) return;
    this.pending &= ~bit;
    this.done |= bit;
    this.interrupt(INT_TX);
  }

  private interrupt(bit: number): void {
    this.intStatus |= bit;
    if (this.intEnable & bit) this.ctx.raiseInterrupt();
  }

  reset(): void {
    for (let i = 0; i < MAILBOXES; i++) if (this.pending & (1 << i)) this.port?.abort(i);
    this.ctrl =
      this.intStatus =
      this.intEnable =
      this.pending =
      this.done =
      this.overruns =
      this.filterEnable =
        0;
    this.mailboxes = fresh(MAILBOXES, 4);
    this.filters = fresh(FILTERS, 2);
    this.rx = [];
  }

  readRegister(offset: number, _a: Access): MmioRead {
    const head = this.rx[0];
    switch (offset) {
      case 0x000:
        return value(this.ctrl);
      case 0x004:
        return value((this.port ? 1 : 0) | (this.rx.length << 8));
      case 0x008:
        return value(this.bitRate);
      case 0x010:
        return value(this.intStatus);
      case 0x014:
        return value(this.intEnable);
      case 0x024:
        return value(this.pending | (this.done << 8));
      case 0x200:
        return value(head ? idWord(head) : 0);
      case 0x204:
        return value(head ? head.dlc : 0);
      case 0x208:
        return value(head ? dataWords(head)[0] : 0);
      case 0x20c:
        return value(head ? dataWords(head)[1] : 0);
      case 0x214:
        return value(this.rx.length);
      case 0x218:
        return value(this.overruns);
      case 0x380:
        return value(this.filterEnable);
    }
    const mb = slot(offset, 0x100, 0x10, MAILBOXES, 4);
    if (mb) return value((this.mailboxes[mb[0]] as number[])[mb[1]] as number);
    const f = slot(offset, 0x300, 8, FILTERS, 2);
    if (f) return value((this.filters[f[0]] as number[])[f[1]] as number);
    return denied(`no CAN register at 0x${offset.toString(16)}`);
  }

  writeRegister(offset: number, v: number, _a: Access): MmioWrite {
    switch (offset) {
      case 0x000:
        this.ctrl = v & 1;
        return DONE;
      case 0x010:
        this.intStatus &= ~v;
        return DONE;
      case 0x014:
        this.intEnable = v & 7;
        return DONE;
      case 0x020:
        return this.request(v);
      case 0x024:
        this.done &= ~(v >>> 8);
        return DONE;
      case 0x028:
        for (let i = 0; i < MAILBOXES; i++)
          if (v & (1 << i) && this.pending & (1 << i) && this.port?.abort(i)) this.pending &= ~(1 << i);
        return DONE;
      case 0x210:
        this.rx.shift();
        return DONE;
      case 0x380:
        this.filterEnable = v & ((1 << FILTERS) - 1);
        return DONE;
    }
    const mb = slot(offset, 0x100, 0x10, MAILBOXES, 4);
    if (mb) {
      if (this.pending & (1 << mb[0])) return denied(`mailbox ${mb[0]} is pending`);
      (this.mailboxes[mb[0]] as number[])[mb[1]] = v >>> 0;
      return DONE;
    }
    const f = slot(offset, 0x300, 8, FILTERS, 2);
    if (f) {
      (this.filters[f[0]] as number[])[f[1]] = v >>> 0;
      return DONE;
    }
    return denied(`no writable CAN register at 0x${offset.toString(16)}`);
  }

  private request(mask: number): MmioWrite {
    if ((this.ctrl & 1) === 0) return denied('CAN controller is disabled');
    if (!this.port) return denied('CAN controller is not attached to a bus');
    const frames: [number, CanFrame][] = [];
    for (let i = 0; i < MAILBOXES; i++) {
      if ((mask & (1 << i)) === 0 || this.pending & (1 << i)) continue;
      const [idw, dlc, lo, hi] = this.mailboxes[i] as [number, number, number, number];
      const ext = (idw & 0x80000000) !== 0;
      if (!ext && (idw & 0x1ffff800) !== 0)
        return denied(`mailbox ${i}: standard identifier wider than 11 bits`);
      frames.push([i, frameFromWords(idw, dlc, lo, hi)]);
    }
    for (const [i, frame] of frames) {
      this.pending |= 1 << i;
      this.done &= ~(1 << i);
      this.port.transmit(frame, i);
    }
    return DONE;
  }

  snapshot(): CanControllerSnapshot {
    return {
      ctrl: this.ctrl,
      intStatus: this.intStatus,
      intEnable: this.intEnable,
      mailboxes: this.mailboxes.map((m) => [...m]),
      pending: this.pending,
      done: this.done,
      rx: this.rx.map(frameToJson),
      overruns: this.overruns,
      filters: this.filters.map((f) => [...f]),
      filterEnable: this.filterEnable,
    };
  }

  /** Restores the controller; its queued frames are restored with the bus. */
  restore(s: CanControllerSnapshot): void {
    this.ctrl = s.ctrl;
    this.intStatus = s.intStatus;
    this.intEnable = s.intEnable;
    this.mailboxes = s.mailboxes.map((m) => [...m]);
    this.pending = s.pending;
    this.done = s.done;
    this.rx = s.rx.map(frameFromJson);
    this.overruns = s.overruns;
    this.filters = s.filters.map((f) => [...f]);
    this.filterEnable = s.filterEnable;
  }
}

function fresh(n: number, width: number): number[][] {
  return Array.from({ length: n }, () => new Array<number>(width).fill(0));
}

function slot(
  offset: number,
  base: number,
  stride: number,
  count: number,
  width: number,
): [number, number] | undefined {
  if (offset < base) return undefined;
  const i = Math.floor((offset - base) / stride);
  const k = ((offset - base) % stride) / 4;
  return i < count && k < width ? [i, k] : undefined;
}
