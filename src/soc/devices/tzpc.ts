/**
 * TrustZone Protection Controller (in the manner of the Arm BP147): assigns each peripheral of the chip to
 * the secure or the non-secure world. A secure peripheral's register window faults for non-secure masters,
 * and a DMA-capable peripheral issues its own accesses in the world it is assigned to. Reset state: every
 * peripheral secure, unlocked; once locked (one-way until reset) no assignment can change. The window is
 * reachable from the secure world only. The interrupt controller, TZASC, TZPC and MPU are not assigned:
 * they are part of the security fabric.
 *
 * Register map:
 *   0x000 LOCK          R: 1 when locked. W: non-zero locks (0 is ignored).
 *   0x004 DEVICE_COUNT  R: number of assignable peripherals.
 *   0x100 + 4·i WORLD[i] R/W: 0 = secure, 1 = non-secure (peripheral i in board order, see `indexOf`).
 */
import { assert } from '../../common/errors.js';
import {
  DONE,
  denied,
  value,
  type Access,
  type MmioDevice,
  type MmioRead,
  type MmioWrite,
  type World,
} from '../device.js';
import type { DeviceContext, Json } from '../device.js';

export interface TzpcSnapshot {
  readonly worlds: readonly World[];
  readonly locked: boolean;
  readonly [key: string]: Json;
}

export class Tzpc implements MmioDevice<TzpcSnapshot> {
  readonly kind = 'tzpc';
  readonly windowSize = 0x1000;
  private worlds: World[];
  private locked = false;

  constructor(
    readonly name: string,
    /** Names of the assignable peripherals, in board order. */
    private readonly peripherals: readonly string[],
    private readonly ctx: DeviceContext,
  ) {
    assert(peripherals.length <= 0x300, 'too many peripherals for the TZPC window');
    this.worlds = peripherals.map(() => 'secure');
  }

  get isLocked(): boolean {
    return this.locked;
  }

  indexOf(peripheral: string): number {
    const i = this.peripherals.indexOf(peripheral);
    assert(i >= 0, `${peripheral} is not assigned by this TZPC`);
    return i;
  }

  worldOf(peripheral: string): World {
    return this.worlds[this.indexOf(peripheral)] as World;
  }

  reset(): void {
    this.worlds = this.peripherals.map(() => 'secure');
    this.locked = false;
  }

  readRegister(offset: number, _access: Access): MmioRead {
    if (offset === 0x000) return value(this.locked ? 1 : 0);
    if (offset === 0x004) return value(this.peripherals.length);
    const i = (offset - 0x100) / 4;
    if (offset >= 0x100 && i < this.peripherals.length) return value(this.worlds[i] === 'non-secure' ? 1 : 0);
    return denied(`no TZPC register at 0x${offset.toString(16)}`);
  }

  writeRegister(offset: number, v: number, _access: Access): MmioWrite {
    if (offset === 0x000) {
      if (v !== 0 && !this.locked) {
        this.locked = true;
        this.ctx.record('tzpc.lock', null);
      }
      return DONE;
    }
    const i = (offset - 0x100) / 4;
    if (offset < 0x100 || i >= this.peripherals.length)
      return denied(`no writable TZPC register at 0x${offset.toString(16)}`);
    const world: World = (v & 1) === 1 ? 'non-secure' : 'secure';
    if (world === this.worlds[i]) return DONE;
    if (this.locked) return denied('TZPC configuration is locked');
    this.worlds[i] = world;
    this.ctx.record('tzpc.set', { device: this.peripherals[i] as string, world });
    return DONE;
  }

  snapshot(): TzpcSnapshot {
    return { worlds: [...this.worlds], locked: this.locked };
  }

  restore(s: TzpcSnapshot): void {
    assert(s.worlds.length === this.peripherals.length, 'TZPC snapshot does not match the board');
    this.worlds = [...s.worlds];
    this.locked = s.locked;
  }
}
