/**
 * The ports the boot chain runs against: small interfaces onto the SoC's devices and onto the stages it
 * hands over to. The boot layer talks to nothing else, so the ROM is tested on its own with in-memory
 * fakes and runs unchanged on the emulated SoC through thin adapters.
 */
import type { VerifiedComponent, ImageSummary } from './verify.js';

/** Which world a region, a peripheral or an interrupt belongs to. */
export type World = 'secure' | 'non-secure';

/** OTP fuses, as seen from the secure world. */
export interface RootOfTrust {
  /**
   * SHA-256 of the root-of-trust public key (the DER SubjectPublicKeyInfo of the key that signs the images),
   * as burnt into the fuses: 32 bytes. All zeros or all ones means "not programmed".
   */
  rotpkHash(): Uint8Array;
}

/** Non-volatile monotonic counters (anti-rollback). */
export interface MonotonicCounters {
  /** How many counters exist; indices are 0 … count-1. */
  readonly count: number;
  read(index: number): number;
  /** Raises counter `index` to `value`. The hardware never lowers a counter: a lower value is refused. */
  advanceTo(index: number, value: number): void;
}

/** A byte-addressed, readable boot medium (the slots images are read from). */
export interface BootMedium {
  readonly size: number;
  /** Copies `length` bytes at `offset` out of the medium; the caller owns the copy. */
  read(offset: number, length: number): Uint8Array;
}

/**
 * NOR-like flash: erase sets whole blocks to 0xFF, program can only clear bits. A power cut may stop
 * either in the middle (a torn block); the boot-state store is written so that this never loses state.
 */
export interface FlashMedium extends BootMedium {
  readonly eraseBlockSize: number;
  /** `offset` and `length` are multiples of `eraseBlockSize`. */
  erase(offset: number, length: number): void;
  program(offset: number, data: Uint8Array): void;
}

/** One TZASC region: an address range and the world allowed to reach it. */
export interface RegionSecurity {
  readonly name: string;
  readonly base: number;
  readonly size: number;
  readonly world: World;
}

/** One TZPC slot: a peripheral and the world it is assigned to. */
export interface PeripheralSecurity {
  readonly name: string;
  readonly world: World;
}

/** One interrupt line and its group (secure group 0 or non-secure group 1). */
export interface InterruptSecurity {
  readonly line: number;
  readonly group: World;
}

/** The board's security policy as the boot chain applies it: TZASC, TZPC and interrupt groups. */
export interface SecurityConfiguration {
  readonly regions: readonly RegionSecurity[];
  readonly peripherals: readonly PeripheralSecurity[];
  readonly interrupts: readonly InterruptSecurity[];
}

/** The TZASC, the TZPC and the interrupt controller's group registers, with their lock bits. */
export interface SecurityConfigurator {
  /** Programs the configuration; throws if the controllers are locked. */
  apply(config: SecurityConfiguration): void;
  /** What the controllers hold now, read back from their registers. */
  readBack(): SecurityConfiguration;
  /** Sets the lock bits: until the next reset nothing can change the configuration. */
  lock(): void;
  isLocked(): boolean;
}

/** A warm reset of the SoC: clears both worlds, the security configuration and its lock; keeps fuses, counters, flash. */
export interface ResetControl {
  warmReset(): void;
}

/** What the ROM hands to the kernel when it jumps to it. */
export interface KernelHandoff {
  readonly bank: number;
  readonly image: ImageSummary;
  /** The kernel configuration component, hash-checked against the signed manifest. */
  readonly config: VerifiedComponent;
}

/** A trusted application, every part hash-checked against the signed manifest. */
export interface TrustedApplicationHandoff {
  readonly name: string;
  readonly manifest: VerifiedComponent;
  readonly code: VerifiedComponent;
  /** Its `ta-data` components (named `<application>/<file>`), in manifest order. */
  readonly data: readonly VerifiedComponent[];
}

/** The Normal World image, every component hash-checked against its signed manifest. */
export interface NormalWorldHandoff {
  readonly bank: number;
  readonly image: ImageSummary;
  readonly components: readonly VerifiedComponent[];
}

/** The secure-world runtime the chain starts: the kernel, then each trusted application. */
export interface SecureWorldPort {
  startKernel(handoff: KernelHandoff): void | Promise<void>;
  startTrustedApplication(app: TrustedApplicationHandoff): void | Promise<void>;
}

/** The Normal World the chain starts last, once the security configuration is locked. */
export interface NormalWorldPort {
  start(handoff: NormalWorldHandoff): void | Promise<void>;
}

/** Everything a cold boot touches. */
export interface BootDevice {
  readonly rootOfTrust: RootOfTrust;
  readonly counters: MonotonicCounters;
  readonly flash: FlashMedium;
  readonly security: SecurityConfigurator;
  readonly reset: ResetControl;
  readonly secureWorld: SecureWorldPort;
  readonly normalWorld: NormalWorldPort;
}
