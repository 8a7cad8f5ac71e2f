/**
 * The boot chain on an emulated machine: the boot policy a board declares (its chip's `boot` section and
 * its security policy), the boot device made of the SoC adapters, the cold boot itself, and the factory's
 * host-side programming of images into the flash slots.
 *
 * The machine is expected fresh from `bringUp(board, { lock: false })`: the hardware is initialised but
 * nothing is locked, so the boot chain programs, checks and locks the security configuration itself
 * before the Normal World starts.
 */
import { RampartError } from '../common/errors.js';
import {
  FABRIC_KINDS,
  type Board,
  type BootSpec,
  type ChipSpec,
  type Cpu,
  type Machine,
  type NorFlash,
} from '../soc/index.js';
import type { BootState } from './boot-state.js';
import { planFlashLayout, type BankIndex } from './flash-layout.js';
import type { BootPolicy } from './policy.js';
import type { BootDevice, NormalWorldPort, SecureWorldPort, SecurityConfiguration } from './ports.js';
import { coldBoot, type BootOutcome } from './rom.js';
import {
  FactoryFlash,
  RegisterAccess,
  SocFlash,
  SocMonotonicCounters,
  SocResetControl,
  SocRootOfTrust,
  SocSecurityConfigurator,
} from './soc-adapters.js';
import { provisionDevice, stageUpdate, type BankImages } from './update.js';

/** The chip's spec and its boot declaration; throws if the board gives it none. */
function bootChip(board: Board, chipName: string): { chip: ChipSpec; boot: BootSpec } {
  const chip = board.chips.find((c) => c.name === chipName);
  if (!chip)
    throw new RampartError(
      'NO_SUCH_CHIP',
      `board ${board.name} has no chip '${chipName}' (chips: ${board.chips.map((c) => c.name).join(', ')})`,
    );
  if (!chip.boot)
    throw new RampartError(
      'NO_BOOT_DECLARATION',
      `chip '${chipName}' of board ${board.name} declares no secure boot (a 'boot' section: docs/soc.md)`,
    );
  return { chip, boot: chip.boot };
}

/**
 * The board's security policy for a TrustZone chip: each memory region as declared, each peripheral in its
 * declared world, and every interrupt line of the controller in the group of the device wired to it
 * (lines no device uses stay secure).
 */
export function boardSecurityConfiguration(chip: ChipSpec): SecurityConfiguration {
  if (!chip.trustzone)
    throw new RampartError('NO_TRUSTZONE', `chip '${chip.name}' has no TrustZone: it has no security policy`);
  const gic = chip.devices.find((d) => d.kind === 'gic');
  if (gic?.kind !== 'gic')
    throw new RampartError('NO_TRUSTZONE', `chip '${chip.name}' has no interrupt controller`);
  const groupOf = new Map(
    chip.devices.flatMap((d) => (d.irq ? [[d.irq.line, d.world ?? 'secure'] as const] : [])),
  );
  return {
    regions: chip.memory.map((m) => ({
      name: m.name,
      base: m.base,
      size: m.size,
      world: m.security ?? 'secure',
    })),
    peripherals: chip.devices
      .filter((d) => !FABRIC_KINDS.has(d.kind))
      .map((d) => ({ name: d.name, world: d.world ?? 'secure' })),
    interrupts: Array.from({ length: gic.lines }, (_, line) => ({
      line,
      group: groupOf.get(line) ?? 'secure',
    })),
  };
}

/** The boot policy a board declares for one of its chips (docs/soc.md §"Board files", `boot`). */
export function boardBootPolicy(board: Board, chipName: string): BootPolicy {
  const { chip, boot } = bootChip(board, chipName);
  const flash = chip.devices.find((d) => d.name === boot.flash.device);
  if (flash?.kind !== 'nor-flash')
    throw new RampartError('NO_BOOT_DECLARATION', `boot flash '${boot.flash.device}' is not a nor-flash`);
  return {
    layout: planFlashLayout({
      flashSize: flash.size,
      eraseBlockSize: flash.blockSize,
      secureSlotSize: boot.flash.secureSlot,
      normalSlotSize: boot.flash.normalSlot,
    }),
    security: boardSecurityConfiguration(chip),
    counters: { secureBundle: boot.counters.secureBundle, normalWorld: boot.counters.normalWorld },
    trialAttempts: boot.trialAttempts,
  };
}

/** What the caller runs: the secure-world runtime and the Normal World the chain hands over to. */
export interface WorldPorts {
  readonly secureWorld: SecureWorldPort;
  readonly normalWorld: NormalWorldPort;
  /**
   * Called before each warm reset of the chip (a boot attempt refused, the next one about to start): stop
   * whatever the ports started for that attempt. The chip's RAM is wiped by the reset.
   */
  readonly beforeWarmReset?: () => void;
}

