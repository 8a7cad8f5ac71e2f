/**
 * Brake ECU (ABS module). Applies the pressure requested by valid BRAKE_REQUEST frames. Diagnostics:
 * InputOutputControlByIdentifier IO_BRAKE_BLEED with shortTermAdjustment (0x03) opens the bleed valves —
 * the brakes then build no pressure — until returnControlToECU (0x00) or the end of the extended session;
 * extended session and below the diagnostic speed limit only.
 */
import type { Json } from '../device.js';
import type { VirtualClock } from '../clock.js';
import type { Trace } from '../trace.js';
import type { CanFrame } from '../../lib/can/frame.js';
import { Ecu, type EcuOptions } from './ecu.js';
import { BRAKE_REQUEST, DID_STATE, ENGINE_STATUS, IO_BRAKE_BLEED } from '../../lib/can/vehicle-can.js';

export interface BrakeState {
  /** Pressure the driver-assist requested, bar. */
  requestedBar: number;
  /** Pressure applied, bar (0 while bleeding). */
  pressureBar: number;
  bleeding: boolean;
}

export class BrakeEcu extends Ecu {
  readonly kind = 'brake-ecu';
  private s: BrakeState = initial();

  constructor(name: string, options: EcuOptions, clock: VirtualClock, trace: Trace) {
    super(name, options, clock, trace);
  }

  protected consumes(id: number): boolean {
    return id === BRAKE_REQUEST || id === ENGINE_STATUS;
  }

  protected onFrame(frame: CanFrame): void {
    if (frame.id !== BRAKE_REQUEST) return;
    this.s.requestedBar = frame.data[0] as number;
    this.apply();
  }

  private apply(): void {
    const pressure = this.s.bleeding ? 0 : this.s.requestedBar;
    if (pressure !== this.s.pressureBar) this.trace.record(this.target, 'brake.pressure', { bar: pressure });
    this.s.pressureBar = pressure;
  }

  readData(did: number): number[] | undefined {
    if (did !== DID_STATE) return undefined;
    return [this.s.pressureBar, this.s.requestedBar, this.s.bleeding ? 1 : 0];
  }

  startRoutine(): boolean {
    return false;
  }

  ioControl(did: number, option: number): boolean {
    if (did !== IO_BRAKE_BLEED || (option !== 0x00 && option !== 0x03)) return false;
    this.s.bleeding = option === 0x03;
    this.trace.record(this.target, 'brake.bleed', { open: this.s.bleeding });
    this.apply();
    return true;
  }

  sessionEnded(): void {
    if (!this.s.bleeding) return;
    this.s.bleeding = false;
    this.trace.record(this.target, 'brake.bleed', { open: false });
    this.apply();
  }

  state(): BrakeState & { [key: string]: Json } {
    return { ...this.s };
  }

  protected setState(state: Json): void {
    this.s = { ...(state as unknown as BrakeState) };
  }

  protected resetState(): void {
    this.s = initial();
  }
}

function initial(): BrakeState {
  return { requestedBar: 0, pressureBar: 0, bleeding: false };
}
