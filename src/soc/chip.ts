/**
 * One chip of a board: its CPUs, memory regions, devices, bus and security fabric (TZASC, TZPC, interrupt
 * controller, MPU), assembled from the board's chip declaration. The chip is created in its reset state:
 * every region and peripheral secure, every interrupt line in the secure group and disabled, nothing
 * locked — `bringUp` (or the boot ROM) programs the board's configuration through the registers.
 */
import { createHash } from 'node:crypto';
import { AssertionFailed, assert } from '../common/errors.js';
import { SeededRandom } from '../common/random.js';
import type { VirtualClock } from './clock.js';
import type { Trace } from './trace.js';
import { Bus, type BusResult } from './bus.js';
import { Cpu, DmaMaster, type CpuControl, type CpuSnapshot } from './cpu.js';
import type { DeviceContext, DmaPort, Json, MmioDevice, World } from './device.js';
import { MemoryRegion, type MemorySnapshot } from './memory.js';
import { FABRIC_KINDS, type ChipSpec, type DeviceSpec } from './board/schema.js';
import { Gic, type InterruptListener } from './devices/gic.js';
import { Tzasc } from './devices/tzasc.js';
import { Tzpc } from './devices/tzpc.js';
import { Mpu } from './devices/mpu.js';
import { Uart } from './devices/uart.js';
import { OtpFuses } from './devices/otp-fuses.js';
import { Trng } from './devices/trng.js';
import { NvCounters } from './devices/nv-counters.js';
import { NorFlash } from './devices/nor-flash.js';
import { EthernetNic } from './devices/ethernet-nic.js';
import { WifiNic } from './devices/wifi-nic.js';
import { CellularModem } from './devices/cellular-modem.js';
import { CanController } from './devices/can-controller.js';
import { SpiController } from './devices/spi-controller.js';
import { Gps } from './devices/gps.js';
import { Microphone } from './devices/microphone.js';
import { parseMac, type Segment } from './links/segment.js';
import type { CanBus } from './links/can-bus.js';
import type { SpiLink } from './links/spi-link.js';

export type Link = Segment | CanBus | SpiLink;

export interface ChipEnvironment {
  readonly clock: VirtualClock;
  readonly trace: Trace;
  readonly seed: number;
  readonly links: ReadonlyMap<string, Link>;
}

export interface ChipSnapshot {
  readonly cpus: readonly CpuSnapshot[];
  readonly memory: Readonly<Record<string, MemorySnapshot>>;
  readonly devices: Readonly<Record<string, Json>>;
  readonly [key: string]: Json;
}

export type NonSecureBuffer =
  | { readonly ok: true; readonly buffer: SharedArrayBuffer; readonly base: number }
  | { readonly ok: false; readonly code: 'NO_SUCH_REGION' | 'SECURE_REGION'; readonly reason: string };

/** A 32-bit seed for `path`, derived from the machine seed. */
export function deriveSeed(seed: number, path: string): number {
  return createHash('sha256').update(`${seed}/${path}`).digest().readUInt32LE(0);
}

export class Chip {
  readonly name: string;
  readonly trustzone: boolean;
  readonly cpus: readonly Cpu[];
  readonly regions: readonly MemoryRegion[];
  readonly devices: ReadonlyMap<string, MmioDevice>;
  readonly bus: Bus;
  readonly gic: Gic;
  readonly tzasc: Tzasc | undefined;
  readonly tzpc: Tzpc | undefined;
  readonly mpu: Mpu | undefined;
  private readonly bases = new Map<string, number>();
  private readonly irqLines = new Map<string, number>();
  private readonly cpuControl: CpuControl;
  private cpuControlTaken = false;

