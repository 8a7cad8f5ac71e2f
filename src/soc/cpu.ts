/**
 * CPUs as bus masters. A CPU's security state (its world) and privilege level are hardware state: they
 * change only through the chip's `CpuControl`, the hook the secure monitor (SMC entry/exit) and exception
 * entry/return use, which the chip hands out exactly once. Nobody passes a world flag with an access.
 */
import { assert } from '../common/errors.js';
import type { BusMaster, Json, World } from './base.js';

export type { BusMaster } from './base.js';

/** The monitor/exception hook: the only way to change a CPU's world or privilege. */
export interface CpuControl {
  /** Secure monitor entry/exit (SMC, exception return to the other world). Only on TrustZone CPUs. */
  setWorld(cpu: Cpu, world: World): void;
  /** Exception entry (privileged) and return to unprivileged (user/thread) mode. */
  setPrivileged(cpu: Cpu, privileged: boolean): void;
}

export interface CpuSnapshot {
  readonly world: World;
  readonly privileged: boolean;
  readonly [key: string]: Json;
}

export class Cpu implements BusMaster {
  readonly kind = 'cpu' as const;
  #world: World = 'secure';
  #privileged = true;

  constructor(
    readonly name: string,
    readonly cpu: number,
    /** Whether the CPU implements the TrustZone security extensions. */
    readonly trustzone: boolean,
    readonly model: string,
  ) {}

  /** A CPU without TrustZone behaves as a secure-only processor (the Arm convention). */
  get world(): World {
    return this.#world;
  }

  get privileged(): boolean {
    return this.#privileged;
  }

  /** Power-on state: secure world, privileged. */
  reset(): void {
    this.#world = 'secure';
    this.#privileged = true;
  }

  snapshot(): CpuSnapshot {
    return { world: this.#world, privileged: this.#privileged };
  }

  restore(s: CpuSnapshot): void {
    assert(this.trustzone || s.world === 'secure', `${this.name}: no TrustZone`);
    this.#world = s.world;
    this.#privileged = s.privileged;
  }

  /** Creates the control hook for a chip's CPUs; the chip calls this once and hands it out once. */
  static control(cpus: readonly Cpu[], onChange: (cpu: Cpu) => void): CpuControl {
    const mine = new Set(cpus);
    return {
      setWorld(cpu, world) {
        assert(mine.has(cpu), `${cpu.name} is not controlled by this hook`);
        assert(cpu.trustzone, `${cpu.name} has no TrustZone: it has no non-secure state`);
        cpu.#world = world;
        onChange(cpu);
      },
      setPrivileged(cpu, privileged) {
        assert(mine.has(cpu), `${cpu.name} is not controlled by this hook`);
        cpu.#privileged = privileged;
        onChange(cpu);
      },
    };
  }
}

/** The bus-master identity of a DMA-capable device: its world is its TZPC assignment, read per access. */
export class DmaMaster implements BusMaster {
  readonly kind = 'dma' as const;
  readonly cpu = undefined;
  readonly privileged = false;

  constructor(
    readonly name: string,
    private readonly worldOf: () => World,
  ) {}

  get world(): World {
    return this.worldOf();
  }
}