/** A boot device whose device ports are the SoC adapters. */
export interface SocBootDevice extends BootDevice {
  readonly rootOfTrust: SocRootOfTrust;
  readonly counters: SocMonotonicCounters;
  readonly flash: SocFlash;
  readonly security: SocSecurityConfigurator;
  readonly reset: SocResetControl;
}

export interface SocBootOptions {
  /** The CPU that runs the boot code (default: CPU 0 of the chip, which is secure from reset). */
  readonly cpu?: Cpu;
}

/** The boot ports of a chip, from the devices its board's `boot` section names. */
export function socBootDevice(
  machine: Machine,
  chipName: string,
  ports: WorldPorts,
  options: SocBootOptions = {},
): SocBootDevice {
  const { boot } = bootChip(machine.board, chipName);
  const chip = machine.chip(chipName);
  const cpu = options.cpu ?? chip.cpus[0];
  if (!cpu) throw new RampartError('NO_CPU', `chip '${chipName}' has no CPU`);
  const io = new RegisterAccess(chip, cpu);
  const buffer = chip.region(boot.buffer.region);
  return {
    rootOfTrust: new SocRootOfTrust(io, boot.fuses),
    counters: new SocMonotonicCounters(io, boot.counters.device),
    flash: new SocFlash(
      io,
      boot.flash.device,
      { address: buffer.base + boot.buffer.offset, size: boot.buffer.size },
      machine.clock,
    ),
    security: new SocSecurityConfigurator(io, chip.spec),
    reset: new SocResetControl(chip, ports.beforeWarmReset),
    secureWorld: ports.secureWorld,
    normalWorld: ports.normalWorld,
  };
}

export interface MachineBoot {
  readonly outcome: BootOutcome;
  /** The ports the chain ran on: pass them, with `policy`, to `confirmBoot` once the system is healthy. */
  readonly device: SocBootDevice;
  readonly policy: BootPolicy;
}

/**
 * Cold boot of one chip of a machine: ROM → kernel → trusted applications → Normal World (rom.ts), on the
 * chip's fuses, NV counters, flash and security fabric. The policy defaults to the board's. Refuses to
 * start on a chip whose fabric is already locked (brought up with `lock: true`): the chain must own it.
 */
export async function bootMachine(
  machine: Machine,
  chipName: string,
  ports: WorldPorts,
  options: SocBootOptions & { readonly policy?: BootPolicy } = {},
): Promise<MachineBoot> {
  const policy = options.policy ?? boardBootPolicy(machine.board, chipName);
  const chip = machine.chip(chipName);
  const cpu = options.cpu ?? chip.cpus[0];
  if (cpu?.world !== 'secure')
    throw new RampartError(
      'BOOT_CPU_NOT_SECURE',
      `${cpu?.name ?? chipName}: the boot code runs in the secure world`,
    );
  if (chip.tzasc?.isLocked || chip.tzpc?.isLocked || chip.gic.isLocked)
    throw new RampartError(
      'SECURITY_FABRIC_LOCKED',
      `chip '${chipName}' was brought up with its security fabric locked; bring it up with { lock: false } so the boot chain programs and locks it`,
    );
  const device = socBootDevice(machine, chipName, ports, options);
  const outcome = await coldBoot(device, policy);
  return { outcome, device, policy };
}

/** The factory's programmer on the chip's boot flash (host side: no bus, no virtual time). */
export function factoryFlash(machine: Machine, chipName: string): FactoryFlash {
  const { boot } = bootChip(machine.board, chipName);
  return new FactoryFlash(machine.chip(chipName).device<NorFlash>(boot.flash.device, 'nor-flash'));
}

/**
 * Factory programming: writes the two signed images into `bank` (default A) of the chip's boot flash and
 * makes it the confirmed bank. Nothing is verified here: the ROM is the judge.
 */
export function factoryProgramImages(
  machine: Machine,
  chipName: string,
  images: BankImages,
  bank: BankIndex = 0,
): BootState {
  return provisionDevice(
    factoryFlash(machine, chipName),
    boardBootPolicy(machine.board, chipName).layout,
    images,
    bank,
  );
}

/**
 * Host-side update: writes the images into the bank that is not confirmed and puts it on trial for
 * `attempts` boots (default: the board's `trialAttempts`), as an update client would (update.ts).
 */
export function factoryStageUpdate(
  machine: Machine,
  chipName: string,
  images: BankImages,
  attempts?: number,
): BootState {
  const policy = boardBootPolicy(machine.board, chipName);
  return stageUpdate(
    factoryFlash(machine, chipName),
    policy.layout,
    images,
    attempts ?? policy.trialAttempts ?? 1,
  );
}
