/**
 * The boot ports on the emulated SoC (src/soc): OTP fuses, NV counters, NOR flash, the security fabric
 * (TZASC, TZPC, interrupt groups) and the chip's reset. Every device access is a bus access issued by the
 * secure boot CPU, through the chip's register interface (docs/soc.md §"Devices and register maps"); flash
 * data moves by the flash controller's DMA through a buffer in secure RAM the board reserves for it. The
 * chain therefore runs against exactly what the hardware allows: a fault on the bus is an exception here.
 *
 * The one exception is `FactoryFlash`, the host-side programmer a factory (or a test) uses to write images
 * before the chip runs; it drives the flash array directly, as a flash programmer on the pins would.
 */
import { assert, RampartError } from '../common/errors.js';
import {
  FABRIC_KINDS,
  programSecurityFabric,
  type BusFault,
  type Chip,
  type ChipSpec,
  type Cpu,
  type FlashFailure,
  type NorFlash,
  type VirtualClock,
} from '../soc/index.js';
import type {
  FlashMedium,
  InterruptSecurity,
  MonotonicCounters,
  PeripheralSecurity,
  RegionSecurity,
  ResetControl,
  RootOfTrust,
  SecurityConfiguration,
  SecurityConfigurator,
  World,
} from './ports.js';

// Register offsets (docs/soc.md).
const OTP_ROTPK = 0x100;
const NVC_COUNT = 0x000;
const NVC_VALUE = 0x100;
const FLASH_REG = {
  STATUS: 0x000,
  CMD: 0x004,
  FLASH_ADDR: 0x008,
  MEM_ADDR: 0x00c,
  LENGTH: 0x010,
  INT_STATUS: 0x014,
  ERROR_CODE: 0x01c,
  SIZE: 0x020,
  BLOCK_SIZE: 0x024,
  PAGE_SIZE: 0x028,
} as const;
const FLASH_STATUS_BUSY = 1;
const FLASH_STATUS_POWERED = 4;
const FLASH_CMD = { READ: 1, PROGRAM: 2, ERASE: 3 } as const;
const FLASH_ERRORS = ['none', 'OUT_OF_RANGE', 'PAGE_CROSSING', 'DMA_FAULT', 'POWER', 'MISALIGNED'] as const;
const FABRIC_LOCK = 0x000; // TZASC and TZPC
const FABRIC_COUNT = 0x004;
const FABRIC_SLOT = 0x100; // TZASC ATTR[i], TZPC WORLD[i]
const GIC_TYPER = 0x000;
const GIC_LOCK = 0x004;
const GIC_LINE = 0x400;
const GIC_GROUP_NON_SECURE = 1 << 16;

/** A bus access the hardware refused, as an exception (the boot chain turns it into DEVICE_ERROR). */
export class BusFaultError extends RampartError {
  constructor(
    readonly fault: BusFault,
    what: string,
  ) {
    super(
      'BUS_FAULT',
      `${what} faulted: ${fault.code} (${fault.reason}) as ${fault.master} (${fault.world})`,
    );
  }
}

/**
 * The flash lost power: during the operation (`POWER_CUT`: the operation is torn) or before it
 * (`POWERED_OFF`). docs/boot.md requires power cuts to surface as exceptions.
 */
export class FlashPowerLoss extends RampartError {
  constructor(
    readonly failure: 'POWER_CUT' | 'POWERED_OFF',
    what: string,
  ) {
    super(
      failure,
      `${what}: ${failure === 'POWER_CUT' ? 'power was cut during the operation' : 'the flash has no power'}`,
    );
  }
}

/** Register access as one CPU of one chip: what the boot code does, and nothing else. */
export class RegisterAccess {
  constructor(
    readonly chip: Chip,
    readonly cpu: Cpu,
  ) {
    assert(chip.cpus.includes(cpu), `${cpu.name} is not a CPU of chip ${chip.name}`);
  }

  read(device: string, offset: number): number {
    const r = this.chip.readRegister(this.cpu, device, offset);
    if (!r.ok) throw new BusFaultError(r, `reading ${this.chip.name}/${device}+0x${offset.toString(16)}`);
    return r.value;
  }

  write(device: string, offset: number, value: number): void {
    const r = this.chip.writeRegister(this.cpu, device, offset, value);
    if (!r.ok) throw new BusFaultError(r, `writing ${this.chip.name}/${device}+0x${offset.toString(16)}`);
  }

  readMemory(address: number, length: number): Uint8Array {
    const r = this.chip.bus.readBytes(this.cpu, address, length);
    if (!r.ok) throw new BusFaultError(r, `reading ${length} bytes at 0x${address.toString(16)}`);
    return r.value;
  }

