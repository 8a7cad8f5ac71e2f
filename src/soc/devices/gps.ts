/**
 * GPS receiver producing a deterministic position stream: while enabled, one fix per virtual second.
 * The vehicle starts at the board's origin and drives with a heading and speed that wander by a seeded
 * random walk, so one seed gives one route. Each fix raises the interrupt when enabled.
 *
 * Register map (signed values in two's complement):
 *   0x000 CTRL          R/W: bit 0 enable.
 *   0x004 STATUS        R: bit 0 fix valid.
 *   0x008 LAT_E7        R: latitude in 1e-7 degrees.
 *   0x00C LON_E7        R: longitude in 1e-7 degrees.
 *   0x010 ALT_CM        R: altitude in centimetres.
 *   0x014 SPEED_CMPS    R: ground speed in cm/s.
 *   0x018 HEADING_CDEG  R: heading in 0.01 degrees, clockwise from north.
 *   0x01C FIX_COUNT     R: fixes since reset.
 *   0x020 FIX_TIME_MS   R: virtual time of the fix, milliseconds (low 32 bits).
 *   0x024 INT_STATUS    R, W1C: bit 0 new fix.   0x028 INT_ENABLE  R/W.
 */
import { DONE, denied, value } from '../device.js';
import type { Access, DeviceContext, Json, MmioDevice, MmioRead, MmioWrite } from '../device.js';

export const FIX_INTERVAL_NS = 1_000_000_000;
const METRES_PER_DEGREE = 111_320;

export interface GpsOrigin {
  readonly latitude: number;
  readonly longitude: number;
  readonly altitudeM: number;
}

export interface GpsFix {
  readonly valid: boolean;
  readonly latitude: number;
  readonly longitude: number;
  readonly altitudeM: number;
  readonly speedMps: number;
  readonly headingDeg: number;
  readonly timeNs: number;
  readonly count: number;
}

export interface GpsSnapshot {
  readonly fix: GpsFix & { readonly [key: string]: Json };
  readonly ctrl: number;
  readonly intStatus: number;
  readonly intEnable: number;
  readonly random: readonly [number, number, number, number];
  readonly [key: string]: Json;
}

export class Gps implements MmioDevice<GpsSnapshot> {
  readonly kind = 'gps';
  readonly windowSize = 0x1000;
  private fixState: GpsFix;
  private ctrl = 0;
  private intStatus = 0;
  private intEnable = 0;

  constructor(
    readonly name: string,
    private readonly origin: GpsOrigin,
    private readonly maxSpeedMps: number,
    private readonly ctx: DeviceContext,
  ) {
    this.fixState = this.initial();
  }

  private initial(): GpsFix {
    return {
      valid: false,
      latitude: this.origin.latitude,
      longitude: this.origin.longitude,
      altitudeM: this.origin.altitudeM,
      speedMps: 0,
      headingDeg: this.ctx.random.below(36000) / 100,
      timeNs: 0,
      count: 0,
    };
  }

  /** The latest fix (host view). */
  fix(): GpsFix {
    return this.fixState;
  }

  reset(): void {
    this.ctx.cancelEvents();
    this.ctrl = this.intStatus = this.intEnable = 0;
    this.fixState = this.initial();
  }

  handleEvent(_action: string, _data: Json): void {
    if ((this.ctrl & 1) === 0) return;
    const f = this.fixState;
    const r = this.ctx.random;
    const dt = f.count === 0 ? 0 : FIX_INTERVAL_NS / 1e9;
    const heading = (f.headingDeg + (r.below(1001) - 500) / 100 + 360) % 360;
    const speed = Math.min(this.maxSpeedMps, Math.max(0, f.speedMps + (r.below(201) - 100) / 100));
    const rad = (heading * Math.PI) / 180;
    const latitude = f.latitude + (speed * dt * Math.cos(rad)) / METRES_PER_DEGREE;
    const longitude =
      f.longitude +
      (speed * dt * Math.sin(rad)) / (METRES_PER_DEGREE * Math.cos((f.latitude * Math.PI) / 180));
    this.fixState = {
      valid: true,
      latitude,
      longitude,
      altitudeM: f.altitudeM,
      speedMps: speed,
      headingDeg: heading,
      timeNs: this.ctx.clock.nowNs,
      count: f.count + 1,
    };
    this.ctx.record('gps.fix', { latE7: Math.round(latitude * 1e7), lonE7: Math.round(longitude * 1e7) });
    this.intStatus |= 1;
    if (this.intEnable & 1) this.ctx.raiseInterrupt();
    this.ctx.schedule(FIX_INTERVAL_NS, 'fix', null);
  }

  readRegister(offset: number, _a: Access): MmioRead {
    const f = this.fixState;
    switch (offset) {
      case 0x000:
        return value(this.ctrl);
      case 0x004:
        return value(f.valid ? 1 : 0);
      case 0x008:
        return value(Math.round(f.latitude * 1e7));
      case 0x00c:
        return value(Math.round(f.longitude * 1e7));
      case 0x010:
        return value(Math.round(f.altitudeM * 100));
      case 0x014:
        return value(Math.round(f.speedMps * 100));
      case 0x018:
        return value(Math.round(f.headingDeg * 100));
      case 0x01c:
        return value(f.count);
      case 0x020:
        return value(Math.floor(f.timeNs / 1e6));
      case 0x024:
        return value(this.intStatus);
      case 0x028:
        return value(this.intEnable);
    }
    return denied(`no GPS register at 0x${offset.toString(16)}`);
  }

  writeRegister(offset: number, v: number, _a: Access): MmioWrite {
    switch (offset) {
      case 0x000: {
        const was = this.ctrl & 1;
        this.ctrl = v & 1;
        if (!was && this.ctrl) this.ctx.schedule(0, 'fix', null);
        if (was && !this.ctrl) this.ctx.cancelEvents();
        return DONE;
      }
      case 0x024:
        this.intStatus &= ~v;
        return DONE;
      case 0x028:
        this.intEnable = v & 1;
        return DONE;
    }
    return denied(`no writable GPS register at 0x${offset.toString(16)}`);
  }

  snapshot(): GpsSnapshot {
    return {
      fix: { ...this.fixState },
      ctrl: this.ctrl,
      intStatus: this.intStatus,
      intEnable: this.intEnable,
      random: this.ctx.random.state(),
    };
  }

  restore(s: GpsSnapshot): void {
    this.fixState = { ...s.fix };
    this.ctrl = s.ctrl;
    this.intStatus = s.intStatus;
    this.intEnable = s.intEnable;
    this.ctx.random.setState(s.random);
  }
}
