/**
 * In-memory implementations of the boot ports, so the ROM is tested on its own: NOR flash with power-cut
 * injection, NV counters, OTP, the security controllers with a lock, and recording secure/normal worlds.
 * Every port call is appended to one trace, so tests can assert the order of events.
 */
import type {
  BootDevice,
  FlashMedium,
  KernelHandoff,
  MonotonicCounters,
  NormalWorldHandoff,
  RootOfTrust,
  SecurityConfiguration,
  SecurityConfigurator,
  TrustedApplicationHandoff,
} from '../../src/boot/ports.js';

export class PowerCut extends Error {
  constructor(operation: number) {
    super(`power cut during flash operation ${operation}`);
  }
}

export type Trace = string[];

/** NOR flash: erase sets 0xFF per block; program ANDs bits in. A cut operation does half its work. */
export class MemoryFlash implements FlashMedium {
  readonly bytes: Uint8Array;
  readonly eraseBlockSize: number;
  /** Erase and program operations performed so far. */
  operations = 0;
  /** When set, the operation with this number (1-based, counted from now on) is cut halfway. */
  cutAtOperation: number | undefined;

  constructor(size: number, eraseBlockSize: number) {
    this.bytes = new Uint8Array(size).fill(0xff);
    this.eraseBlockSize = eraseBlockSize;
  }

  get size(): number {
    return this.bytes.length;
  }

  read(offset: number, length: number): Uint8Array {
    this.check(offset, length);
    return this.bytes.slice(offset, offset + length);
  }

  erase(offset: number, length: number): void {
    this.check(offset, length);
    if (offset % this.eraseBlockSize !== 0 || length % this.eraseBlockSize !== 0)
      throw new RangeError(`erase of ${length} at ${offset} is not block-aligned`);
    const cut = this.tick();
    this.bytes.fill(0xff, offset, offset + (cut ? Math.floor(length / 2) : length));
    if (cut) throw new PowerCut(this.operations);
  }

  program(offset: number, data: Uint8Array): void {
    this.check(offset, data.length);
    const cut = this.tick();
    const n = cut ? Math.floor(data.length / 2) : data.length;
    for (let i = 0; i < n; i++)
      this.bytes[offset + i] = (this.bytes[offset + i] as number) & (data[i] as number);
    if (cut) throw new PowerCut(this.operations);
  }

  /** An attacker with physical access (or bit rot): XORs bytes in place, bypassing erase/program. */
  corrupt(offset: number, xor = 0x01): void {
    this.bytes[offset] = (this.bytes[offset] as number) ^ xor;
  }

  private tick(): boolean {
    this.operations++;
    if (this.cutAtOperation !== undefined && --this.cutAtOperation === 0) {
      this.cutAtOperation = undefined;
      return true;
    }
    return false;
  }

  private check(offset: number, length: number): void {
    if (
      !Number.isInteger(offset) ||
      !Number.isInteger(length) ||
      offset < 0 ||
      length < 0 ||
      offset + length > this.size
    )
      throw new RangeError(`flash access ${offset}+${length} outside 0..${this.size}`);
  }
}

export class MemoryCounters implements MonotonicCounters {
  readonly values: number[];
  constructor(
    count: number,
    private readonly trace: Trace = [],
  ) {
    this.values = new Array<number>(count).fill(0);
  }
  get count(): number {
    return this.values.length;
  }
  read(index: number): number {
    const v = this.values[index];
    if (v === undefined) throw new RangeError(`no counter ${index}`);
    return v;
  }
  advanceTo(index: number, value: number): void {
    const v = this.read(index);
    if (value < v) throw new RangeError(`counter ${index} is ${v}; it cannot go back to ${value}`);
    this.values[index] = value;
    this.trace.push(`counter ${index} → ${value}`);
  }
}

export class MemoryOtp implements RootOfTrust {
  constructor(public hash: Uint8Array) {}
  rotpkHash(): Uint8Array {
    return this.hash.slice();
  }
}

const EMPTY: SecurityConfiguration = { regions: [], peripherals: [], interrupts: [] };

