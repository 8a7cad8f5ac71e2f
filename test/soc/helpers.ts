/** Shared helpers of the SoC tests: fixture boards and register access that fails loudly. */
import assert from 'node:assert/strict';
import { packagePath } from '../../src/common/paths.js';
import {
  bringUp,
  loadBoardFile,
  type Board,
  type BusResult,
  type Chip,
  type Cpu,
  type CpuControl,
  type Machine,
} from '../../src/soc/index.js';

export function fixturePath(...parts: string[]): string {
  return packagePath('test', 'fixtures', 'boards', ...parts);
}

export function everyDeviceBoard(): Board {
  return loadBoardFile(fixturePath('every-device.yaml')).board;
}

/** A brought-up every-device machine, with the CPU control hooks of its chips taken. */
export function everyDeviceMachine(seed = 1): {
  m: Machine;
  tz: Chip;
  mcu: Chip;
  control: CpuControl;
  mcuControl: CpuControl;
} {
  const m = bringUp(everyDeviceBoard(), { seed });
  const tz = m.chip('tz');
  const mcu = m.chip('mcu');
  return { m, tz, mcu, control: tz.takeCpuControl(), mcuControl: mcu.takeCpuControl() };
}

export function ok<T>(r: BusResult<T>, what = 'access'): T {
  if (!r.ok) assert.fail(`${what} faulted: ${r.code} (${r.reason})`);
  return r.value;
}

/** Register helpers bound to one chip and CPU. */
export function regs(chip: Chip, cpu: Cpu) {
  return {
    read: (device: string, offset: number) =>
      ok(chip.readRegister(cpu, device, offset), `read ${device}+0x${offset.toString(16)}`),
    write: (device: string, offset: number, v: number) =>
      ok(chip.writeRegister(cpu, device, offset, v), `write ${device}+0x${offset.toString(16)}`),
    tryRead: (device: string, offset: number) => chip.readRegister(cpu, device, offset),
    tryWrite: (device: string, offset: number, v: number) => chip.writeRegister(cpu, device, offset, v),
  };
}

export function cpu0(chip: Chip): Cpu {
  const c = chip.cpus[0];
  assert.ok(c);
  return c;
}
