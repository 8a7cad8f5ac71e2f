import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BLOCK_NS,
  FIX_INTERVAL_NS,
  bringUp,
  type Gps,
  type Microphone,
  type Uart,
} from '../../src/soc/index.js';
import { cpu0, everyDeviceBoard, everyDeviceMachine, ok, regs } from './helpers.js';

test('UART: transmitted bytes are captured; injected bytes arrive in the RX FIFO with an interrupt', () => {
  const { tz, control } = everyDeviceMachine();
  const cpu = cpu0(tz);
  control.setWorld(cpu, 'non-secure'); // the console belongs to the Normal World
  const r = regs(tz, cpu);
  for (const b of Buffer.from('boot ok\n')) r.write('uart', 0x000, b);
  const uart = tz.device<Uart>('uart', 'uart');
  assert.equal(uart.output(), 'boot ok\n');
  const line = tz.irqOf('uart') as number;
  r.write('gic', 0x400 + 4 * line, 0x80 | (1 << 16) | (1 << 24));
  r.write('uart', 0x038, 1 << 4);
  assert.equal(r.read('uart', 0x018) & 0x10, 0x10, 'RX FIFO empty');
  uart.inject('ls\n');
  assert.equal(r.read('gic', 0x010), line);
  assert.equal(r.read('uart', 0x040), 0x10);
  const got = [0, 1, 2].map(() => r.read('uart', 0x000));
  assert.equal(Buffer.from(got).toString(), 'ls\n');
  assert.equal(r.read('uart', 0x018) & 0x10, 0x10);
  assert.equal(r.read('uart', 0x040), 0, 'status clears when drained');
});

test('GPS: one fix per virtual second, deterministic per seed, moving no faster than its limit', () => {
  const route = (seed: number) => {
    const { m, tz } = everyDeviceMachine(seed);
    const r = regs(tz, cpu0(tz));
    r.write('gps', 0x000, 1);
    const fixes: [number, number][] = [];
    for (let s = 0; s < 5; s++) {
      m.runFor(FIX_INTERVAL_NS);
      fixes.push([r.read('gps', 0x008) | 0, r.read('gps', 0x00c) | 0]);
    }
    const gps = tz.device<Gps>('gps', 'gps');
    return { fixes, count: r.read('gps', 0x01c), last: gps.fix() };
  };
  const a = route(1);
  assert.equal(a.count, 6, 'fixes at 0, 1, …, 5 s');
  assert.deepEqual(route(1).fixes, a.fixes);
  assert.notDeepEqual(route(2).fixes, a.fixes);
  assert.ok(a.last.speedMps <= 30);
  // Paris origin, at most 30 m/s for 5 s: within ~150 m (0.0014 degrees of latitude).
  for (const [lat] of a.fixes) assert.ok(Math.abs(lat / 1e7 - 48.8566) < 0.0015);
});

test('microphone: captures by DMA into its buffer, then stops and interrupts; the host can set what it hears', () => {
  const { m, tz } = everyDeviceMachine();
  const cpu = cpu0(tz);
  const r = regs(tz, cpu);
  const mic = tz.device<Microphone>('mic', 'microphone');
  mic.setSource(Int16Array.from([1000, -1000, 42]));
  const line = tz.irqOf('mic') as number;
  r.write('gic', 0x400 + 4 * line, 0x80 | (1 << 24));
  r.write('mic', 0x008, 0x10000000);
  r.write('mic', 0x00c, 1000); // 500 samples: 160 per 10 ms block, so full after 4 blocks
  r.write('mic', 0x01c, 1);
  r.write('mic', 0x000, 1);
  m.runFor(3 * BLOCK_NS);
  assert.equal(r.read('mic', 0x010), 960);
  assert.equal(r.read('mic', 0x004) & 1, 1, 'still capturing');
  m.runFor(BLOCK_NS);
  assert.equal(r.read('mic', 0x010), 1000);
  assert.equal(r.read('mic', 0x004), 2, 'full, stopped');
  assert.equal(r.read('gic', 0x010), line);
  const pcm = new Int16Array(ok(tz.bus.readBytes(cpu, 0x10000000, 12)).buffer);
  assert.deepEqual([...pcm], [1000, -1000, 42, 1000, -1000, 42]);
  assert.equal(r.tryWrite('mic', 0x00c, 999).ok, true);
  assert.equal(r.tryWrite('mic', 0x000, 1).ok, false, 'an odd buffer length is refused');
});

test('a microphone assigned to the non-secure world cannot capture into secure memory', () => {
  const m = bringUp(everyDeviceBoard(), { seed: 1, lock: false });
  const tz = m.chip('tz');
  const r = regs(tz, cpu0(tz));
  r.write('tzpc', 0x100 + 4 * tz.tzpc!.indexOf('mic'), 1);
  r.write('mic', 0x008, 0x10000000); // secure SRAM
  r.write('mic', 0x00c, 320);
  r.write('mic', 0x000, 1);
  m.runFor(BLOCK_NS);
  assert.equal(r.read('mic', 0x004), 4, 'DMA error, stopped');
  const fault = tz.bus.faults.at(-1);
  assert.equal(fault?.master, 'tz/mic');
  assert.equal(fault?.code, 'TZASC_DENIED');
  assert.deepEqual(ok(tz.bus.readBytes(cpu0(tz), 0x10000000, 320)), new Uint8Array(320));
});
