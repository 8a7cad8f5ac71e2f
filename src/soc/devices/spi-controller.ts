/**
 * SPI controller, master or slave (fixed by the board), moving its data by DMA. A master sets TX_ADDR,
 * RX_ADDR and LENGTH and writes START: LENGTH bytes are read from memory and shifted out, and as many
 * bytes shifted in are written to RX_ADDR at the end. A slave arms its buffers the same way (START arms);
 * the next transfer the master starts exchanges up to LENGTH bytes with it (excess bytes are lost and
 * counted as an overrun; an unarmed slave answers 0xFF). Both sides raise DONE at the end.
 *
 * Register map:
 *   0x000 CTRL        R/W: bit 0 enable.
 *   0x004 STATUS      R: bit 0 BUSY (master: transfer running), bit 1 ARMED (slave), bit 2 link complete,
 *                     bit 3 slave role.
 *   0x008 TX_ADDR  0x00C RX_ADDR  0x010 LENGTH   R/W.
 *   0x014 START       W: master starts a transfer / slave arms (faults while busy or disabled).
 *   0x018 INT_STATUS  R, W1C: bit 0 DONE, bit 1 DMA error, bit 2 overrun.
 *   0x01C INT_ENABLE  R/W.
 *   0x020 RX_COUNT    R: bytes received by the last transfer.
 *   0x024 BITRATE     R.
 */
import { DONE, denied, fromBase64, toBase64, value } from '../device.js';
import type { Access, DeviceContext, Json, MmioDevice, MmioRead, MmioWrite } from '../device.js';
import type { SpiEnd, SpiLink } from '../links/spi-link.js';

const INT_DONE = 1;
const INT_DMA = 2;
const INT_OVERRUN = 4;

export interface SpiControllerSnapshot {
  readonly regs: readonly number[];
  readonly armed: boolean;
  readonly armedTx: string | null;
  readonly transferring: boolean;
  readonly [key: string]: Json;
}

export class SpiController implements MmioDevice<SpiControllerSnapshot>, SpiEnd {
  readonly kind = 'spi-controller';
  readonly windowSize = 0x1000;
  private link: SpiLink | undefined;
  // ctrl, txAddr, rxAddr, length, intStatus, intEnable, rxCount
  private regs = [0, 0, 0, 0, 0, 0, 0];
  private armed = false;
  /** Slave: the bytes it will shift out, read from memory when it armed. */
  private armedTx: Uint8Array | undefined;
  /** Master: a transfer this controller started is on the wire (a reset abandons it). */
  private transferring = false;

  constructor(
    readonly name: string,
    readonly role: 'master' | 'slave',
    private readonly ctx: DeviceContext,
  ) {}

  connect(link: SpiLink): void {
    this.link = link;
    link.connect(this.role, this);
  }

  reset(): void {
    this.regs = [0, 0, 0, 0, 0, 0, 0];
    this.armed = false;
    this.armedTx = undefined;
    this.transferring = false;
  }

  readRegister(offset: number, _a: Access): MmioRead {
    switch (offset) {
      case 0x000:
        return value(this.regs[0] as number);
      case 0x004:
        return value(
          (this.role === 'master' && this.link?.isBusy ? 1 : 0) |
            (this.armed ? 2 : 0) |
            (this.link?.attached ? 4 : 0) |
            (this.role === 'slave' ? 8 : 0),
        );
      case 0x008:
      case 0x00c:
      case 0x010:
        return value(this.regs[(offset - 0x004) / 4] as number);
      case 0x018:
        return value(this.regs[4] as number);
      case 0x01c:
        return value(this.regs[5] as number);
      case 0x020:
        return value(this.regs[6] as number);
      case 0x024:
        return value(this.link?.bitRate ?? 0);
    }
    return denied(`no SPI register at 0x${offset.toString(16)}`);
  }

  writeRegister(offset: number, v: number, _a: Access): MmioWrite {
    switch (offset) {
      case 0x000:
        this.regs[0] = v & 1;
        return DONE;
      case 0x008:
      case 0x00c:
      case 0x010:
        this.regs[(offset - 0x004) / 4] = v >>> 0;
        return DONE;
      case 0x014:
        return this.start();
      case 0x018:
        this.regs[4] = (this.regs[4] as number) & ~v;
        return DONE;
      case 0x01c:
        this.regs[5] = v & 7;
        return DONE;
    }
    return denied(`no writable SPI register at 0x${offset.toString(16)}`);
  }

  private start(): MmioWrite {
    if (((this.regs[0] as number) & 1) === 0) return denied('SPI controller is disabled');
    if (!this.link) return denied('SPI controller is not linked');
    const [, txAddr, , length] = this.regs as [number, number, number, number];
    const tx = this.ctx.dma.read(txAddr, length);
    if (!tx.ok) {
      this.interrupt(INT_DMA);
      return DONE;
    }
    if (this.role === 'slave') {
      this.armed = true;
      this.armedTx = tx.value;
      return DONE;
    }
    if (!this.link.start(tx.value)) return denied('SPI link is busy or has no slave');
    this.transferring = true;
    return DONE;
  }

  shiftOut(length: number): Uint8Array {
    const out = new Uint8Array(length).fill(0xff);
    if (this.armed && this.armedTx) out.set(this.armedTx.subarray(0, length));
    return out;
  }

  complete(received: Uint8Array): void {
    let data = received;
    if (this.role === 'master') {
      if (!this.transferring) return; // started before a reset: nobody waits for it
      this.transferring = false;
    } else {
      if (!this.armed) {
        this.ctx.record('spi.overrun', { lost: received.length });
        return this.interrupt(INT_OVERRUN);
      }
      const room = this.regs[3] as number;
      if (received.length > room) {
        this.ctx.record('spi.overrun', { lost: received.length - room });
        this.regs[4] = (this.regs[4] as number) | INT_OVERRUN;
        data = received.subarray(0, room);
      }
      this.armed = false;
      this.armedTx = undefined;
    }
    this.regs[6] = data.length;
    const w = this.ctx.dma.write(this.regs[2] as number, data);
    this.interrupt(w.ok ? INT_DONE : INT_DMA);
  }

  private interrupt(bit: number): void {
    this.regs[4] = (this.regs[4] as number) | bit;
    if ((this.regs[5] as number) & bit) this.ctx.raiseInterrupt();
  }

  snapshot(): SpiControllerSnapshot {
    return {
      regs: [...this.regs],
      armed: this.armed,
      armedTx: this.armedTx ? toBase64(this.armedTx) : null,
      transferring: this.transferring,
    };
  }

  restore(s: SpiControllerSnapshot): void {
    this.regs = [...s.regs];
    this.armed = s.armed;
    this.armedTx = s.armedTx === null ? undefined : fromBase64(s.armedTx);
    this.transferring = s.transferring;
  }
}
