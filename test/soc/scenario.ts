/**
 * A deterministic workload over the every-device board: every device does something that depends on
 * the seed or on virtual time. Used by the determinism and snapshot tests.
 */
import {
  bringUp,
  encodeDescriptor,
  type EngineEcu,
  type Machine,
  type NorFlash,
  type Uart,
} from '../../src/soc/index.js';
import { cpu0, everyDeviceBoard, ok, regs } from './helpers.js';

export const SCENARIO_END_NS = 3_000_000_000;

/** Builds the machine and starts the workload; returns the machine and the TRNG words it read. */
export function startScenario(seed: number): { m: Machine; trng: number[] } {
  const m = bringUp(everyDeviceBoard(), { seed });
  const tz = m.chip('tz');
  const mcu = m.chip('mcu');
  const cpu = cpu0(tz);
  const r = regs(tz, cpu);
  // TRNG words into non-secure memory.
  r.write('trng', 0x004, 1);
  const trng = Array.from({ length: 16 }, () => r.read('trng', 0x008));
  trng.forEach((w, i) => ok(tz.bus.write(cpu, 0x20000000 + 4 * i, w)));
  // GPS fixes every second, with interrupts.
  r.write('gic', 0x400 + 4 * 40, 0x20 | (1 << 8) | (1 << 16) | (1 << 24));
  r.write('gps', 0x028, 1);
  r.write('gps', 0x000, 1);
  // Microphone: 0.5 s of audio into secure RAM.
  r.write('mic', 0x008, 0x10008000);
  r.write('mic', 0x00c, 16000);
  r.write('mic', 0x01c, 1);
  r.write('mic', 0x000, 1);
  // Ethernet: two frames on the LAN.
  r.write('eth', 0x010, 0x10000000);
  r.write('eth', 0x014, 4);
  r.write('eth', 0x000, 7);
  for (let i = 0; i < 2; i++) {
    const frame = new Uint8Array(64).fill(0xff);
    frame.set(
      trng.slice(0, 2).map((w) => w & 0xff),
      20,
    );
    ok(tz.bus.writeBytes(cpu, 0x10001000 + 0x100 * i, frame));
    ok(tz.bus.writeBytes(cpu, 0x10000000 + 16 * i, encodeDescriptor(0x10001000 + 0x100 * i, 64)));
  }
  r.write('eth', 0x01c, 2);
  // Flash: a torn program, then a clean erase after power-on (done by the events below).
  const flash = tz.device<NorFlash>('flash');
  flash.cutPowerAfter(1);
  flash.program(0x100, Uint8Array.from(trng.slice(0, 64).flatMap((w) => [w & 0xff, (w >>> 8) & 0xff, 0, 0])));
  flash.powerOn();
  // CAN: the engine broadcasts; the MCU's controller sends one frame per mailbox.
  m.node<EngineEcu>('engine').setSpeed(4);
  const mr = regs(mcu, cpu0(mcu));
  mr.write('can', 0x000, 1);
  mr.write('can', 0x100, 0x2e0);
  mr.write('can', 0x104, 8);
  mr.write('can', 0x108, trng[0] as number);
  mr.write('can', 0x020, 1);
  // Console input.
  tz.device<Uart>('uart').inject('hello\n');
  return { m, trng };
}

export function runScenario(seed: number): { m: Machine; trng: number[] } {
  const s = startScenario(seed);
  s.m.runUntil(SCENARIO_END_NS);
  return s;
}
