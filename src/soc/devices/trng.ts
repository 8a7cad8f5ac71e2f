/**
 * True random number generator. In simulation it is a deterministic generator seeded from the machine
 * seed and the device path, so a run is reproducible; different seeds give different streams. Not
 * cryptographically strong: it stands in for an entropy source in an emulator.
 *
 * Register map:
 *   0x000 STATUS  R: bit 0 DATA_READY (set while enabled).
 *   0x004 CTRL    R/W: bit 0 enable.
 *   0x008 DATA    R: the next 32 random bits; reading while disabled faults.
 */
import {
  DONE,
  denied,
  value,
  type Access,
  type MmioDevice,
  type MmioRead,
  type MmioWrite,
} from '../device.js';
import type { DeviceContext, Json } from '../device.js';

export interface TrngSnapshot {
  readonly enabled: boolean;
  readonly state: readonly [number, number, number, number];
  readonly words: number;
  readonly [key: string]: Json;
}

export class Trng implements MmioDevice<TrngSnapshot> {
  readonly kind = 'trng';
  readonly windowSize = 0x1000;
  private enabled = false;
  private words = 0;

  constructor(
    readonly name: string,
    private readonly ctx: DeviceContext,
  ) {}

  /** Words delivered since power-on. */
  get delivered(): number {
    return this.words;
  }

  /** The stream continues across reset (the entropy source does not restart). */
  reset(): void {
    this.enabled = false;
  }

  readRegister(offset: number, _a: Access): MmioRead {
    switch (offset) {
      case 0x000:
        return value(this.enabled ? 1 : 0);
      case 0x004:
        return value(this.enabled ? 1 : 0);
      case 0x008:
        if (!this.enabled) return denied('TRNG is disabled');
        this.words++;
        return value(this.ctx.random.nextU32());
    }
    return denied(`no TRNG register at 0x${offset.toString(16)}`);
  }

  writeRegister(offset: number, v: number, _a: Access): MmioWrite {
    if (offset !== 0x004) return denied(`no writable TRNG register at 0x${offset.toString(16)}`);
    this.enabled = (v & 1) === 1;
    return DONE;
  }

  snapshot(): TrngSnapshot {
    return { enabled: this.enabled, state: this.ctx.random.state(), words: this.words };
  }

  restore(s: TrngSnapshot): void {
    this.enabled = s.enabled;
    this.words = s.words;
    this.ctx.random.setState(s.state);
  }
}