  constructor(
    readonly spec: ChipSpec,
    private readonly env: ChipEnvironment,
  ) {
    this.name = spec.name;
    this.trustzone = spec.trustzone;
    this.cpus = Array.from(
      { length: spec.cpu.count },
      (_, i) => new Cpu(`${spec.name}/cpu${i}`, i, spec.trustzone, spec.cpu.model),
    );
    this.cpuControl = Cpu.control(this.cpus, () => {});
    this.regions = spec.memory.map(
      (m) =>
        new MemoryRegion({
          name: m.name,
          kind: m.kind,
          base: m.base,
          size: m.size,
          security: spec.trustzone ? m.security : undefined,
        }),
    );

    const peripherals = spec.devices.filter((d) => !FABRIC_KINDS.has(d.kind)).map((d) => d.name);
    const devices = new Map<string, MmioDevice>();
    const masters: DmaMaster[] = [];
    let gic: Gic | undefined;
    let tzasc: Tzasc | undefined;
    let tzpc: Tzpc | undefined;
    let mpu: Mpu | undefined;
    for (const d of spec.devices) {
      this.bases.set(d.name, d.base);
      if (d.irq) this.irqLines.set(d.name, d.irq.line);
      const master = new DmaMaster(`${spec.name}/${d.name}`, () => this.worldOfPeripheral(d.name));
      if (!FABRIC_KINDS.has(d.kind)) masters.push(master);
      const ctx = this.contextFor(d, master);
      let device: MmioDevice;
      switch (d.kind) {
        case 'gic':
          device = gic = new Gic(d.name, d.lines, spec.cpu.count, ctx);
          break;
        case 'tzasc':
          device = tzasc = new Tzasc(d.name, this.regions, ctx);
          break;
        case 'tzpc':
          device = tzpc = new Tzpc(d.name, peripherals, ctx);
          break;
        case 'mpu':
          device = mpu = new Mpu(d.name, d.regions, ctx);
          break;
        default:
          device = this.createPeripheral(d, ctx);
      }
      devices.set(d.name, device);
      env.clock.register(ctx.path, (action, data) => device.handleEvent?.(action, data));
    }
    assert(gic, `chip ${spec.name} has no interrupt controller`);
    assert(!spec.trustzone || (tzasc && tzpc), `TrustZone chip ${spec.name} lacks a TZASC or TZPC`);
    this.gic = gic;
    this.tzasc = tzasc;
    this.tzpc = tzpc;
    this.mpu = mpu;
    this.devices = devices;
    this.bus = new Bus(
      spec.name,
      this.regions,
      spec.devices.map((d) => ({ device: devices.get(d.name) as MmioDevice, base: d.base })),
      [...this.cpus, ...masters],
      {
        regionWorld: (r) => this.tzasc?.worldOf(r),
        deviceWorld: (dev) => this.accessOf(dev),
        mpuDenies: (master, address, size, access) =>
          this.mpu && master.kind === 'cpu'
            ? this.mpu.denies(master.privileged, address, size, access)
            : undefined,
      },
      env.trace,
      () => env.clock.nowNs,
    );
  }

  private contextFor(d: DeviceSpec, master: DmaMaster): DeviceContext {
    const path = `${this.name}/${d.name}`;
    const { clock, trace } = this.env;
    const bus = () => this.bus;
    const dma: DmaPort = {
      read: (address, length) => bus().readBytes(master, address, length),
      write: (address, bytes) => bus().writeBytes(master, address, bytes),
      readU32: (address) => bus().read(master, address, 4),
      writeU32: (address, v) => bus().write(master, address, v, 4),
    };
    return {
      path,
      clock,
      trace,
      random: new SeededRandom(deriveSeed(this.env.seed, path)),
      dma,
      raiseInterrupt: () => {
        const line = this.irqLines.get(d.name);
        if (line !== undefined) this.gic.raise(line, path);
      },
      schedule: (delayNs, action, data) => clock.schedule(delayNs, path, action, data),
      cancelEvents: () => clock.cancel(path),
      record: (event, detail) => trace.record(path, event, detail),
    };
  }

  private createPeripheral(d: DeviceSpec, ctx: DeviceContext): MmioDevice {
    switch (d.kind) {
      case 'uart':
        return new Uart(d.name, ctx);
      case 'otp-fuses':
        return new OtpFuses(
          d.name,
          `${this.env.seed}/${ctx.path}`,
          ctx,
          d.rotpkHash === undefined ? undefined : { rotpkHash: d.rotpkHash },
        );
      case 'trng':
        return new Trng(d.name, ctx);
      case 'nv-counters':
        return new NvCounters(d.name, d.counters, d.max, ctx);
      case 'nor-flash':
        return new NorFlash(d.name, { size: d.size, blockSize: d.blockSize, pageSize: d.pageSize }, ctx);
      case 'ethernet-nic':
      case 'wifi-nic': {
        const mac = parseMac(d.mac);
        assert(mac, `bad MAC ${d.mac}`);
        const nic = d.kind === 'wifi-nic' ? new WifiNic(d.name, mac, ctx) : new EthernetNic(d.name, mac, ctx);
        nic.connect(this.link(d.link) as Segment);
        return nic;
      }
      case 'cellular-modem': {
        const modem = new CellularModem(d.name, d.address, ctx);
        modem.connect(this.link(d.link) as Segment);
        return modem;
      }
      case 'can-controller': {
        const can = new CanController(d.name, ctx);
        can.connect(this.link(d.link) as CanBus);
        return can;
      }
      case 'spi-controller': {
        const spi = new SpiController(d.name, d.role, ctx);
        spi.connect(this.link(d.link) as SpiLink);
        return spi;
      }
      case 'gps':
        return new Gps(d.name, d.origin, d.maxSpeedMps, ctx);
      case 'microphone':
        return new Microphone(d.name, d.sampleRate, ctx);
      default:
        throw new AssertionFailed(`not a peripheral kind: ${d.kind}`);
    }
  }

  private link(name: string): Link {
    const l = this.env.links.get(name);
    assert(l, `no link ${name}`);
    return l;
  }

  /** World of a peripheral (TZPC), `secure` on chips without TrustZone. */
  worldOfPeripheral(name: string): World {
    return this.tzpc ? this.tzpc.worldOf(name) : 'secure';
  }

