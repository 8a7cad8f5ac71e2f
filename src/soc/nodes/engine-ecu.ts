/**
 * Engine ECU (powertrain control module). Broadcasts ENGINE_STATUS every 100 ms — engine speed, vehicle
 * speed and whether the engine runs — protected by counter and CRC. The vehicle speed is set by the host
 * (the driver in a lab scenario). Diagnostics: RoutineControl ROUTINE_ENGINE_STOP (a cylinder cut-out
 * test) stops the engine, in the extended session and below the diagnostic speed limit only.
 */
import type { Json } from '../device.js';
import type { VirtualClock } from '../clock.js';
import type { Trace } from '../trace.js';
import type { CanBus } from '../links/can-bus.js';
import { protect } from '../../lib/can/e2e.js';
import { canFrame } from '../../lib/can/frame.js';
import { Ecu, type EcuOptions } from './ecu.js';
import {
  DID_STATE,
  ENGINE_STATUS,
  ENGINE_STATUS_PERIOD_NS,
  ROUTINE_ENGINE_STOP,
} from '../../lib/can/vehicle-can.js';

export interface EngineState {
  running: boolean;
  rpm: number;
  speedKmh: number;
  counter: number;
}

const IDLE_RPM = 800;

export class EngineEcu extends Ecu {
  readonly kind = 'engine-ecu';
  private s: EngineState = initial();

  constructor(name: string, options: EcuOptions, clock: VirtualClock, trace: Trace) {
    super(name, options, clock, trace);
  }

  override connect(bus: CanBus): void {
    super.connect(bus);
    this.clock.schedule(ENGINE_STATUS_PERIOD_NS, this.target, 'status');
  }

  /** Host (driver): the vehicle's speed. */
  setSpeed(kmh: number): void {
    this.s.speedKmh = Math.max(0, Math.min(255, Math.round(kmh)));
    this.knownSpeedKmh = this.s.speedKmh;
    if (this.s.running) this.s.rpm = IDLE_RPM + this.s.speedKmh * 25;
  }

  /** Host (driver): turns the key. */
  startEngine(): void {
    this.s.running = true;
    this.s.rpm = IDLE_RPM + this.s.speedKmh * 25;
    this.trace.record(this.target, 'engine.start', null);
  }

  protected override handleEvent(action: string, _data: Json): void {
    if (action !== 'status') return;
    const s = this.s;
    s.counter = (s.counter + 1) & 0x0f;
    const payload = [s.rpm >> 8, s.rpm & 0xff, s.speedKmh, s.running ? 1 : 0, 0, 0, 0];
    this.send(canFrame(ENGINE_STATUS, protect(ENGINE_STATUS, payload, s.counter)));
    this.clock.schedule(ENGINE_STATUS_PERIOD_NS, this.target, 'status');
  }

  protected consumes(): boolean {
    return false;
  }

  protected onFrame(): void {}

  override speedKmh(): number {
    return this.s.speedKmh;
  }

  readData(did: number): number[] | undefined {
    if (did !== DID_STATE) return undefined;
    return [this.s.running ? 1 : 0, this.s.rpm >> 8, this.s.rpm & 0xff, this.s.speedKmh];
  }

  startRoutine(routine: number): boolean {
    if (routine !== ROUTINE_ENGINE_STOP) return false;
    this.s.running = false;
    this.s.rpm = 0;
    this.trace.record(this.target, 'engine.stop', { by: 'diagnostic routine' });
    return true;
  }

  ioControl(): boolean {
    return false;
  }

  sessionEnded(): void {}

  state(): EngineState & { [key: string]: Json } {
    return { ...this.s };
  }

  protected setState(state: Json): void {
    this.s = { ...(state as unknown as EngineState) };
  }

  protected resetState(): void {
    this.s = initial();
    if (this.port) this.clock.schedule(ENGINE_STATUS_PERIOD_NS, this.target, 'status');
  }
}

function initial(): EngineState {
  return { running: true, rpm: IDLE_RPM, speedKmh: 0, counter: 0 };
}
