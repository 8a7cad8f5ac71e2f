/**
 * UART console in the manner of an Arm PL011, reduced to a byte-at-a-time console: what the software
 * transmits is captured (the host reads it as the console output); what the host injects arrives in a
 * receive FIFO and raises the interrupt when the RX interrupt is unmasked.
 *
 * Register map:
 *   0x000 DR     W: transmit the low byte. R: pop the oldest received byte (0 when empty).
 *   0x018 FR     R: bit 4 RXFE (receive FIFO empty), bit 5 TXFF (never set: transmit is immediate).
 *   0x038 IMSC   R/W: bit 4 RX interrupt mask (1 = enabled).
 *   0x040 MIS    R: bit 4 RX interrupt status (masked).
 *   0x044 ICR    W: bit 4 clears the RX interrupt status.
 */
import {
  DONE,
  denied,
  fromHex,
  toHex,
  value,
  type Access,
  type MmioDevice,
  type MmioRead,
  type MmioWrite,
} from '../device.js';
import type { DeviceContext, Json } from '../device.js';

const RX_BIT = 1 << 4;
const RX_FIFO_DEPTH = 4096;

export interface UartSnapshot {
  readonly output: string;
  readonly rx: string;
  readonly imsc: number;
  readonly ris: number;
  readonly dropped: number;
  readonly [key: string]: Json;
}

export class Uart implements MmioDevice<UartSnapshot> {
  readonly kind = 'uart';
  readonly windowSize = 0x1000;
  private out: number[] = [];
  private rx: number[] = [];
  private imsc = 0;
  private ris = 0;
  private dropped = 0;

  constructor(
    readonly name: string,
    private readonly ctx: DeviceContext,
  ) {}

  /** Everything transmitted since reset, as bytes. */
  outputBytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }

  /** Everything transmitted since reset, decoded as UTF-8. */
  output(): string {
    return Buffer.from(this.out).toString('utf8');
  }

  /** Host side: bytes typed on the console arrive now. Bytes beyond the FIFO depth are dropped. */
  inject(input: string | Uint8Array): void {
    const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
    let accepted = 0;
    for (const b of bytes) {
      if (this.rx.length >= RX_FIFO_DEPTH) this.dropped++;
      else {
        this.rx.push(b);
        accepted++;
      }
    }
    this.ctx.record('uart.rx', { bytes: accepted, dropped: bytes.length - accepted });
    if (accepted > 0) {
      this.ris |= RX_BIT;
      if (this.imsc & RX_BIT) this.ctx.raiseInterrupt();
    }
  }

  reset(): void {
    this.out = [];
    this.rx = [];
    this.imsc = 0;
    this.ris = 0;
    this.dropped = 0;
  }

  readRegister(offset: number, _a: Access): MmioRead {
    switch (offset) {
      case 0x000: {
        const b = this.rx.shift() ?? 0;
        if (this.rx.length === 0) this.ris &= ~RX_BIT;
        return value(b);
      }
      case 0x018:
        return value(this.rx.length === 0 ? RX_BIT : 0);
      case 0x038:
        return value(this.imsc);
      case 0x040:
        return value(this.ris & this.imsc);
    }
    return denied(`no UART register at 0x${offset.toString(16)}`);
  }

  writeRegister(offset: number, v: number, _a: Access): MmioWrite {
    switch (offset) {
      case 0x000:
        this.out.push(v & 0xff);
        this.ctx.record('uart.tx', { byte: v & 0xff });
        return DONE;
      case 0x038:
        this.imsc = v & RX_BIT;
        if (this.imsc & this.ris) this.ctx.raiseInterrupt();
        return DONE;
      case 0x044:
        this.ris &= ~(v & RX_BIT);
        return DONE;
    }
    return denied(`no writable UART register at 0x${offset.toString(16)}`);
  }

  snapshot(): UartSnapshot {
    return {
      output: toHex(Uint8Array.from(this.out)),
      rx: toHex(Uint8Array.from(this.rx)),
      imsc: this.imsc,
      ris: this.ris,
      dropped: this.dropped,
    };
  }

  restore(s: UartSnapshot): void {
    this.out = [...fromHex(s.output)];
    this.rx = [...fromHex(s.rx)];
    this.imsc = s.imsc;
    this.ris = s.ris;
    this.dropped = s.dropped;
  }
}