  writeMemory(address: number, bytes: Uint8Array): void {
    const r = this.chip.bus.writeBytes(this.cpu, address, bytes);
    if (!r.ok) throw new BusFaultError(r, `writing ${bytes.length} bytes at 0x${address.toString(16)}`);
  }
}

function checkRange(what: string, offset: number, length: number, size: number): void {
  if (
    !Number.isSafeInteger(offset) ||
    !Number.isSafeInteger(length) ||
    offset < 0 ||
    length < 0 ||
    offset + length > size
  )
    throw new RangeError(`${what} of ${length} bytes at ${offset} is outside the ${size}-byte flash`);
}

/** OTP fuses: the ROTPK hash, read word by word from the ROTPK registers. */
export class SocRootOfTrust implements RootOfTrust {
  constructor(
    private readonly io: RegisterAccess,
    private readonly device: string,
  ) {}

  rotpkHash(): Uint8Array {
    const hash = new Uint8Array(32);
    const view = new DataView(hash.buffer);
    for (let i = 0; i < 8; i++) view.setUint32(4 * i, this.io.read(this.device, OTP_ROTPK + 4 * i), true);
    return hash;
  }
}

/** NV counters: VALUE[i] read, and written to advance (the device faults on a decrease or past MAX). */
export class SocMonotonicCounters implements MonotonicCounters {
  readonly count: number;

  constructor(
    private readonly io: RegisterAccess,
    private readonly device: string,
  ) {
    this.count = io.read(device, NVC_COUNT);
  }

  read(index: number): number {
    this.checkIndex(index);
    return this.io.read(this.device, NVC_VALUE + 4 * index);
  }

  advanceTo(index: number, value: number): void {
    this.checkIndex(index);
    if (!Number.isSafeInteger(value) || value < 0 || value > 0xffffffff)
      throw new RangeError(`a counter value is 0..2^32-1, got ${value}`);
    this.io.write(this.device, NVC_VALUE + 4 * index, value);
  }

  private checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.count)
      throw new RangeError(`no NV counter ${index}: ${this.device} has ${this.count}`);
  }
}

/** Where the flash controller's DMA reads and writes: a window of secure RAM, by bus address. */
export interface DmaBuffer {
  readonly address: number;
  readonly size: number;
}

/**
 * NOR flash through the flash controller: READ and PROGRAM move data by DMA between the array and the
 * buffer, which the CPU fills and drains over the bus; PROGRAM is split by page and by buffer, ERASE by
 * block. Each command is waited for by polling STATUS while the machine's virtual clock runs (erases
 * take 50 ms of virtual time each). ERROR_CODE 4 (power) surfaces as `FlashPowerLoss`.
 */
export class SocFlash implements FlashMedium {
  readonly size: number;
  readonly eraseBlockSize: number;
  readonly pageSize: number;

  constructor(
    private readonly io: RegisterAccess,
    private readonly device: string,
    private readonly buffer: DmaBuffer,
    private readonly clock: VirtualClock,
  ) {
    this.size = io.read(device, FLASH_REG.SIZE);
    this.eraseBlockSize = io.read(device, FLASH_REG.BLOCK_SIZE);
    this.pageSize = io.read(device, FLASH_REG.PAGE_SIZE);
    assert(
      buffer.size >= this.pageSize,
      `the flash DMA buffer (${buffer.size} bytes) must hold a ${this.pageSize}-byte page`,
    );
  }

  read(offset: number, length: number): Uint8Array {
    checkRange('a read', offset, length, this.size);
    const out = new Uint8Array(length);
    for (let done = 0; done < length;) {
      const n = Math.min(this.buffer.size, length - done);
      this.command(FLASH_CMD.READ, offset + done, n, 'read');
      out.set(this.io.readMemory(this.buffer.address, n), done);
      done += n;
    }
    return out;
  }

  program(offset: number, data: Uint8Array): void {
    checkRange('a program', offset, data.length, this.size);
    for (let done = 0; done < data.length;) {
      const at = offset + done;
      const toPageEnd = this.pageSize - (at % this.pageSize);
      const n = Math.min(toPageEnd, this.buffer.size, data.length - done);
      this.io.writeMemory(this.buffer.address, data.subarray(done, done + n));
      this.command(FLASH_CMD.PROGRAM, at, n, 'program');
      done += n;
    }
  }

  erase(offset: number, length: number): void {
    checkRange('an erase', offset, length, this.size);
    if (offset % this.eraseBlockSize !== 0 || length % this.eraseBlockSize !== 0)
      throw new RangeError(
        `an erase of ${length} bytes at ${offset} is not whole ${this.eraseBlockSize}-byte blocks`,
      );
    for (let at = offset; at < offset + length; at += this.eraseBlockSize)
      this.command(FLASH_CMD.ERASE, at, this.eraseBlockSize, 'erase');
  }

