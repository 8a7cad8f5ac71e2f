/**
 * A chip's bus. Every access — CPU or DMA, memory or register — is checked before it touches anything:
 * the address must map to one memory region or one device window; the TZASC attribute of the region or the
 * TZPC world of the device must admit the security state of the issuing master (the secure world reaches
 * everything, the non-secure world only non-secure targets); an MPU, where present, must admit the CPU's
 * privilege; and the device itself may refuse a register access (e.g. the HUK to the non-secure world). A
 * denied access returns a `BusFault`, is appended to the fault log and the trace, and changes nothing.
 */
import { assert } from '../common/errors.js';
import type { AccessKind, BusFault, BusFaultCode, BusMaster, BusResult, Json, World } from './base.js';
import type { Access, MmioDevice } from './device.js';
import type { MemoryRegion } from './memory.js';
import type { Trace } from './trace.js';

export type { AccessKind, BusFault, BusFaultCode, BusMaster, BusResult } from './base.js';

/** Security hooks the chip wires into its bus (TZASC, TZPC, MPU). */
export interface BusSecurity {
  /** Current TZASC attribute of a region; undefined on a chip without TrustZone. */
  regionWorld(region: MemoryRegion): World | undefined;
  /** TZPC assignment of a device window; `any` for banked windows (GIC); undefined without TrustZone. */
  deviceWorld(device: MmioDevice): World | 'any' | undefined;
  /** MPU check of a CPU access: a denial reason, or undefined when allowed. */
  mpuDenies(master: BusMaster, address: number, size: number, access: AccessKind): string | undefined;
}

interface MapEntry {
  readonly base: number;
  readonly end: number;
  readonly region?: MemoryRegion;
  readonly device?: MmioDevice;
}

const OK_VOID: BusResult<void> = Object.freeze({ ok: true, value: undefined });

export class Bus {
  private readonly entries: MapEntry[];
  private readonly masters: Set<BusMaster>;
  private faultLog: BusFault[] = [];
  private faultTotal = 0;

  constructor(
    private readonly chipName: string,
    regions: readonly MemoryRegion[],
    devices: readonly { device: MmioDevice; base: number }[],
    masters: readonly BusMaster[],
    private readonly security: BusSecurity,
    private readonly trace: Trace,
    private readonly now: () => number,
    private readonly keepFaults = 10_000,
  ) {
    this.entries = [
      ...regions.map((r) => ({ base: r.base, end: r.end, region: r })),
      ...devices.map(({ device, base }) => ({ base, end: base + device.windowSize, device })),
    ].sort((a, b) => a.base - b.base);
    for (let i = 1; i < this.entries.length; i++)
      assert(
        (this.entries[i] as MapEntry).base >= (this.entries[i - 1] as MapEntry).end,
        `${chipName}: overlapping address map`,
      );
    this.masters = new Set(masters);
  }

  /** Adds a master (a DMA-capable device) at chip construction. */
  addMaster(master: BusMaster): void {
    this.masters.add(master);
  }

  /** Recorded faults, oldest first (the most recent `keepFaults`). */
  get faults(): readonly BusFault[] {
    return this.faultLog.length > this.keepFaults ? this.faultLog.slice(-this.keepFaults) : this.faultLog;
  }

  get faultCount(): number {
    return this.faultTotal;
  }

  clearFaults(): void {
    this.faultLog = [];
  }

  /** Reads 1, 2 or 4 bytes (little-endian); registers only as aligned 32-bit words. */
  read(master: BusMaster, address: number, size: 1 | 2 | 4 = 4): BusResult<number> {
    const found = this.check(master, address, size, 'read');
    if (!found.ok) return found;
    const entry = found.value;
    if (entry.device) {
      const r = entry.device.readRegister(address - entry.base, this.accessOf(master));
      if (!r.ok) return this.fault(master, 'DEVICE_DENIED', 'read', address, size, entry, r.reason);
      return r;
    }
    const region = entry.region as MemoryRegion;
    const off = address - region.base;
    const b = region.bytes;
    let v = 0;
    for (let k = size - 1; k >= 0; k--) v = (v << 8) | (b[off + k] as number);
    return { ok: true, value: v >>> 0 };
  }

  write(master: BusMaster, address: number, value: number, size: 1 | 2 | 4 = 4): BusResult<void> {
    const found = this.check(master, address, size, 'write');
    if (!found.ok) return found;
    const entry = found.value;
    if (entry.device) {
      const r = entry.device.writeRegister(address - entry.base, value >>> 0, this.accessOf(master));
      if (!r.ok) return this.fault(master, 'DEVICE_DENIED', 'write', address, size, entry, r.reason);
      return OK_VOID;
    }
    const region = entry.region as MemoryRegion;
    const off = address - region.base;
    for (let k = 0; k < size; k++) region.bytes[off + k] = (value >>> (8 * k)) & 0xff;
    return OK_VOID;
  }