/** TZASC + TZPC + interrupt groups with a lock bit; `faulty` makes it misbehave as a broken controller would. */
export class MemorySecurityControllers implements SecurityConfigurator {
  config: SecurityConfiguration = EMPTY;
  locked = false;
  faulty: 'none' | 'lock-does-not-stick' | 'drops-a-region' = 'none';
  constructor(private readonly trace: Trace) {}
  apply(config: SecurityConfiguration): void {
    if (this.locked) throw new Error('security controllers are locked');
    this.config = structuredClone(config) as SecurityConfiguration;
    if (this.faulty === 'drops-a-region')
      this.config = { ...this.config, regions: this.config.regions.slice(1) };
    this.trace.push('security apply');
  }
  readBack(): SecurityConfiguration {
    return structuredClone(this.config) as SecurityConfiguration;
  }
  lock(): void {
    if (this.faulty !== 'lock-does-not-stick') this.locked = true;
    this.trace.push('security lock');
  }
  isLocked(): boolean {
    return this.locked;
  }
  reset(): void {
    this.config = EMPTY;
    this.locked = false;
  }
}

export class RecordingSecureWorld {
  kernel: KernelHandoff | undefined;
  apps: TrustedApplicationHandoff[] = [];
  /** Trusted applications whose start throws (a crashing TA in a bad update). */
  failing: (app: TrustedApplicationHandoff) => boolean = () => false;
  /** Runs when the kernel starts (e.g. an attacker rewriting flash behind the ROM's back). */
  onKernelStart: () => void = () => {};
  constructor(private readonly trace: Trace) {}
  startKernel(handoff: KernelHandoff): void {
    this.kernel = handoff;
    this.trace.push(`kernel start (bank ${handoff.bank}, ${handoff.image.version})`);
    this.onKernelStart();
  }
  startTrustedApplication(app: TrustedApplicationHandoff): void {
    if (this.failing(app)) throw new Error(`${app.name} crashed in TA_CreateEntryPoint`);
    this.apps.push(app);
    this.trace.push(`ta start ${app.name}`);
  }
  reset(): void {
    this.kernel = undefined;
    this.apps = [];
  }
}

export class RecordingNormalWorld {
  started: NormalWorldHandoff | undefined;
  lockedAtStart: boolean | undefined;
  constructor(
    private readonly trace: Trace,
    private readonly security: SecurityConfigurator,
  ) {}
  start(handoff: NormalWorldHandoff): void {
    this.started = handoff;
    this.lockedAtStart = this.security.isLocked();
    this.trace.push(`normal world start (bank ${handoff.bank})`);
  }
  reset(): void {
    this.started = undefined;
  }
}

export interface MemoryDevice extends BootDevice {
  readonly flash: MemoryFlash;
  readonly counters: MemoryCounters;
  readonly rootOfTrust: MemoryOtp;
  readonly security: MemorySecurityControllers;
  readonly secureWorld: RecordingSecureWorld;
  readonly normalWorld: RecordingNormalWorld;
  readonly trace: Trace;
  /** Power off and on: volatile state is lost (not recorded in the trace); fuses, counters and flash stay. */
  powerCycle(): void;
}

export function memoryDevice(options: {
  rotpkHash: Uint8Array;
  flashSize: number;
  eraseBlockSize: number;
}): MemoryDevice {
  const trace: Trace = [];
  const security = new MemorySecurityControllers(trace);
  const secureWorld = new RecordingSecureWorld(trace);
  const normalWorld = new RecordingNormalWorld(trace, security);
  return {
    trace,
    flash: new MemoryFlash(options.flashSize, options.eraseBlockSize),
    counters: new MemoryCounters(4, trace),
    rootOfTrust: new MemoryOtp(options.rotpkHash),
    security,
    secureWorld,
    normalWorld,
    reset: {
      warmReset() {
        security.reset();
        secureWorld.reset();
        normalWorld.reset();
        trace.push('warm reset');
      },
    },
    powerCycle() {
      security.reset();
      secureWorld.reset();
      normalWorld.reset();
    },
  };
}