  /** Issues one command and waits for it; throws on any error the controller reports. */
  private command(cmd: number, flashAddr: number, length: number, what: string): void {
    const where = `flash ${what} of ${length} bytes at 0x${flashAddr.toString(16)}`;
    const status = this.io.read(this.device, FLASH_REG.STATUS);
    if ((status & FLASH_STATUS_POWERED) === 0) throw new FlashPowerLoss('POWERED_OFF', where);
    if (status & FLASH_STATUS_BUSY) throw new RampartError('FLASH_BUSY', `${where}: the controller is busy`);
    this.io.write(this.device, FLASH_REG.FLASH_ADDR, flashAddr);
    this.io.write(this.device, FLASH_REG.MEM_ADDR, this.buffer.address);
    this.io.write(this.device, FLASH_REG.LENGTH, length);
    this.io.write(this.device, FLASH_REG.CMD, cmd);
    while (this.io.read(this.device, FLASH_REG.STATUS) & FLASH_STATUS_BUSY)
      assert(this.clock.step(), `${where}: the controller is busy with nothing scheduled`);
    const error = this.io.read(this.device, FLASH_REG.ERROR_CODE);
    this.io.write(this.device, FLASH_REG.INT_STATUS, 3);
    if (error === 0) return;
    if (error === 4) throw new FlashPowerLoss('POWER_CUT', where);
    throw new RampartError('FLASH_ERROR', `${where}: ${FLASH_ERRORS[error] ?? `error ${error}`}`);
  }
}

/**
 * The factory's flash programmer: the flash array driven from the host, as a programmer clipped onto the
 * part would, before (or between) runs of the chip. No bus, no DMA, no virtual time. Program is split by
 * page and erase by block, as the part requires; power failures surface as `FlashPowerLoss`.
 */
export class FactoryFlash implements FlashMedium {
  readonly size: number;
  readonly eraseBlockSize: number;

  constructor(private readonly flash: NorFlash) {
    this.size = flash.geometry.size;
    this.eraseBlockSize = flash.geometry.blockSize;
  }

  read(offset: number, length: number): Uint8Array {
    checkRange('a read', offset, length, this.size);
    const r = this.flash.read(offset, length);
    if (!r.ok) this.fail(r.code, `factory read of ${length} bytes at 0x${offset.toString(16)}`);
    return r.value;
  }

  program(offset: number, data: Uint8Array): void {
    checkRange('a program', offset, data.length, this.size);
    const page = this.flash.geometry.pageSize;
    for (let done = 0; done < data.length;) {
      const at = offset + done;
      const n = Math.min(page - (at % page), data.length - done);
      const r = this.flash.program(at, data.subarray(done, done + n));
      if (!r.ok) this.fail(r.code, `factory program of ${n} bytes at 0x${at.toString(16)}`);
      done += n;
    }
  }

  erase(offset: number, length: number): void {
    checkRange('an erase', offset, length, this.size);
    if (offset % this.eraseBlockSize !== 0 || length % this.eraseBlockSize !== 0)
      throw new RangeError(
        `an erase of ${length} bytes at ${offset} is not whole ${this.eraseBlockSize}-byte blocks`,
      );
    for (let at = offset; at < offset + length; at += this.eraseBlockSize) {
      const r = this.flash.erase(at);
      if (!r.ok) this.fail(r.code, `factory erase at 0x${at.toString(16)}`);
    }
  }

  private fail(code: FlashFailure, where: string): never {
    if (code === 'POWER_CUT' || code === 'POWERED_OFF') throw new FlashPowerLoss(code, where);
    throw new RampartError('FLASH_ERROR', `${where}: ${code}`);
  }
}

/**
 * The TZASC, the TZPC and the interrupt controller's group registers, programmed through their registers.
 * Regions and peripherals are named as the board names them (the TZASC and TZPC index them in board
 * order); `readBack` reports every region, every assignable peripheral and every interrupt line the
 * hardware has, so a policy that leaves any of them out does not read back equal.
 */
export class SocSecurityConfigurator implements SecurityConfigurator {
  private readonly tzasc: string;
  private readonly tzpc: string;
  private readonly gic: string;
  private readonly regions: readonly { name: string; base: number; size: number }[];
  private readonly peripherals: readonly string[];

  constructor(
    private readonly io: RegisterAccess,
    spec: ChipSpec,
  ) {
    const named = (kind: string) => {
      const d = spec.devices.find((x) => x.kind === kind);
      assert(d, `chip ${spec.name} has no ${kind}`);
      return d.name;
    };
    assert(spec.trustzone, `chip ${spec.name} has no TrustZone: nothing to configure`);
    this.tzasc = named('tzasc');
    this.tzpc = named('tzpc');
    this.gic = named('gic');
    this.regions = spec.memory.map((m) => ({ name: m.name, base: m.base, size: m.size }));
    this.peripherals = spec.devices.filter((d) => !FABRIC_KINDS.has(d.kind)).map((d) => d.name);
  }