  /** Reads a block of memory (never registers). */
  readBytes(master: BusMaster, address: number, length: number): BusResult<Uint8Array> {
    const found = this.check(master, address, length, 'read', true);
    if (!found.ok) return found;
    const region = found.value.region as MemoryRegion;
    const off = address - region.base;
    return { ok: true, value: region.bytes.slice(off, off + length) };
  }

  /** Writes a block of memory (never registers). */
  writeBytes(master: BusMaster, address: number, bytes: Uint8Array): BusResult<void> {
    const found = this.check(master, address, bytes.length, 'write', true);
    if (!found.ok) return found;
    const region = found.value.region as MemoryRegion;
    region.bytes.set(bytes, address - region.base);
    return OK_VOID;
  }

  /** The region or device window holding `address`, for diagnostics. */
  describe(address: number): string | undefined {
    const e = this.lookup(address);
    return e?.region?.name ?? e?.device?.name;
  }

  private accessOf(master: BusMaster): Access {
    return { master, world: master.world, privileged: master.privileged, cpu: master.cpu };
  }

  private lookup(address: number): MapEntry | undefined {
    let lo = 0;
    let hi = this.entries.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const e = this.entries[mid] as MapEntry;
      if (address < e.base) hi = mid - 1;
      else if (address >= e.end) lo = mid + 1;
      else return e;
    }
    return undefined;
  }

  private check(
    master: BusMaster,
    address: number,
    size: number,
    access: AccessKind,
    memoryOnly = false,
  ): BusResult<MapEntry> {
    assert(this.masters.has(master), `${master.name} is not a master of bus ${this.chipName}`);
    assert(Number.isSafeInteger(address) && address >= 0, `bad address ${address}`);
    assert(Number.isSafeInteger(size) && size >= 0, `bad size ${size}`);
    const entry = this.lookup(address);
    if (!entry || address + size > entry.end)
      return this.fault(
        master,
        'UNMAPPED',
        access,
        address,
        size,
        entry,
        entry ? 'access crosses the end of its target' : 'no memory or device at this address',
      );
    const world = master.world;
    if (entry.region) {
      if (this.security.regionWorld(entry.region) === 'secure' && world === 'non-secure')
        return this.fault(master, 'TZASC_DENIED', access, address, size, entry, 'secure memory');
    } else {
      const device = entry.device as MmioDevice;
      if (memoryOnly)
        return this.fault(
          master,
          'UNMAPPED',
          access,
          address,
          size,
          entry,
          'block access to a register window',
        );
      if (this.security.deviceWorld(device) === 'secure' && world === 'non-secure')
        return this.fault(master, 'TZPC_DENIED', access, address, size, entry, 'secure peripheral');
    }
    const mpu = this.security.mpuDenies(master, address, size, access);
    if (mpu !== undefined) return this.fault(master, 'MPU_DENIED', access, address, size, entry, mpu);
    if (entry.region?.kind === 'rom' && access === 'write')
      return this.fault(master, 'READ_ONLY', access, address, size, entry, 'ROM');
    if (entry.device && (size !== 4 || (address - entry.base) % 4 !== 0))
      return this.fault(
        master,
        'ALIGNMENT',
        access,
        address,
        size,
        entry,
        'registers are aligned 32-bit words',
      );
    return { ok: true, value: entry };
  }

  private fault(
    master: BusMaster,
    code: BusFaultCode,
    access: AccessKind,
    address: number,
    size: number,
    entry: MapEntry | undefined,
    reason: string,
  ): BusFault {
    const target = entry?.region?.name ?? entry?.device?.name;
    const f: BusFault = {
      ok: false,
      code,
      access,
      address,
      size,
      master: master.name,
      world: master.world,
      target,
      reason,
      timeNs: this.now(),
    };
    this.faultTotal++;
    this.faultLog.push(f);
    if (this.faultLog.length >= 2 * this.keepFaults) this.faultLog = this.faultLog.slice(-this.keepFaults);
    const detail: Record<string, Json> = {
      code,
      access,
      address,
      size,
      master: master.name,
      world: master.world,
      reason,
    };
    if (target !== undefined) detail['target'] = target;
    this.trace.record(this.chipName, 'bus.fault', detail);
    return f;
  }
}
