/**
 * What the emulated ECUs share: a node on the vehicle CAN bus that checks the rolling counter and CRC of
 * the protected frames it consumes (counting what it rejects), learns the vehicle speed from the engine's
 * status frames, and runs a diagnostic server on its 29-bit request identifier.
 */
import { assert } from '../../common/errors.js';
import type { Json } from '../device.js';
import type { VirtualClock } from '../clock.js';
import type { Trace } from '../trace.js';
import type { CanBus, CanEndpoint, CanPort } from '../links/can-bus.js';
import { E2eReceiver } from '../../lib/can/e2e.js';
import { canFrame, type CanFrame } from '../../lib/can/frame.js';
import { isoTpPayload, isoTpSingleFrame } from '../../lib/can/uds.js';
import { ENGINE_STATUS, diagRequestId, diagResponseId } from '../../lib/can/vehicle-can.js';
import { DiagnosticServer, type DiagnosticTarget } from './uds.js';

export interface EcuOptions {
  readonly diagAddress: number;
  readonly diagSpeedLimitKmh: number;
}

export interface EcuCounters {
  accepted: number;
  crc: number;
  counter: number;
  [key: string]: number;
}

export interface EcuSnapshot {
  readonly state: Json;
  readonly speedKmh: number;
  readonly session: string;
  readonly lastRequestNs: number;
  readonly receivers: Readonly<Record<string, number | null>>;
  readonly counters: Readonly<Record<string, number>>;
  readonly [key: string]: Json;
}

export abstract class Ecu implements CanEndpoint, DiagnosticTarget {
  abstract readonly kind: string;
  protected port: CanPort | undefined;
  protected readonly diag: DiagnosticServer;
  protected knownSpeedKmh = 0;
  protected receivers = new Map<number, E2eReceiver>();
  /** Protected frames accepted and rejected (by reason). */
  readonly counters: EcuCounters = { accepted: 0, crc: 0, counter: 0 };
  readonly target: string;
  readonly diagAddress: number;
  readonly diagSpeedLimitKmh: number;

  constructor(
    readonly name: string,
    options: EcuOptions,
    protected readonly clock: VirtualClock,
    protected readonly trace: Trace,
  ) {
    this.diagAddress = options.diagAddress;
    this.diagSpeedLimitKmh = options.diagSpeedLimitKmh;
    this.diag = new DiagnosticServer(this);
    this.target = `node:${name}`;
    clock.register(this.target, (action, data) => this.handleEvent(action, data));
  }

  connect(bus: CanBus): void {
    assert(!this.port, `${this.name} connected twice`);
    this.port = bus.attach(this.target, this);
  }

  speedKmh(): number {
    return this.knownSpeedKmh;
  }

  /** The diagnostic session the ECU is in (after applying the S3 timeout). */
  session(): 'default' | 'extended' {
    this.diag.expire(this.clock.nowNs);
    return this.diag.session;
  }

  receive(frame: CanFrame, timeNs: number): void {
    if (frame.extended) {
      if (frame.id !== diagRequestId(this.diagAddress) || frame.remote) return;
      const req = isoTpPayload(frame.data);
      if (!req) return;
      const resp = this.diag.handle(req, timeNs);
      this.trace.record(this.target, 'diag.request', {
        request: Buffer.from(req).toString('hex'),
        response: resp ? Buffer.from(resp).toString('hex') : null,
      });
      if (resp)
        this.send(canFrame(diagResponseId(this.diagAddress), isoTpSingleFrame(resp), { extended: true }));
      return;
    }
    if (!this.consumes(frame.id)) return;
    let r = this.receivers.get(frame.id);
    if (!r) this.receivers.set(frame.id, (r = new E2eReceiver()));
    const check = r.check(frame.id, frame.data);
    if (!check.ok) {
      if (check.code === 'CRC' || check.code === 'LENGTH') this.counters.crc++;
      else this.counters.counter++;
      this.trace.record(this.target, 'e2e.reject', { id: frame.id, code: check.code });
      return;
    }
    this.counters.accepted++;
    if (frame.id === ENGINE_STATUS) this.knownSpeedKmh = frame.data[2] as number;
    this.onFrame(frame, timeNs);
  }

  protected send(frame: CanFrame): void {
    this.port?.transmit(frame);
  }

  /** Normal (11-bit) identifiers this ECU consumes. */
  protected abstract consumes(id: number): boolean;
  /** A consumed frame passed the counter and CRC checks. */
  protected abstract onFrame(frame: CanFrame, timeNs: number): void;
  protected handleEvent(_action: string, _data: Json): void {}

  abstract readData(did: number): number[] | undefined;
  abstract startRoutine(routine: number): boolean;
  abstract ioControl(did: number, option: number, params: Uint8Array): boolean;
  abstract sessionEnded(): void;

  /** ECU-specific observable state. */
  abstract state(): Json;
  protected abstract setState(state: Json): void;
  protected abstract resetState(): void;

  reset(): void {
    this.clock.cancel(this.target);
    this.knownSpeedKmh = 0;
    this.receivers = new Map();
    this.diag.session = 'default';
    this.diag.lastRequestNs = 0;
    this.counters.accepted = this.counters.crc = this.counters.counter = 0;
    this.resetState();
  }

  snapshot(): EcuSnapshot {
    const receivers: Record<string, number | null> = {};
    for (const [id, r] of this.receivers) receivers[String(id)] = r.lastCounter ?? null;
    return {
      state: this.state(),
      speedKmh: this.knownSpeedKmh,
      session: this.diag.session,
      lastRequestNs: this.diag.lastRequestNs,
      receivers,
      counters: { ...this.counters },
    };
  }

  restore(s: EcuSnapshot): void {
    this.setState(s.state);
    this.knownSpeedKmh = s.speedKmh;
    this.diag.session = s.session === 'extended' ? 'extended' : 'default';
    this.diag.lastRequestNs = s.lastRequestNs;
    this.receivers = new Map();
    for (const [id, last] of Object.entries(s.receivers)) {
      const r = new E2eReceiver();
      r.lastCounter = last ?? undefined;
      this.receivers.set(Number(id), r);
    }
    Object.assign(this.counters, s.counters);
  }
}
