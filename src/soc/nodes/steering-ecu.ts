/**
 * Electric power steering ECU. Applies the park-assist torque of valid STEERING_TORQUE frames, but only
 * while the vehicle is slower than its park-assist limit (the diagnostic speed limit); above it, the
 * request is ignored and no torque is applied. Diagnostics: sessions and ReadDataByIdentifier.
 */
import type { Json } from '../device.js';
import type { VirtualClock } from '../clock.js';
import type { Trace } from '../trace.js';
import type { CanFrame } from '../../lib/can/frame.js';
import { Ecu, type EcuOptions } from './ecu.js';
import { DID_STATE, ENGINE_STATUS, STEERING_TORQUE } from '../../lib/can/vehicle-can.js';

export interface SteeringState {
  /** Torque applied to the steering column, in 0.01 N·m (signed). */
  torqueCentiNm: number;
  /** Requests ignored because the vehicle was too fast. */
  ignoredAtSpeed: number;
}

export class SteeringEcu extends Ecu {
  readonly kind = 'steering-ecu';
  private s: SteeringState = initial();

  constructor(name: string, options: EcuOptions, clock: VirtualClock, trace: Trace) {
    super(name, options, clock, trace);
  }

  protected consumes(id: number): boolean {
    return id === STEERING_TORQUE || id === ENGINE_STATUS;
  }

  protected onFrame(frame: CanFrame): void {
    if (frame.id === ENGINE_STATUS) {
      if (this.knownSpeedKmh > this.diagSpeedLimitKmh) this.setTorque(0);
      return;
    }
    if (this.knownSpeedKmh > this.diagSpeedLimitKmh) {
      this.s.ignoredAtSpeed++;
      return this.setTorque(0);
    }
    const raw = ((frame.data[0] as number) << 8) | (frame.data[1] as number);
    this.setTorque(raw >= 0x8000 ? raw - 0x10000 : raw);
  }

  private setTorque(t: number): void {
    if (t !== this.s.torqueCentiNm) this.trace.record(this.target, 'steering.torque', { centiNm: t });
    this.s.torqueCentiNm = t;
  }

  readData(did: number): number[] | undefined {
    if (did !== DID_STATE) return undefined;
    const t = this.s.torqueCentiNm & 0xffff;
    return [t >> 8, t & 0xff];
  }

  startRoutine(): boolean {
    return false;
  }

  ioControl(): boolean {
    return false;
  }

  sessionEnded(): void {}

  state(): SteeringState & { [key: string]: Json } {
    return { ...this.s };
  }

  protected setState(state: Json): void {
    this.s = { ...(state as unknown as SteeringState) };
  }

  protected resetState(): void {
    this.s = initial();
  }
}

function initial(): SteeringState {
  return { torqueCentiNm: 0, ignoredAtSpeed: 0 };
}
