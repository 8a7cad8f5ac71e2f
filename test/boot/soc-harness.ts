/**
 * The boot chain on the emulated SoC, for tests: the shipped boards, their development keys, machines
 * brought up unlocked, a power cycle, and world ports that record what was handed to them and, when the
 * Normal World starts, look at the security fabric through the bus.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { developmentKeyFor } from '../../src/boot/defaults.js';
import { loadPrivateKey } from '../../src/boot/keys.js';
import { bootMachine, type MachineBoot, type WorldPorts } from '../../src/boot/machine-boot.js';
import type { KernelHandoff, NormalWorldHandoff, TrustedApplicationHandoff } from '../../src/boot/ports.js';
import { outcomeReport, type BootOutcome, type RunningOutcome } from '../../src/boot/rom.js';
import { packagePath } from '../../src/common/paths.js';
import {
  bringUp,
  FABRIC_KINDS,
  loadBoardByName,
  programSecurityFabric,
  type Board,
  type BusResult,
  type Chip,
  type Cpu,
  type CpuControl,
  type Machine,
} from '../../src/soc/index.js';

export const GATEWAY = 'iot-gateway';
export const SOC = 'soc';

export function board(name = GATEWAY): Board {
  return loadBoardByName(name).board;
}

export function developmentKey(boardName = GATEWAY): KeyObject {
  const dev = developmentKeyFor(boardName);
  assert.ok(dev, `no development key for ${boardName}`);
  return loadPrivateKey(readFileSync(packagePath(dev.privateKey), 'utf8'), dev.privateKey).key;
}

/** A machine as `rampart boot` builds it: hardware brought up, nothing locked. */
export function machine(b: Board = board(), seed = 7): Machine {
  return bringUp(b, { seed, lock: false });
}

/** Power off and on: every chip back to power-on (non-volatile state survives), then bring-up, unlocked. */
export function powerCycle(m: Machine): void {
  m.reset();
  for (const chip of m.chips.values()) programSecurityFabric(chip, chip.spec, false);
}

/** What the Normal World saw of the hardware when it was started. */
export interface NormalWorldView {
  readonly bank: number;
  /** LOCK registers of TZASC, TZPC and GIC, read by the secure boot CPU. */
  readonly locks: readonly number[];
  /** A non-secure CPU's attempts on the fabric: each must fault. */
  readonly nonSecureWrites: readonly BusResult<void>[];
  /** The secure world's own attempt to reopen a region after the lock. */
  readonly secureRewrite: BusResult<void>;
}

/**
 * Recording world ports on one chip. At Normal World start, the chip's last CPU is put in the non-secure
 * world and tries to unlock and reprogram TZASC, TZPC and an interrupt group; then the secure boot CPU
 * tries to reassign a peripheral.
 */
export class RecordingWorlds implements WorldPorts {
  readonly log: string[] = [];
  kernel: KernelHandoff | undefined;
  apps: TrustedApplicationHandoff[] = [];
  normal: NormalWorldHandoff | undefined;
  views: NormalWorldView[] = [];
  /** TZASC LOCK as each kernel starts (a warm reset between attempts must have cleared it). */
  lockAtKernelStart: number[] = [];
  failing: (app: TrustedApplicationHandoff) => boolean = () => false;
  private readonly control: CpuControl;

  constructor(
    private readonly chip: Chip,
    control?: CpuControl,
  ) {
    this.control = control ?? chip.takeCpuControl();
  }

  private get bootCpu(): Cpu {
    return this.chip.cpus[0] as Cpu;
  }

  readonly secureWorld = {
    startKernel: (handoff: KernelHandoff) => {
      this.kernel = handoff;
      const lock = this.chip.readRegister(this.bootCpu, 'tzasc', 0);
      assert.ok(lock.ok);
      this.lockAtKernelStart.push(lock.value);
      this.log.push(`kernel ${handoff.bank} ${handoff.image.version}`);
    },
    startTrustedApplication: (app: TrustedApplicationHandoff) => {
      if (this.failing(app)) throw new Error(`${app.name} crashed in TA_CreateEntryPoint`);
      this.apps.push(app);
      this.log.push(`ta ${app.name}`);
    },
  };

  readonly normalWorld = {
    start: (handoff: NormalWorldHandoff) => {
      this.normal = handoff;
      this.views.push(this.look(handoff.bank));
      this.log.push(`normal world ${handoff.bank}`);
    },
  };

  readonly beforeWarmReset = () => {
    this.kernel = undefined;
    this.apps = [];
    this.normal = undefined;
    this.log.push('warm reset');
  };

  private look(bank: number): NormalWorldView {
    const read = (device: string, offset: number) => {
      const r = this.chip.readRegister(this.bootCpu, device, offset);
      assert.ok(r.ok, `reading ${device}`);
      return r.value;
    };
    const locks = [read('tzasc', 0), read('tzpc', 0), read('gic', 4)];
    // A secure RAM region, a secure peripheral and a secure interrupt line of the board.
    const spec = this.chip.spec;
    const region = spec.memory.findIndex((m) => m.kind === 'ram' && m.security === 'secure');
    const peripherals = spec.devices.filter((d) => !FABRIC_KINDS.has(d.kind));
    const peripheral = peripherals.findIndex((d) => d.world === 'secure');
    const line = peripherals.find((d) => d.world === 'secure' && d.irq)?.irq?.line;
    assert.ok(region >= 0 && peripheral >= 0 && line !== undefined);
    const nw = this.chip.cpus[this.chip.cpus.length - 1] as Cpu;
    this.control.setWorld(nw, 'non-secure');
    const nonSecureWrites = [
      this.chip.writeRegister(nw, 'tzasc', 0x000, 0), // unlock
      this.chip.writeRegister(nw, 'tzasc', 0x100 + 4 * region, 1), // secure RAM → non-secure
      this.chip.writeRegister(nw, 'tzpc', 0x100 + 4 * peripheral, 1), // a secure peripheral → non-secure
      this.chip.writeRegister(nw, 'gic', 0x400 + 4 * line, 1 << 16), // its secure line → non-secure group
    ];
    this.control.setWorld(nw, 'secure');
    const secureRewrite = this.chip.writeRegister(this.bootCpu, 'tzpc', 0x100 + 4 * peripheral, 1);
    return { bank, locks, nonSecureWrites, secureRewrite };
  }
}

export async function bootOn(m: Machine, worlds: RecordingWorlds, chipName = SOC): Promise<MachineBoot> {
  return bootMachine(m, chipName, worlds);
}

export function running(o: BootOutcome): RunningOutcome {
  assert.equal(o.status, 'running', `device halted: ${JSON.stringify(outcomeReport(o))}`);
  return o as RunningOutcome;
}
