/**
 * Memory Protection Unit of a microcontroller without TrustZone (in the manner of the Armv7-M MPU,
 * simplified): up to 16 regions, each an address range with access rights for privileged and
 * unprivileged code. It checks every access a CPU of its chip issues (DMA is not subject to it, as on the
 * real part). When enabled, the highest-numbered enabled region containing the whole access decides;
 * an access in no region is allowed only to privileged code and only when PRIVDEFENA is set.
 * Its own registers are writable by privileged code only.
 *
 * Register map:
 *   0x000 CTRL       R/W: bit 0 ENABLE, bit 1 PRIVDEFENA (privileged default map).
 *   0x004 TYPE       R: number of regions.
 *   0x010 + 0x10·i   REGION_BASE[i]   R/W: first address of region i.
 *   0x014 + 0x10·i   REGION_LIMIT[i]  R/W: last address of region i (inclusive).
 *   0x018 + 0x10·i   REGION_ATTR[i]   R/W: bit 0 enable, bit 1 privileged write, bit 2 unprivileged read,
 *                                     bit 3 unprivileged write (privileged read is always allowed).
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
} from '../device.js';
import type { DeviceContext, Json } from '../device.js';
import type { AccessKind } from '../bus.js';

interface MpuRegion {
  base: number;
  limit: number;
  attr: number;
}

export interface MpuSnapshot {
  readonly ctrl: number;
  readonly regions: readonly { readonly base: number; readonly limit: number; readonly attr: number }[];
  readonly [key: string]: Json;
}

const ENABLE = 1;
const PRIVDEFENA = 2;

export class Mpu implements MmioDevice<MpuSnapshot> {
  readonly kind = 'mpu';
  readonly windowSize = 0x1000;
  private ctrl = 0;
  private regions: MpuRegion[];

  constructor(
    readonly name: string,
    readonly regionCount: number,
    private readonly ctx: DeviceContext,
  ) {
    assert(regionCount >= 1 && regionCount <= 16, 'MPU region count out of range');
    this.regions = this.emptyRegions();
  }

  private emptyRegions(): MpuRegion[] {
    return Array.from({ length: this.regionCount }, () => ({ base: 0, limit: 0, attr: 0 }));
  }

  get enabled(): boolean {
    return (this.ctrl & ENABLE) !== 0;
  }

  /** The decision for one CPU access: a denial reason, or undefined. */
  denies(privileged: boolean, address: number, size: number, access: AccessKind): string | undefined {
    if (!this.enabled) return undefined;
    const last = address + Math.max(size, 1) - 1;
    for (let i = this.regions.length - 1; i >= 0; i--) {
      const r = this.regions[i] as MpuRegion;
      if ((r.attr & 1) === 0 || address < r.base || last > r.limit) continue;
      const allowed = privileged
        ? access === 'read' || (r.attr & 2) !== 0
        : access === 'read'
          ? (r.attr & 4) !== 0
          : (r.attr & 8) !== 0;
      return allowed
        ? undefined
        : `MPU region ${i} forbids ${privileged ? 'privileged' : 'unprivileged'} ${access}`;
    }
    if (privileged && (this.ctrl & PRIVDEFENA) !== 0) return undefined;
    return 'no MPU region covers the access';
  }

  reset(): void {
    this.ctrl = 0;
    this.regions = this.emptyRegions();
  }

  readRegister(offset: number, _a: Access): MmioRead {
    if (offset === 0x000) return value(this.ctrl);
    if (offset === 0x004) return value(this.regionCount);
    const r = this.regionAt(offset);
    if (!r) return denied(`no MPU register at 0x${offset.toString(16)}`);
    return value(r.region[r.field]);
  }

  writeRegister(offset: number, v: number, a: Access): MmioWrite {
    if (!a.privileged) return denied('MPU registers are privileged');
    if (offset === 0x000) {
      this.ctrl = v & 3;
      this.ctx.record('mpu.ctrl', { enable: (v & ENABLE) !== 0, privdefena: (v & PRIVDEFENA) !== 0 });
      return DONE;
    }
    const r = this.regionAt(offset);
    if (!r) return denied(`no writable MPU register at 0x${offset.toString(16)}`);
    r.region[r.field] = r.field === 'attr' ? v & 0xf : v >>> 0;
    this.ctx.record('mpu.region', { index: r.index, [r.field]: r.region[r.field] });
    return DONE;
  }

  private regionAt(offset: number): { region: MpuRegion; index: number; field: keyof MpuRegion } | undefined {
    if (offset < 0x010) return undefined;
    const index = (offset - 0x010) >> 4;
    const field = (['base', 'limit', 'attr'] as const)[((offset - 0x010) & 0xf) >> 2];
    const region = this.regions[index];
    if (!region || !field || offset % 4 !== 0) return undefined;
    return { region, index, field };
  }

  snapshot(): MpuSnapshot {
    return { ctrl: this.ctrl, regions: this.regions.map((r) => ({ ...r })) };
  }

  restore(s: MpuSnapshot): void {
    assert(s.regions.length === this.regionCount, 'MPU snapshot does not match the board');
    this.ctrl = s.ctrl;
    this.regions = s.regions.map((r) => ({ ...r }));
  }
}