  /** Who may reach a device window: its TZPC world, `secure` for the TZASC/TZPC/MPU, `any` for the GIC. */
  private accessOf(device: MmioDevice): World | 'any' | undefined {
    if (!this.trustzone) return undefined;
    if (device.kind === 'gic') return 'any';
    if (FABRIC_KINDS.has(device.kind as DeviceSpec['kind'])) return 'secure';
    return this.worldOfPeripheral(device.name);
  }

  /** Reported access class of a device window: a world, `banked` (GIC), or null without TrustZone. */
  accessClass(name: string): World | 'banked' | null {
    const d = this.devices.get(name);
    assert(d, `no device ${name}`);
    const a = this.accessOf(d);
    return a === undefined ? null : a === 'any' ? 'banked' : a;
  }

  /** The device called `name`, typed by the caller's expectation (checked by kind). */
  device<T extends MmioDevice>(name: string, kind?: string): T {
    const d = this.devices.get(name);
    assert(d, `chip ${this.name} has no device ${name}`);
    assert(kind === undefined || d.kind === kind, `${name} is a ${d.kind}, not a ${kind}`);
    return d as T;
  }

  /** The first device of a kind. */
  deviceOfKind<T extends MmioDevice>(kind: string): T | undefined {
    for (const d of this.devices.values()) if (d.kind === kind) return d as T;
    return undefined;
  }

  baseOf(name: string): number {
    const b = this.bases.get(name);
    assert(b !== undefined, `chip ${this.name} has no device ${name}`);
    return b;
  }

  irqOf(name: string): number | undefined {
    return this.irqLines.get(name);
  }

  region(name: string): MemoryRegion {
    const r = this.regions.find((x) => x.name === name);
    assert(r, `chip ${this.name} has no region ${name}`);
    return r;
  }

  /** Current security attribute of a region (TZASC), undefined on a chip without TrustZone. */
  securityOf(region: MemoryRegion): World | undefined {
    return this.tzasc?.worldOf(region);
  }

  /**
   * The memory of a non-secure region, to map into a Normal World isolate. Refuses a region that the
   * TZASC does not currently mark non-secure; once handed out, the region can no longer be made secure.
   */
  nonSecureBuffer(name: string): NonSecureBuffer {
    const r = this.regions.find((x) => x.name === name);
    if (!r) return { ok: false, code: 'NO_SUCH_REGION', reason: `chip ${this.name} has no region ${name}` };
    if (!this.tzasc || this.tzasc.worldOf(r) !== 'non-secure' || !(r.buffer instanceof SharedArrayBuffer))
      return { ok: false, code: 'SECURE_REGION', reason: `region ${name} is not non-secure` };
    this.tzasc.markExported(r);
    this.env.trace.record(this.name, 'memory.export', { region: name });
    return { ok: true, buffer: r.buffer, base: r.base };
  }

  /** The secure monitor / exception hook; handed out once (to the monitor), then refused. */
  takeCpuControl(): CpuControl {
    assert(!this.cpuControlTaken, `CPU control of ${this.name} was already taken`);
    this.cpuControlTaken = true;
    return this.cpuControl;
  }

  /** Calls `listener` whenever an interrupt line becomes deliverable to a CPU of this chip. */
  onInterrupt(listener: InterruptListener): () => void {
    return this.gic.subscribe(listener);
  }

  /** Convenience for drivers and tests: a 32-bit register access as `cpu`. */
  readRegister(cpu: Cpu, device: string, offset: number): BusResult<number> {
    return this.bus.read(cpu, this.baseOf(device) + offset, 4);
  }

  writeRegister(cpu: Cpu, device: string, offset: number, v: number): BusResult<void> {
    return this.bus.write(cpu, this.baseOf(device) + offset, v, 4);
  }

  /** Warm reset: CPUs, RAM and every device back to power-on; ROM and non-volatile state survive. */
  reset(): void {
    for (const c of this.cpus) c.reset();
    for (const r of this.regions) r.reset();
    for (const d of this.devices.values()) d.reset();
    this.bus.clearFaults();
    this.env.trace.record(this.name, 'chip.reset', null);
  }

  snapshot(): ChipSnapshot {
    const memory: Record<string, MemorySnapshot> = {};
    for (const r of this.regions) memory[r.name] = r.snapshot();
    const devices: Record<string, Json> = {};
    for (const [name, d] of this.devices) devices[name] = d.snapshot();
    return { cpus: this.cpus.map((c) => c.snapshot()), memory, devices };
  }

  restore(s: ChipSnapshot): void {
    assert(s.cpus.length === this.cpus.length, `snapshot of ${this.name} has the wrong CPU count`);
    s.cpus.forEach((c, i) => (this.cpus[i] as Cpu).restore(c));
    for (const r of this.regions) {
      const m = s.memory[r.name];
      assert(m, `snapshot of ${this.name} lacks region ${r.name}`);
      r.restore(m);
    }
    for (const [name, d] of this.devices) {
      const ds = s.devices[name];
      assert(ds !== undefined, `snapshot of ${this.name} lacks device ${name}`);
      d.restore(ds);
    }
  }
}
