/**
 * Hardware bring-up: builds the machine of a board and programs each chip's security fabric from the
 * board's declarations, through the registers, as the boot CPU in the secure world (its reset state):
 * TZASC attribute of every region, TZPC world of every peripheral, and group (the device's world),
 * priority and target CPU of every interrupt line. Lines stay disabled: enabling is the driver's business.
 * With `lock` (the default) the TZASC, TZPC and interrupt groups are then locked. Later layers put the
 * boot ROM and the kernel after this step.
 */
import { RampartError } from '../common/errors.js';
import type { Board, ChipSpec } from './board/schema.js';
import { FABRIC_KINDS } from './board/schema.js';
import type { Chip } from './chip.js';
import { Machine } from './machine.js';

export interface BringUpOptions {
  readonly seed?: number;
  /** Lock TZASC, TZPC and interrupt groups after configuring them (default true). */
  readonly lock?: boolean;
}

export function bringUp(board: Board, options: BringUpOptions = {}): Machine {
  const machine = new Machine(board, options.seed === undefined ? {} : { seed: options.seed });
  for (const spec of board.chips) programSecurityFabric(machine.chip(spec.name), spec, options.lock ?? true);
  machine.trace.record('machine', 'bring-up', { locked: options.lock ?? true });
  return machine;
}

/**
 * Programs a chip's TZASC, TZPC and interrupt routing from its board declaration, through the registers,
 * as CPU 0 (which must be in the secure world), then locks them when `lock`. Throws on any fault.
 */
export function programSecurityFabric(chip: Chip, spec: ChipSpec, lock: boolean): void {
  const cpu = chip.cpus[0];
  if (!cpu) throw new RampartError('BRING_UP', `chip ${chip.name} has no CPU`);
  const write = (device: string, offset: number, value: number) => {
    const r = chip.writeRegister(cpu, device, offset, value);
    if (!r.ok)
      throw new RampartError(
        'BRING_UP',
        `${chip.name}: writing ${device}+0x${offset.toString(16)} faulted: ${r.code} (${r.reason})`,
      );
  };
  if (chip.tzasc && chip.tzpc) {
    spec.memory.forEach((m, i) =>
      write(chip.tzasc!.name, 0x100 + 4 * i, m.security === 'non-secure' ? 1 : 0),
    );
    spec.devices
      .filter((d) => !FABRIC_KINDS.has(d.kind))
      .forEach((d, i) => write(chip.tzpc!.name, 0x100 + 4 * i, d.world === 'non-secure' ? 1 : 0));
  }
  for (const d of spec.devices) {
    if (!d.irq) continue;
    const nonSecure = chip.trustzone && d.world === 'non-secure';
    write(
      chip.gic.name,
      0x400 + 4 * d.irq.line,
      d.irq.priority | (d.irq.target << 8) | (nonSecure ? 1 << 16 : 0),
    );
  }
  if (lock) {
    if (chip.tzasc) write(chip.tzasc.name, 0x000, 1);
    if (chip.tzpc) write(chip.tzpc.name, 0x000, 1);
    write(chip.gic.name, 0x004, 1);
  }
}
