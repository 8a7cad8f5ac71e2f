/**
 * TrustZone Address Space Controller (in the manner of the Arm CoreLink TZC-400): one security attribute
 * per memory region of the chip. Reset state: every region secure, unlocked. Once locked (one-way until
 * reset) no attribute can change. The window itself is reachable from the secure world only.
 *
 * A region the board declares secure is backed by unshareable memory and can never be made non-secure;
 * a region whose buffer has been handed to a non-secure context can never be made secure again (the
 * buffer cannot be taken back from an isolate), until reset.
 *
 * Register map (32-bit registers, offsets from the window base):
 *   0x000 LOCK          R: 1 when locked. W: non-zero locks the configuration (0 is ignored).
 *   0x004 REGION_COUNT  R: number of regions.
 *   0x100 + 4·i ATTR[i] R/W: 0 = secure, 1 = non-secure (region i in board order).
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
import type { MemoryRegion } from '../memory.js';

export interface TzascSnapshot {
  readonly attributes: readonly World[];
  readonly locked: boolean;
  readonly exported: readonly boolean[];
  readonly [key: string]: Json;
}

export class Tzasc implements MmioDevice<TzascSnapshot> {
  readonly kind = 'tzasc';
  readonly windowSize = 0x1000;
  private attributes: World[];
  private exportedFlags: boolean[];
  private locked = false;

  constructor(
    readonly name: string,
    private readonly regions: readonly MemoryRegion[],
    private readonly ctx: DeviceContext,
  ) {
    assert(regions.length <= 0x300, 'too many regions for the TZASC window');
    this.attributes = regions.map(() => 'secure');
    this.exportedFlags = regions.map(() => false);
  }

  get isLocked(): boolean {
    return this.locked;
  }

  /** Current attribute of a region of this chip. */
  worldOf(region: MemoryRegion): World {
    const i = this.regions.indexOf(region);
    assert(i >= 0, `region ${region.name} not behind this TZASC`);
    return this.attributes[i] as World;
  }

  /** Marks a region as handed to a non-secure context (see `Chip.nonSecureBuffer`). */
  markExported(region: MemoryRegion): void {
    const i = this.regions.indexOf(region);
    assert(i >= 0 && this.attributes[i] === 'non-secure', `region ${region.name} is not non-secure`);
    this.exportedFlags[i] = true;
  }

  reset(): void {
    this.attributes = this.regions.map(() => 'secure');
    this.exportedFlags = this.regions.map(() => false);
    this.locked = false;
  }

  readRegister(offset: number, _access: Access): MmioRead {
    if (offset === 0x000) return value(this.locked ? 1 : 0);
    if (offset === 0x004) return value(this.regions.length);
    const i = (offset - 0x100) / 4;
    if (offset >= 0x100 && i < this.regions.length) return value(this.attributes[i] === 'non-secure' ? 1 : 0);
    return denied(`no TZASC register at 0x${offset.toString(16)}`);
  }

  writeRegister(offset: number, v: number, _access: Access): MmioWrite {
    if (offset === 0x000) {
      if (v !== 0 && !this.locked) {
        this.locked = true;
        this.ctx.record('tzasc.lock', null);
      }
      return DONE;
    }
    const i = (offset - 0x100) / 4;
    if (offset < 0x100 || i >= this.regions.length)
      return denied(`no writable TZASC register at 0x${offset.toString(16)}`);
    const region = this.regions[i] as MemoryRegion;
    const world: World = (v & 1) === 1 ? 'non-secure' : 'secure';
    if (world === this.attributes[i]) return DONE;
    if (this.locked) return denied('TZASC configuration is locked');
    if (world === 'non-secure' && region.declaredSecurity !== 'non-secure')
      return denied(`region ${region.name} is backed by secure memory and cannot be made non-secure`);
    if (world === 'secure' && this.exportedFlags[i])
      return denied(`region ${region.name} was handed to a non-secure context and cannot be made secure`);
    this.attributes[i] = world;
    this.ctx.record('tzasc.set', { region: region.name, world });
    return DONE;
  }

  snapshot(): TzascSnapshot {
    return { attributes: [...this.attributes], locked: this.locked, exported: [...this.exportedFlags] };
  }

  restore(s: TzascSnapshot): void {
    assert(s.attributes.length === this.regions.length, 'TZASC snapshot does not match the board');
    this.attributes = [...s.attributes];
    this.exportedFlags = [...s.exported];
    this.locked = s.locked;
  }
}
