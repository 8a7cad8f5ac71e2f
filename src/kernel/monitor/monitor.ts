/**
 * The secure monitor: the only holder of the chip's CPU control (the NS bit). Whenever the runtime acts
 * for a partition — a register access, a memory copy — it first puts the CPU in that partition's world,
 * so the TZASC and TZPC check the access as the hardware would (defence in depth behind the core's
 * decision). The Normal World enters the Secure World only through the `smc` call, which the core
 * checks against the registered SMC entries; the monitor switches worlds around it.
 */
import type { Chip } from '../../soc/chip.js';
import type { Cpu, CpuControl } from '../../soc/cpu.js';
import type { World } from '../../soc/device.js';

export class Monitor {
  private readonly control: CpuControl;
  readonly cpu: Cpu;
  private switches = 0;

  constructor(readonly chip: Chip) {
    this.control = chip.takeCpuControl();
    const cpu = chip.cpus[0];
    if (!cpu) throw new Error(`chip ${chip.name} has no CPU`);
    this.cpu = cpu;
  }

  /** Puts the CPU in `world` (a no-op on chips without TrustZone). */
  enter(world: World): Cpu {
    if (this.chip.trustzone && this.cpu.world !== world) {
      this.control.setWorld(this.cpu, world);
      this.switches++;
    }
    return this.cpu;
  }

  /** World switches so far (each SMC entry and exit is two). */
  get worldSwitches(): number {
    return this.switches;
  }
}