  apply(config: SecurityConfiguration): void {
    if (this.anyLocked())
      throw new RampartError('SECURITY_LOCKED', 'the security configuration is locked until the next reset');
    for (const r of config.regions) {
      const i = this.regions.findIndex((x) => x.name === r.name);
      const known = this.regions[i];
      if (!known) throw new RampartError('SECURITY_POLICY', `no memory region '${r.name}' on this chip`);
      if (known.base !== r.base || known.size !== r.size)
        throw new RampartError(
          'SECURITY_POLICY',
          `region '${r.name}' is [0x${known.base.toString(16)}, +0x${known.size.toString(16)}) on this chip, not [0x${r.base.toString(16)}, +0x${r.size.toString(16)})`,
        );
      this.io.write(this.tzasc, FABRIC_SLOT + 4 * i, r.world === 'non-secure' ? 1 : 0);
    }
    for (const p of config.peripherals) {
      const i = this.peripherals.indexOf(p.name);
      if (i < 0)
        throw new RampartError('SECURITY_POLICY', `no assignable peripheral '${p.name}' on this chip`);
      this.io.write(this.tzpc, FABRIC_SLOT + 4 * i, p.world === 'non-secure' ? 1 : 0);
    }
    const lines = this.io.read(this.gic, GIC_TYPER);
    for (const { line, group } of config.interrupts) {
      if (!Number.isInteger(line) || line < 0 || line >= lines)
        throw new RampartError('SECURITY_POLICY', `no interrupt line ${line}: the controller has ${lines}`);
      const word = this.io.read(this.gic, GIC_LINE + 4 * line);
      const next = group === 'non-secure' ? word | GIC_GROUP_NON_SECURE : word & ~GIC_GROUP_NON_SECURE;
      this.io.write(this.gic, GIC_LINE + 4 * line, next >>> 0);
    }
  }

  readBack(): SecurityConfiguration {
    const world = (bit: number): World => (bit & 1 ? 'non-secure' : 'secure');
    const regionCount = this.io.read(this.tzasc, FABRIC_COUNT);
    const deviceCount = this.io.read(this.tzpc, FABRIC_COUNT);
    assert(regionCount === this.regions.length, 'the TZASC does not have the board’s regions');
    assert(deviceCount === this.peripherals.length, 'the TZPC does not have the board’s peripherals');
    const regions: RegionSecurity[] = this.regions.map((r, i) => ({
      ...r,
      world: world(this.io.read(this.tzasc, FABRIC_SLOT + 4 * i)),
    }));
    const peripherals: PeripheralSecurity[] = this.peripherals.map((name, i) => ({
      name,
      world: world(this.io.read(this.tzpc, FABRIC_SLOT + 4 * i)),
    }));
    const interrupts: InterruptSecurity[] = [];
    const lines = this.io.read(this.gic, GIC_TYPER);
    for (let line = 0; line < lines; line++)
      interrupts.push({
        line,
        group:
          (this.io.read(this.gic, GIC_LINE + 4 * line) & GIC_GROUP_NON_SECURE) !== 0
            ? 'non-secure'
            : 'secure',
      });
    return { regions, peripherals, interrupts };
  }

  lock(): void {
    this.io.write(this.tzasc, FABRIC_LOCK, 1);
    this.io.write(this.tzpc, FABRIC_LOCK, 1);
    this.io.write(this.gic, GIC_LOCK, 1);
  }

  /** True only when all three are locked. */
  isLocked(): boolean {
    return this.locks().every(Boolean);
  }

  private anyLocked(): boolean {
    return this.locks().some(Boolean);
  }

  private locks(): boolean[] {
    return [
      this.io.read(this.tzasc, FABRIC_LOCK) === 1,
      this.io.read(this.tzpc, FABRIC_LOCK) === 1,
      this.io.read(this.gic, GIC_LOCK) === 1,
    ];
  }
}

/**
 * A warm reset of one chip: whatever the ports started is stopped first (`beforeReset`: isolates holding
 * the chip's memory must be gone), then CPUs, RAM and every device return to power-on — the security
 * configuration and its lock with them; fuses, NV counters and flash cells survive — and the hardware
 * bring-up runs again, unlocked, as at power-on (src/soc/bring-up.ts). The boot chain then programs,
 * checks and locks the configuration itself.
 */
export class SocResetControl implements ResetControl {
  constructor(
    private readonly chip: Chip,
    private readonly beforeReset: () => void = () => {},
  ) {}

  warmReset(): void {
    this.beforeReset();
    this.chip.reset();
    programSecurityFabric(this.chip, this.chip.spec, false);
  }
}
